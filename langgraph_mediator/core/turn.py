"""The thread's bookkeeping around a turn: turn and task numbers, budget, intent, answers.

Pure: from the state before the turn and the turn's settled reading, the state
update that every later step of the turn works from (:func:`opening_update`);
and, once the Assistant answered, the update that keeps its answer
(:func:`answer_update`).
"""

from __future__ import annotations

from typing import Any

from langgraph_mediator.core.policy import wants_clarification
from langgraph_mediator.core.reading import TurnReading
from langgraph_mediator.core.tasks import move_task, thread_tasks
from langgraph_mediator.errors import ThreadOwnershipError
from langgraph_mediator.state.context import MediatorContext
from langgraph_mediator.state.mediator import (
    AnswerRecord,
    AskedQuestion,
    Intent,
    MediatorState,
    ModelCall,
    TurnUsage,
)
from langgraph_mediator.state.reading import UNCHANGING, MediatorReading


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
    """The intent after this turn: the goal refined, or kept when the reading leaves it empty."""
    unchanged = reading.feedback in UNCHANGING
    # An empty goal in a reading means "unchanged", not "no goal".
    if previous is not None and (unchanged or not reading.goal.strip()):
        goal = previous["goal"]
    else:
        # A task always has a goal: with none read, the user's own message is it.
        goal = reading.goal.strip() or message
    if previous is not None and unchanged:
        # A confirmation or a continuation answers nothing: the details still open stay open.
        missing = list(previous["missing_information"])
        assumable = list(previous.get("assumable_details", []))
    else:
        # Any other reading lists what is open after this message, so its list replaces the old.
        missing, assumable = list(reading.missing_information), list(reading.assumable_details)
    return Intent(
        task_type=reading.task_type.strip() or (previous["task_type"] if previous else "general"),
        goal=goal,
        missing_information=missing,
        assumable_details=assumable,
    )


def opening_update(
    state: MediatorState, read: TurnReading, message: str, context: MediatorContext
) -> dict[str, Any]:
    """The state update that opens a turn, once its message is read (pure).

    Counts the turn, moves to the task the reading names (a new one, or an
    earlier one gone back to), records the message as the reply to an open
    question, stores the reading and the new intent, decides whether to ask,
    and starts the turn's usage record.
    """
    reading = read.reading
    turn = state.get("turn", 0) + 1
    move = move_task(state, reading, turn)
    # The next message is the reply even when it passes over the question: either way the
    # question is closed, and the policy never asks it again.
    questions = replied(state.get("questions", []), message)
    moved = {**state, "questions": questions, "task_number": move.number}
    # A new task starts its question budget afresh.
    open_questions = [] if move.opened else task_questions(moved)  # type: ignore[arg-type]
    same_task = move.number == state.get("task_number", 0) and not move.opened
    # Back in an earlier task, the budget is what that task spent: moving between tasks
    # never buys more questions.
    asked = state.get("questions_asked", 0) if same_task else len(open_questions)
    # Never ask on a fallback: a question about a message the Mediator could not read is
    # noise. The task's earlier questions go along so none is asked twice.
    should_clarify = read.fallback is None and wants_clarification(
        context, reading, asked, open_questions
    )
    intent = next_intent(move.previous_intent, reading, message)
    tasks = [{**t, "intent": intent} if t["number"] == move.number else t for t in move.tasks]
    return {
        "user_id": context.user_id,
        "turn": turn,
        "task_number": move.number,
        "tasks": tasks,
        "questions_asked": asked,
        "reading": reading.model_dump(),
        "intent": intent,
        "should_clarify": should_clarify,
        "pending_question": None,
        "questions": questions,
        "mediator_notes": read.notes,
        "turn_usage": TurnUsage(turn=turn, calls=read.calls, fallback=read.fallback),
    }


def answer_update(state: MediatorState, answer: str) -> dict[str, Any]:
    """The state update that keeps the Assistant's answer: verbatim, by turn, its task answered."""
    turn, task = state.get("turn", 0), state.get("task_number", 0)
    tasks = [
        {**t, "answered_turn": turn} if t["number"] == task else t for t in thread_tasks(state)
    ]
    record = AnswerRecord(turn=turn, task=task, text=answer)
    # Answers are named by turn (A4): a turn answered again replaces its answer, so a label
    # always names one text.
    kept = [a for a in state.get("answers", []) if a["turn"] != turn]
    return {"last_answer": answer, "answers": [*kept, record], "tasks": tasks}


def add_calls(usage: TurnUsage | None, turn: int, calls: list[ModelCall]) -> TurnUsage:
    """The turn's usage record with ``calls`` appended (a fresh record if the turn has none)."""
    current = usage or TurnUsage(turn=turn, calls=[], fallback=None)
    return TurnUsage(
        turn=current["turn"], calls=[*current["calls"], *calls], fallback=current["fallback"]
    )
