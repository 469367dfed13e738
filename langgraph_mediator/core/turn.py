"""The thread's bookkeeping when a turn has been read: turn and task numbers, budget, intent.

Pure: from the state before the turn and the turn's settled reading, the state
update that every later step of the turn works from.
"""

from __future__ import annotations

from typing import Any

from langgraph_mediator.core.policy import wants_clarification
from langgraph_mediator.core.reading import TurnReading
from langgraph_mediator.errors import ThreadOwnershipError
from langgraph_mediator.state.context import MediatorContext
from langgraph_mediator.state.mediator import (
    AskedQuestion,
    Intent,
    MediatorState,
    ModelCall,
    TurnUsage,
)
from langgraph_mediator.state.reading import MediatorReading


def check_thread_owner(values: dict[str, Any], user_id: str, thread_id: str | None) -> None:
    """Refuse a turn by ``user_id`` on a thread another user started (before anything is read).

    Raises:
        ThreadOwnershipError: the thread's ``user_id`` is someone else's.

    """
    owner = values.get("user_id")
    if owner is not None and owner != user_id:
        thread = f"Thread {thread_id!r}" if thread_id else "This thread"
        raise ThreadOwnershipError(f"{thread} belongs to another user; start a new thread.")


def task_questions(state: MediatorState, task: int | None = None) -> list[AskedQuestion]:
    """The questions asked so far in ``task`` (default: the thread's current task)."""
    number = state.get("task_number", 0) if task is None else task
    return [q for q in state.get("questions", []) if q["task"] == number]


def replied(questions: list[AskedQuestion], message: str) -> list[AskedQuestion]:
    """``questions`` with ``message`` recorded as the reply to the one still open, if any."""
    return [q if q["reply"] is not None else {**q, "reply": message} for q in questions]


def next_intent(previous: Intent | None, reading: MediatorReading, message: str) -> Intent:
    """The intent after this turn: a confirmation or continuation keeps the goal, else refined."""
    keeps_goal = reading.feedback in ("confirmation", "continuation")
    if previous is not None and (keeps_goal or not reading.goal.strip()):
        goal = previous["goal"]
    else:
        goal = reading.goal.strip() or message
    return Intent(
        task_type=reading.task_type.strip() or (previous["task_type"] if previous else "general"),
        goal=goal,
        missing_information=list(reading.missing_information),
        assumable_details=list(reading.assumable_details),
    )


def begin_turn(
    state: MediatorState, read: TurnReading, message: str, context: MediatorContext
) -> dict[str, Any]:
    """The state update that opens a turn.

    Counts the turn (and the task, on ``new_task``, which also resets the
    question budget), records the message as the reply to an open question,
    stores the reading and the new intent, decides whether to ask (never on a
    fallback: a question about a message the Mediator could not read would be
    noise; never a question asked before), and starts the turn's usage record.
    """
    reading = read.reading
    new_task = reading.feedback == "new_task"
    asked = 0 if new_task else state.get("questions_asked", 0)
    turn = state.get("turn", 0) + 1
    questions = replied(state.get("questions", []), message)
    open_questions = [] if new_task else task_questions({**state, "questions": questions})
    should_clarify = read.fallback is None and wants_clarification(
        context, reading, asked, open_questions
    )
    return {
        "user_id": context.user_id,
        "turn": turn,
        "task_number": state.get("task_number", 0) + int(new_task),
        "questions_asked": asked,
        "reading": reading.model_dump(),
        "intent": next_intent(state.get("intent"), reading, message),
        "should_clarify": should_clarify,
        "pending_question": None,
        "questions": questions,
        "mediator_notes": read.notes,
        "turn_usage": TurnUsage(turn=turn, calls=read.calls, fallback=read.fallback),
    }


def add_calls(usage: TurnUsage | None, turn: int, calls: list[ModelCall]) -> TurnUsage:
    """The turn's usage record with ``calls`` appended (a fresh record if the turn has none)."""
    current = usage or TurnUsage(turn=turn, calls=[], fallback=None)
    return TurnUsage(turn=current["turn"], calls=[*current["calls"], *calls],
                     fallback=current["fallback"])  # fmt: skip
