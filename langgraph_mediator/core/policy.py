"""When the Mediator asks, and what it asks: the clarification policy.

Asking too little lets the Assistant assume; asking too much fails too
(CollabLLM, QuestBench). The configured policy (``never`` / ``when_missing`` /
``always``) and the per-task budget decide; nothing else does.
"""

from __future__ import annotations

from langgraph_mediator.state.context import MediatorContext
from langgraph_mediator.state.reading import MediatorReading


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
