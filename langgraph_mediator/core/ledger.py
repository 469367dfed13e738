"""The requirement ledger: what the user has asked for, and what replaced what.

Pure functions over plain dicts (they live in checkpoints and in Studio's state
panel). A correction supersedes exactly the requirements it names; a
confirmation changes nothing; new information adds. :func:`record_reading` is
the one place a turn's reading enters the ledger, whichever node ends the turn.

Each entry has a scope: most hold for their task, and leave the live
instruction when the thread moves to another task (they stay in the ledger, so
going back to that task, or building on it, brings them back); what the user
said for the whole thread (``scope="thread"``: a format, a persona, a fact
about themselves) is in force in every task until withdrawn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from langgraph_mediator.core.material import message_blocks
from langgraph_mediator.core.messages import pending_user_text
from langgraph_mediator.core.sources import source_of
from langgraph_mediator.state.mediator import (
    AnswerRecord,
    LedgerDelta,
    MediatorState,
    Requirement,
    RequirementKind,
    RequirementScope,
)
from langgraph_mediator.state.reading import (
    UNCHANGING,
    FeedbackKind,
    MediatorReading,
    RequirementChange,
    reading_of,
)
from langgraph_mediator.text import comparison_key, content_words


def active_requirements(ledger: Sequence[Requirement], task: int) -> list[Requirement]:
    """What is in force for ``task``, in the order it was given: the thread's and the task's."""
    return [r for r in ledger if r["status"] == "active" and (r["task"] == task or is_standing(r))]


def is_standing(requirement: Requirement) -> bool:
    """Whether ``requirement`` holds for the whole thread (until withdrawn), not one task."""
    return requirement.get("scope") == "thread"


def in_force(ledger: Sequence[Requirement], task: int, text: str) -> bool:
    """Whether ``text`` (compared normalised) is already in force for ``task``."""
    key = comparison_key(text)
    return any(comparison_key(r["text"]) == key for r in active_requirements(ledger, task))


ANSWER_LABEL = re.compile(r"^\s*A(\d{1,4})\s*$", re.IGNORECASE)


def answer_label(turn: int) -> str:
    """How the Mediator names the Assistant's answer of ``turn``: ``A<turn>``."""
    return f"A{turn}"


def answer_at(answers: Sequence[AnswerRecord], label: str) -> AnswerRecord | None:
    """The answer ``label`` (``A4``) names, or ``None`` when there is no such answer."""
    found = ANSWER_LABEL.match(label)
    turn = int(found.group(1)) if found else -1
    return next((a for a in answers if a["turn"] == turn), None)


def apply_reading(
    ledger: Sequence[Requirement],
    reading: MediatorReading,
    *,
    turn: int,
    task: int,
    message: str = "",
    answers: Sequence[AnswerRecord] = (),
    builds_on: int | None = None,
) -> tuple[list[Requirement], LedgerDelta]:
    """Apply one turn's reading to the ledger of ``task``; return the new ledger and its delta.

    ``task`` is the current task *after* the turn (the caller opens a new one
    on ``new_task``, or goes back to an earlier one). ``message`` is the turn's
    user message: each requirement keeps the sentence of it that it was read
    from (``source``); the blocks the reading names as material enter verbatim
    (``kind="material"``), as do the earlier ``answers`` it names (``kind="answer"``).
    """
    new_ledger: list[Requirement] = [dict(r) for r in ledger]  # type: ignore[misc]
    delta = LedgerDelta(
        feedback=reading.feedback, added=[], superseded=[], retracted=[], ignored=[]
    )
    entry = _Entry(new_ledger, delta, turn=turn, task=task, message=message)
    # A task built on an earlier one starts from that task's requirements in force.
    if builds_on is not None and reading.feedback == "new_task":
        _carry_over(entry, builds_on)
    # Changes apply whatever the feedback label: a model that names a change under
    # "new_information" still means it (settle_reading notes the disagreement).
    _apply_changes(entry, reading.changes)
    # A confirmation or a continuation says the ledger is right as it stands: nothing to add.
    if reading.feedback in UNCHANGING:
        return new_ledger, delta
    for text in reading.standing:
        entry.add(text, scope="thread")  # said for the whole thread: in force in every task
    for text in reading.new_requirements:
        entry.add(text)
    _add_answers(entry, reading.answers, answers)
    # Material is the message's own blocks, named by label: the model never re-types it.
    wanted = set(reading.material)
    for block in message_blocks(message) if wanted else []:
        if block.label in wanted:
            entry.add(block.text, kind="material")
    return new_ledger, delta


@dataclass
class _Entry:
    """One turn's writes to the ledger: where they go and what they are read from."""

    ledger: list[Requirement]
    delta: LedgerDelta
    turn: int
    task: int
    message: str

    def add(
        self,
        text: str,
        *,
        after: Requirement | None = None,
        kind: RequirementKind = "requirement",
        scope: RequirementScope = "task",
        **extra: Any,
    ) -> str | None:
        """Add ``text`` as a new active requirement unless it is empty or already in force.

        A replacement goes right after the requirement it replaces (``after``),
        so a corrected fact keeps its place in the instruction; anything else
        is appended. Material and answers are kept exactly as they were written.
        """
        if kind == "requirement":
            text = text.strip()
        # Said again, a requirement in force is not a new one.
        if not text.strip() or in_force(self.ledger, self.task, text):
            return None
        req_id = f"R{len(self.ledger) + 1}"
        added = Requirement(id=req_id, text=text, turn=self.turn, task=self.task, status="active")
        if kind != "requirement":
            added["kind"] = kind
        # A copy carries the source it was read from; this turn's message did not give it.
        elif self.message.strip() and "copied_from" not in extra:
            added["source"] = source_of(text, self.message)
        if scope == "thread":
            added["scope"] = "thread"
        added.update(extra)  # type: ignore[typeddict-item]
        position = self.ledger.index(after) + 1 if after is not None else len(self.ledger)
        self.ledger.insert(position, added)
        self.delta["added"].append(req_id)
        return req_id


def _carry_over(entry: _Entry, earlier: int) -> None:
    """Carry the task-only requirements and material in force of task ``earlier`` into the new one.

    Not the earlier answers that task was handed: they were the work of that
    request, and a new one names the answers it builds on itself.
    """
    for old in [r for r in entry.ledger if r["task"] == earlier and r["status"] == "active"]:
        if is_standing(old) or old.get("kind") == "answer":
            continue  # in force in the new task already, or that task's own material
        extra: dict[str, Any] = {"copied_from": old["id"]}
        extra |= {k: v for k, v in old.items() if k == "source"}
        entry.add(old["text"], kind=old.get("kind", "requirement"), **extra)


def _add_answers(entry: _Entry, labels: Sequence[str], answers: Sequence[AnswerRecord]) -> None:
    """The earlier answers the reading names, verbatim; a label naming none is ignored."""
    for label in dict.fromkeys(labels):
        found = answer_at(answers, label)
        if found is None:
            entry.delta["ignored"].append(label)
            continue
        entry.add(found["text"], kind="answer", answer_turn=found["turn"])


def _apply_changes(entry: _Entry, changes: Sequence[RequirementChange]) -> None:
    """Supersede, refine or retract the requirements in force the reading names (each once)."""
    in_force_now = active_requirements(entry.ledger, entry.task)
    by_id = {r["id"]: r for r in in_force_now}
    # A requirement carried over from an earlier task may be named by the id it had there;
    # going back to a task from one built on it, its requirement by the copy's id.
    aliases = {r.get("copied_from", ""): r for r in in_force_now}
    copies = {
        r["id"]: by_id[r["copied_from"]]
        for r in entry.ledger
        if r["status"] == "active" and r.get("copied_from") in by_id
    }
    by_id |= {old: r for old, r in (aliases | copies).items() if old and old not in by_id}
    for change in changes:
        target = by_id.pop(change.requirement_id.strip(), None)
        # Only what is in force can change: an id the model invents is recorded, not guessed at.
        if target is None:
            entry.delta["ignored"].append(change.requirement_id)
            continue
        # Each requirement changes once, whichever of its ids (own, old or copy) a second
        # change names.
        by_id = {k: v for k, v in by_id.items() if v is not target}
        # A supersede with no replacement leaves nothing in its place: it withdraws.
        if change.action in ("supersede", "refine") and change.replacement.strip():
            target["status"] = "superseded"
            # A corrected standing fact still holds for the whole thread.
            scope: RequirementScope = "thread" if is_standing(target) else "task"
            target["superseded_by"] = entry.add(change.replacement, after=target, scope=scope)
            entry.delta["superseded"].append(target["id"])
            target["change"] = change.action
        else:
            target["status"] = "retracted"
            entry.delta["retracted"].append(target["id"])
            target["change"] = "retract"
        target["reason"] = change.reason


_ID_SHOWN = re.compile(r"[^A-Za-z0-9]")


def describe_delta(delta: LedgerDelta | None) -> str:
    """One turn's ledger change in a line: "added R3, R4; superseded R1" ("" when none)."""
    if not delta:
        return ""
    named: Mapping[str, Any] = delta
    parts = []
    for name in ("added", "superseded", "retracted", "ignored"):
        # An ignored id is the model's own writing: keep only its letters and digits.
        ids = [_ID_SHOWN.sub("", str(i))[:8] for i in named.get(name) or []]
        if any(ids):
            parts.append(f"{name} {', '.join(i for i in ids if i)}")
    return "; ".join(parts)


def read_as(values: Mapping[str, Any]) -> tuple[FeedbackKind | Literal[""], str]:
    """How the Mediator read the turn that ended in ``values``: its feedback kind and ledger change.

    ``values`` is the thread state at the end of the turn; a state with no
    reading (a turn the Mediator did not read) gives two empty strings.
    """
    reading = reading_of(values)
    feedback = reading.feedback if reading is not None else None
    change = describe_delta(values.get("ledger_delta"))
    if feedback is not None and feedback in get_args(FeedbackKind):
        return feedback, change
    return "", change


def record_reading(state: MediatorState) -> dict[str, Any]:
    """The state update that applies the turn's stored reading to the thread's ledger."""
    reading = reading_of(state) or MediatorReading.model_construct(
        task_type="", goal="", feedback="confirmation"
    )
    task = state["task_number"]
    record = next((t for t in state.get("tasks", []) if t["number"] == task), None)
    # Carry over only on the turn that opened the task; its later turns hold the copies already.
    ledger, delta = apply_reading(
        state.get("ledger", []),
        reading,
        turn=state["turn"],
        task=task,
        message=pending_user_text(state.get("messages", [])),
        answers=state.get("answers", []),
        builds_on=record["builds_on"] if record and record["turn"] == state["turn"] else None,
    )
    return {"ledger": ledger, "ledger_delta": delta}


def format_ledger(requirements: Sequence[Requirement]) -> str:
    """Render requirements one per line as ``[R3] text`` for prompts."""
    return "\n".join(f"[{r['id']}] {r['text']}" for r in requirements) or "(none yet)"


_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9.%_-]*[A-Za-z0-9%]|[A-Za-z0-9]")


def _terms(text: str) -> list[str]:
    """The words and numbers of ``text`` that say something (no "the", "for", "use")."""
    return [t for t in _TERM.findall(text) if t[0].isdigit() or content_words(t)]


def _whole_term(term: str) -> re.Pattern[str]:
    """``term`` as a whole word or number, in any case."""
    return re.compile(rf"(?<![\w.]){re.escape(term)}(?![\w])", re.IGNORECASE)


def refreshed_goal(
    goal: str, ledger: Sequence[Requirement], delta: LedgerDelta
) -> tuple[str, list[str]]:
    """The goal checked against this turn's changes: stale values swapped or noted.

    For each superseded requirement, the terms it had and its replacement lacks
    are stale. When the goal still mentions one and the change swapped exactly
    one term for one ("Fahrenheit" for "Kelvin", "5" for "7"), the goal gets the
    new term; otherwise the stale mention is only noted. Returns the goal and
    the notes for ``mediator_notes``.
    """
    by_id = {r["id"]: r for r in ledger}
    notes: list[str] = []
    for old_id in delta["superseded"] + delta["retracted"]:
        old = by_id[old_id]
        if old.get("kind", "requirement") != "requirement":
            continue  # a verbatim text the goal never restates
        new = by_id.get(old.get("superseded_by") or "")
        kept = {t.lower() for t in _terms(new["text"])} if new else set()
        removed = [t for t in _terms(old["text"]) if t.lower() not in kept]
        stale = [t for t in removed if _whole_term(t).search(goal)]
        if not stale:
            continue
        old_terms = {t.lower() for t in _terms(old["text"])}
        added = [t for t in _terms(new["text"]) if t.lower() not in old_terms] if new else []
        # Only a one-for-one swap says which new term the goal's stale one became.
        if new and len(removed) == 1 and len(added) == 1:
            goal = _whole_term(removed[0]).sub(added[0], goal)
            notes.append(f"goal rewritten: {removed[0]!r} -> {added[0]!r} ({old_id} superseded)")
        else:
            notes.append(f"goal still mentions {stale} of {old_id}, which this turn changed")
    return goal, notes
