"""The Mediator's three steps over a thread's state, shared by every shell.

The mediator graph runs them as nodes (``detect_intent``, ``clarify``,
``classify_feedback``); :class:`~langgraph_mediator.middleware.MediatorMiddleware`
runs them inside a ``create_agent`` agent. Both get the same updates, so
there is one implementation of reading, ledger, policy and instruction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langgraph.store.base import BaseStore

from langgraph_mediator.core.instruction import build_instruction
from langgraph_mediator.core.ledger import active_requirements, record_reading, refreshed_goal
from langgraph_mediator.core.messages import pending_user_text, validate_user_message
from langgraph_mediator.core.policy import question_for
from langgraph_mediator.core.reading import READING_STEP, aread_message, read_message
from langgraph_mediator.core.turn import opening_update, task_questions
from langgraph_mediator.guidelines import aload_guidelines, load_guidelines
from langgraph_mediator.state.context import MediatorContext
from langgraph_mediator.state.mediator import AskedQuestion, Intent, MediatorState
from langgraph_mediator.state.reading import reading_of

ModelSource = Callable[[], BaseChatModel]
"""How a step gets the Mediator's model: only once the message passed (it may start a server)."""
AsyncModelSource = Callable[[], Awaitable[BaseChatModel]]
""":data:`ModelSource` for the async step (the model is built off the event loop)."""


def open_turn(
    state: MediatorState,
    model: ModelSource,
    context: MediatorContext,
    store: BaseStore | None,
    step: str = READING_STEP,
) -> dict[str, Any]:
    """Read the pending user message against the thread: the update that opens the turn.

    The message is validated before the model is asked for, so a bad message
    starts nothing (not even the embedded model server). ``step`` labels the
    Mediator call's usage record. :func:`aopen_turn` is the async form.

    Raises:
        InvalidMessageError: the pending message is empty, too long or not text.

    """
    message = _pending_message(state, context)
    guidelines = load_guidelines(store, context.user_id)
    read = read_message(model(), state, message, guidelines, context, step)
    return opening_update(state, read, message, context)


async def aopen_turn(
    state: MediatorState,
    model: AsyncModelSource,
    context: MediatorContext,
    store: BaseStore | None,
    step: str = READING_STEP,
) -> dict[str, Any]:
    """:func:`open_turn`, awaiting the store, the model's build and the model."""
    message = _pending_message(state, context)
    # Neither waits on the other: the store read runs while the model is built (or found).
    guidelines, mediator = await asyncio.gather(aload_guidelines(store, context.user_id), model())
    read = await aread_message(mediator, state, message, guidelines, context, step)
    return opening_update(state, read, message, context)


def _pending_message(state: MediatorState, context: MediatorContext) -> str:
    return validate_user_message(
        pending_user_text(state["messages"]), max_chars=context.max_message_chars
    )


def ledger_update(state: MediatorState) -> dict[str, Any]:
    """The turn's reading applied to the ledger, and the goal checked against its changes."""
    update = record_reading(state)
    intent = state.get("intent")
    if intent is None:
        return update
    goal, notes = refreshed_goal(intent["goal"], update["ledger"], update["ledger_delta"])
    if notes:
        update["intent"] = {**intent, "goal": goal}
        update["mediator_notes"] = [*state.get("mediator_notes", []), *notes]
    return update


def clarification_update(state: MediatorState) -> dict[str, Any]:
    """Record the turn's requirements and ask its one question (the Mediator's reply).

    The question is the one the policy chose (:func:`~.policy.question_for`
    over the task's earlier questions); it joins ``questions`` with no reply yet.
    """
    reading = reading_of(state)
    chosen = question_for(reading, task_questions(state)) if reading else None
    if chosen is None:
        raise ValueError("clarification_update needs a question the task has not asked yet")
    asked = AskedQuestion(
        turn=state["turn"],
        task=state.get("task_number", 0),
        question=chosen.text,
        details=chosen.details,
        reply=None,
    )
    return {
        **ledger_update(state),
        "messages": [AIMessage(chosen.text, name="mediator")],
        "pending_question": chosen.text,
        "questions_asked": state.get("questions_asked", 0) + 1,
        "questions": [*state.get("questions", []), asked],
    }


CONTINUE_REPLY = "Go on, I'm listening."
"""The Mediator's reply to a continuation: the Assistant is not asked until there is more."""


def continuation_update(state: MediatorState) -> dict[str, Any]:
    """End a turn the user continues ("wait, there's more"): the ledger as is, an acknowledgement.

    The instruction is cleared, so nothing reads the last turn's as this one's.
    """
    return {
        **ledger_update(state),
        "messages": [AIMessage(CONTINUE_REPLY, name="mediator")],
        "instruction": "",
    }


NextStep = Literal["clarify", "wait", "instruct"]
"""What ends a read turn: a question, an acknowledgement that more is coming, or the Assistant."""


def next_step(state: Mapping[str, Any]) -> NextStep:
    """The one decision every shell follows once a turn is read (pure).

    Ask when the turn is underspecified under the policy (``should_clarify``,
    set when the turn was opened); wait when the user said more is coming;
    otherwise write the instruction for the Assistant.
    """
    if state.get("should_clarify"):
        return "clarify"
    reading = reading_of(state)
    return "wait" if reading is not None and reading.feedback == "continuation" else "instruct"


def instruction_update(state: MediatorState) -> dict[str, Any]:
    """Apply the reading's feedback to the ledger and write the explicit instruction."""
    opened = state.get("intent")
    if opened is None:
        raise ValueError("instruction_update needs the turn opened (open_turn sets the intent)")
    update = ledger_update(state)
    intent: Intent = update.get("intent", opened)
    requirements = active_requirements(update["ledger"], state.get("task_number", 0))
    return {**update, "instruction": build_instruction(intent, requirements)}
