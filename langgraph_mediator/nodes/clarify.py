"""clarify: ask one targeted question and end the turn.

Runs only when the turn is underspecified under the configured policy and the
per-task budget allows; asking too much is a failure too (CollabLLM,
QuestBench). The turn's requirements still enter the ledger, and the user's
next message is read as the answer to the question.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage

from langgraph_mediator.state import MediatorContext, MediatorReading, MediatorState, apply_reading


def wants_clarification(context: MediatorContext, reading: MediatorReading, asked: int) -> bool:
    """Whether this turn should end with a question (pure: policy, reading and budget)."""
    if context.clarification_policy == "never" or asked >= context.max_questions_per_task:
        return False
    if reading.feedback == "confirmation":
        return False
    if context.clarification_policy == "always":
        return True
    return bool(reading.missing_information)


def question_for(reading: MediatorReading) -> str:
    """The model's question, or one built from what it reported missing."""
    if reading.clarifying_question.strip():
        return reading.clarifying_question.strip()
    if reading.missing_information:
        return f"Before I start: could you tell me {reading.missing_information[0].rstrip('?.')}?"
    goal = reading.goal.rstrip(".")
    return f"Before I start on this ({goal}), is there anything else I should know?"


async def clarify(state: MediatorState) -> dict[str, Any]:
    """Record the turn's requirements, then ask the question as the turn's reply."""
    reading = MediatorReading.from_state(state["reading"] or {})
    ledger, delta = apply_reading(
        state.get("ledger", []), reading, turn=state["turn"], task=state["task_number"]
    )
    question = question_for(reading)
    return {
        "messages": [AIMessage(question, name="mediator")],
        "ledger": ledger,
        "ledger_delta": delta,
        "pending_question": question,
        "questions_asked": state.get("questions_asked", 0) + 1,
    }
