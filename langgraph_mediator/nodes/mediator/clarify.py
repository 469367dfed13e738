"""clarify: ask one targeted question, then end the turn or pause for the answer.

Runs only when the turn is underspecified under the configured policy and the
per-task budget allows; asking too much is a failure too (CollabLLM,
QuestBench). The turn's requirements still enter the ledger. In ``end_turn``
mode the question is the turn's reply and the user's next message is read as
the answer; in ``interrupt`` mode the run pauses with ``interrupt()`` and,
resumed with ``Command(resume=answer)``, goes back to ``detect_intent`` with
the answer as the next user message.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from langgraph_mediator.core import clarification_update, validate_user_message
from langgraph_mediator.state import MediatorContext, MediatorState, reading_of


def answer_text(resume: object) -> object:
    """The user's answer from a resume value: the text itself or ``{"answer": text}``."""
    return resume.get("answer") if isinstance(resume, dict) else resume


def clarify(state: MediatorState, runtime: Runtime[MediatorContext]) -> dict[str, Any]:
    """Record the turn's requirements, then ask the question (as the reply, or paused).

    Raises:
        InvalidMessageError: ``interrupt`` mode resumed with an empty, oversized
            or non-text answer (:class:`~langgraph_mediator.MediatorSession`
            validates it before resuming, so nothing is written).

    """
    context = MediatorContext.for_run(runtime)
    update = clarification_update(state)
    if context.clarification_mode == "interrupt":
        # Everything above is pure, so re-running it when the run resumes is harmless.
        reading = reading_of(state)
        resume = interrupt(
            {
                "question": update["pending_question"],
                "missing_information": list(reading.missing_information) if reading else [],
                "turn": state["turn"],
            }
        )
        answer = validate_user_message(answer_text(resume), max_chars=context.max_message_chars)
        update["messages"] = [*update["messages"], HumanMessage(answer)]
    return update
