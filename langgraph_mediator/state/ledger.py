"""The requirement ledger: what the user has asked for, and what replaced what.

Pure functions over plain dicts (they live in checkpoints and in Studio's state
panel). A correction supersedes exactly the requirements it names; a
confirmation changes nothing; new information adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NotRequired

from typing_extensions import TypedDict

from langgraph_mediator.state.reading import FeedbackKind, MediatorReading

RequirementStatus = Literal["active", "superseded", "retracted"]


class Requirement(TypedDict):
    """One requirement, as the user stated it (made explicit by the Mediator)."""

    id: str
    text: str
    turn: int
    task: int
    status: RequirementStatus
    superseded_by: NotRequired[str | None]
    reason: NotRequired[str]


class LedgerDelta(TypedDict):
    """What one turn did to the ledger, for display and for benchmarks."""

    feedback: FeedbackKind
    added: list[str]
    superseded: list[str]
    retracted: list[str]
    ignored: list[str]


def active_requirements(ledger: Sequence[Requirement], task: int) -> list[Requirement]:
    """The requirements of ``task`` still in force, in the order they were given."""
    return [r for r in ledger if r["task"] == task and r["status"] == "active"]


def _normalise(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".")


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

    def add(text: str) -> str | None:
        text = text.strip()
        known = {_normalise(r["text"]) for r in active_requirements(new_ledger, task)}
        if not text or _normalise(text) in known:
            return None
        req_id = f"R{len(new_ledger) + 1}"
        new_ledger.append(Requirement(id=req_id, text=text, turn=turn, task=task, status="active"))
        delta["added"].append(req_id)
        return req_id

    if reading.feedback == "correction":
        by_id = {r["id"]: r for r in active_requirements(new_ledger, task)}
        for change in reading.changes:
            target = by_id.pop(change.requirement_id.strip(), None)
            if target is None:
                delta["ignored"].append(change.requirement_id)
                continue
            if change.action == "supersede" and change.replacement.strip():
                target["status"] = "superseded"
                target["superseded_by"] = add(change.replacement)
                delta["superseded"].append(target["id"])
            else:
                target["status"] = "retracted"
                delta["retracted"].append(target["id"])
            target["reason"] = change.reason
    for text in reading.new_requirements:
        add(text)
    return new_ledger, delta


def format_ledger(requirements: Sequence[Requirement]) -> str:
    """Render requirements one per line as ``[R3] text`` for prompts."""
    return "\n".join(f"[{r['id']}] {r['text']}" for r in requirements) or "(none yet)"
