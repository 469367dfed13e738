"""The thread's tasks: which one a turn is about, and the records of the others.

A thread holds several requests. Each is a task (``T1``, ``T2``...) with its
own requirements; the current one is in the live instruction, the others stay
in the record. A reading may open a new task, build a new one on an earlier
one (its requirements carry over), or go back to an earlier one (it is current
again, as it was left).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langgraph_mediator.state.mediator import Intent, MediatorState, TaskRecord
from langgraph_mediator.state.reading import MediatorReading

_TASK_LABEL = re.compile(r"^\s*T(\d{1,4})\s*$", re.IGNORECASE)


def task_label(number: int) -> str:
    """How the Mediator names task ``number``: ``T<number>``."""
    return f"T{number}"


def thread_tasks(state: MediatorState) -> list[TaskRecord]:
    """The thread's task records (a thread saved before they were kept gets its current one)."""
    tasks = state.get("tasks")
    if tasks:
        return list(tasks)
    intent, number = state.get("intent"), state.get("task_number", 0)
    if intent is None or number == 0:
        return []
    return [TaskRecord(number=number, intent=intent, turn=1, answered_turn=None, builds_on=None)]


def earlier_task(
    tasks: list[TaskRecord], label: str, current: int, *, new_task: bool = False
) -> TaskRecord | None:
    """The earlier task ``label`` (``T2``) names, or ``None`` when it names none.

    Going back is to another task than the current one; a new task may build
    on any, the one it follows included.
    """
    found = _TASK_LABEL.match(label)
    number = int(found.group(1)) if found else -1
    return next(
        (t for t in tasks if t["number"] == number and (new_task or number != current)), None
    )


@dataclass(frozen=True)
class TaskMove:
    """Which task a turn's reading leaves the thread in, and the thread's task records after it."""

    number: int
    previous_intent: Intent | None
    """The intent the reading refines: the current task's, or the one gone back to."""
    tasks: list[TaskRecord]
    opened: bool
    """Whether the turn opens a new task (its questions budget starts afresh)."""


def move_task(state: MediatorState, reading: MediatorReading, turn: int) -> TaskMove:
    """Where the reading takes the thread: the same task, a new one, or back to an earlier one."""
    tasks, current, intent = thread_tasks(state), state.get("task_number", 0), state.get("intent")
    if intent is not None:
        # The task left keeps its intent in its record, so going back to it finds its goal
        # and open details as they were.
        tasks = [{**t, "intent": intent} if t["number"] == current else t for t in tasks]
    new_task = reading.feedback == "new_task"
    named = earlier_task(tasks, reading.earlier_task, current, new_task=new_task)
    if new_task:
        # Never a number used before: ``T3`` names one task for the thread's whole life.
        number = max((t["number"] for t in tasks), default=current) + 1
        builds_on = named["number"] if named else None
        record = TaskRecord(
            number=number,
            intent=Intent(task_type="", goal="", missing_information=[]),
            turn=turn,
            answered_turn=None,
            builds_on=builds_on,
        )
        return TaskMove(number, None, [*tasks, record], opened=True)
    if named is not None:
        # Going back: the reading refines that task's intent, not the one just left.
        return TaskMove(named["number"], named["intent"], tasks, opened=False)
    return TaskMove(current, intent, tasks, opened=False)
