"""The requirement ledger: what the user has asked for, and what replaced what.

Pure functions over plain dicts (they live in checkpoints and in Studio's state
panel). A correction supersedes exactly the requirements it names; a
confirmation changes nothing; new information adds. :func:`record_reading` is
the one place a turn's reading enters the ledger, whichever node ends the turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph_mediator.state.mediator import LedgerDelta, MediatorState, Requirement
from langgraph_mediator.state.reading import MediatorReading, RequirementChange
from langgraph_mediator.text import comparison_key


def active_requirements(ledger: Sequence[Requirement], task: int) -> list[Requirement]:
    """The requirements of ``task`` still in force, in the order they were given."""
    return [r for r in ledger if r["task"] == task and r["status"] == "active"]


def apply_reading(
    ledger: Sequence[Requirement],
    reading: MediatorReading,
    *,
    turn: int,
    task: int,
) -> tuple[list[Requirement], LedgerDelta]:
    """Apply one turn's reading to the ledger of ``task``; return the new ledger and its delta.

    ``task`` is the task number *after* the turn (callers bump it on ``new_task``).
    Changes are honoured only for a correction, and only against active
    requirements of the current task: an id the model invents is recorded as
    ignored rather than guessed at.
    """
    new_ledger: list[Requirement] = [dict(r) for r in ledger]  # type: ignore[misc]
    delta = LedgerDelta(
        feedback=reading.feedback, added=[], superseded=[], retracted=[], ignored=[]
    )
    if reading.feedback == "confirmation":
        return new_ledger, delta
    if reading.feedback == "correction":
        _apply_changes(new_ledger, delta, reading.changes, turn=turn, task=task)
    for text in reading.new_requirements:
        _add(new_ledger, delta, text, turn=turn, task=task)
    return new_ledger, delta


def _add(
    ledger: list[Requirement], delta: LedgerDelta, text: str, *, turn: int, task: int
) -> str | None:
    """Append ``text`` as a new active requirement unless it is empty or already in force."""
    text = text.strip()
    known = {comparison_key(r["text"]) for r in active_requirements(ledger, task)}
    if not text or comparison_key(text) in known:
        return None
    req_id = f"R{len(ledger) + 1}"
    ledger.append(Requirement(id=req_id, text=text, turn=turn, task=task, status="active"))
    delta["added"].append(req_id)
    return req_id


def _apply_changes(
    ledger: list[Requirement],
    delta: LedgerDelta,
    changes: Sequence[RequirementChange],
    *,
    turn: int,
    task: int,
) -> None:
    """Supersede or retract the active requirements a correction names (each at most once)."""
    by_id = {r["id"]: r for r in active_requirements(ledger, task)}
    for change in changes:
        target = by_id.pop(change.requirement_id.strip(), None)
        if target is None:
            delta["ignored"].append(change.requirement_id)
            continue
        if change.action == "supersede" and change.replacement.strip():
            target["status"] = "superseded"
            target["superseded_by"] = _add(ledger, delta, change.replacement, turn=turn, task=task)
            delta["superseded"].append(target["id"])
        else:
            target["status"] = "retracted"
            delta["retracted"].append(target["id"])
        target["reason"] = change.reason


def record_reading(state: MediatorState) -> dict[str, Any]:
    """The state update that applies the turn's stored reading to the thread's ledger."""
    reading = MediatorReading.from_state(state.get("reading") or {})
    ledger, delta = apply_reading(
        state.get("ledger", []), reading, turn=state["turn"], task=state["task_number"]
    )
    return {"ledger": ledger, "ledger_delta": delta}


def format_ledger(requirements: Sequence[Requirement]) -> str:
    """Render requirements one per line as ``[R3] text`` for prompts."""
    return "\n".join(f"[{r['id']}] {r['text']}" for r in requirements) or "(none yet)"
