"""Simulated users with habits: the same task, said the way one kind of user says things.

Each :class:`Persona` is a systematic way of speaking that a Mediator aligned
to the "average" user misreads. It is a pure function of the task's shards
(and of the answers it gives to the assistant's questions): the same task can
be played by every persona, and what it says carries the task's facts and no
others. A persona may drop only a stale value ("not 24" when 24 was
corrected) or, for :data:`DROPS_UNITS`, a unit it already gave.

Habits that concern corrections use the task's ``corrections`` record (the
``corrections`` task set has one: which shard supersedes, refines or
retracts which); on a task without corrections those personas speak as the
task's shards do.

The rule-based simulator applies a persona exactly; the LLM-based one is
told its habit and rephrases what the persona says.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langgraph_mediator.evals.tasks import ShardedTask

_MARKERS = re.compile(
    r"^(?:(?:no|nope|sorry|wait|actually|oh|hmm|oops|yes|yeah|yep|ok|okay|but|so|and|"
    r"i meant|make that|make it)\b[\s,.!:;-]*)+",
    re.IGNORECASE,
)
_INNER_MARKERS = re.compile(r"[\s,]*\b(?:actually|after all|to be precise)\b", re.IGNORECASE)
_UNIT = re.compile(
    r"(?<=\d)\s?(?P<unit>%|m2|km|kg|cm|mm|m|miles|mpg|degrees|dollars|minutes|hours)(?![\w])"
    r"|(?P<currency>\$)(?=\d)",
    re.IGNORECASE,
)


def corrections_by_shard(task: ShardedTask) -> dict[int, dict[str, Any]]:
    """The task's corrections record by 0-based shard index (empty without one)."""
    found: dict[int, dict[str, Any]] = {}
    for item in task.record.get("corrections") or []:
        if isinstance(item, dict) and isinstance(item.get("shard_id"), int):
            found[item["shard_id"] - 1] = item
    return found


def stale_values(task: ShardedTask) -> list[str]:
    """The values a correction made stale (``stale_facts`` of the corrections set)."""
    return [str(v) for v in task.record.get("stale_facts") or [] if str(v).strip()]


def without_markers(text: str, stale: Sequence[str] = ()) -> str:
    """A correction as a bare statement: no "no, sorry", no "actually", no "not 24"."""
    bare = _MARKERS.sub("", text.strip())
    bare = _INNER_MARKERS.sub("", bare)
    for value in stale:
        bare = re.sub(rf"[\s,]*\bnot (?:the )?{re.escape(value)}(?![\w])", "", bare)
    bare = bare.strip(" ,.;-")
    return bare or text.strip()


@dataclass(frozen=True)
class Persona:
    """A user's way of speaking; the base persona speaks as the task's shards do."""

    name: str = "neutral"
    habit: str = "says each detail plainly, and marks a correction as one"

    @property
    def user_id(self) -> str:
        """The user id the persona's conversations and guidelines are kept under."""
        return f"persona-{self.name}"

    def opening(self, task: ShardedTask) -> str:
        """Turn 1: the first shard, as this user says it."""
        return task.shards[0]

    def say(self, task: ShardedTask, index: int, revealed: Sequence[int]) -> str:
        """Shard ``index`` as this user reveals it; ``revealed`` came before it."""
        return task.shards[index]

    def answer(self, text: str) -> str:
        """What this user says when ``text`` answers the assistant's question."""
        return text

    def filler(self, task: ShardedTask, revealed: Sequence[int], said: int) -> str | None:
        """A turn that reveals no shard (``said``: user turns so far); ``None``: none now."""
        return None


class BareValues(Persona):
    """Corrects with a bare value and no marker: "32 kids, the other class is joining us"."""

    def say(self, task: ShardedTask, index: int, revealed: Sequence[int]) -> str:
        """A superseding or refining shard without its correction markers."""
        correction = corrections_by_shard(task).get(index)
        if correction and correction.get("kind") in ("supersede", "refine"):
            return without_markers(task.shards[index], stale_values(task))
        return task.shards[index]


class AlsoCorrections(Persona):
    """Writes corrections as "also" sentences: "also, 32 kids"."""

    def say(self, task: ShardedTask, index: int, revealed: Sequence[int]) -> str:
        """A superseding or refining shard as an addition."""
        correction = corrections_by_shard(task).get(index)
        if correction and correction.get("kind") in ("supersede", "refine"):
            return "also, " + without_markers(task.shards[index], stale_values(task))
        return task.shards[index]


class OkMeansGoOn(Persona):
    """Says "ok" to mean "go on, more is coming", and "ok" is all it says to agree."""

    def opening(self, task: ShardedTask) -> str:
        """The first shard, with the promise of more."""
        return f"{task.shards[0]} I'll give you the details."

    def say(self, task: ShardedTask, index: int, revealed: Sequence[int]) -> str:
        """A confirmation is a bare "ok"."""
        correction = corrections_by_shard(task).get(index)
        return "ok" if correction and correction.get("kind") == "confirm" else task.shards[index]

    def filler(self, task: ShardedTask, revealed: Sequence[int], said: int) -> str | None:
        """An "ok" right after the opening, before any detail."""
        return "ok" if said == 1 and len(revealed) == 1 and len(task.shards) > 1 else None


class QuestionForAnswer(Persona):
    """Answers a question with a question: "what if it's 24 kids?"."""

    def answer(self, text: str) -> str:
        """The answer, asked back."""
        return f"what if {text.strip().rstrip('.!?')}?"


class DropsUnits(Persona):
    """Gives a unit once, then drops it: "$11 a pizza", later "36 a month"."""

    def say(self, task: ShardedTask, index: int, revealed: Sequence[int]) -> str:
        """The shard less every unit an earlier revealed shard already gave."""
        given = {u for i in revealed for u in _units(task.shards[i])}
        if not given:
            return task.shards[index]

        def drop(match: re.Match[str]) -> str:
            unit = (match.group("unit") or match.group("currency")).lower()
            return "" if unit in given else match.group(0)

        return _UNIT.sub(drop, task.shards[index])


class RetractsByOmission(Persona):
    """Retracts by restating what stays: "just the rice and the honey then"."""

    def say(self, task: ShardedTask, index: int, revealed: Sequence[int]) -> str:
        """A retraction as the list of what is still wanted, the retracted part left out."""
        corrections = corrections_by_shard(task)
        correction = corrections.get(index)
        if not correction or correction.get("kind") != "retract":
            return task.shards[index]
        gone = {c.get("target_shard", 0) - 1 for i, c in corrections.items() if i in revealed}
        gone.add(correction.get("target_shard", 0) - 1)
        stale = stale_values(task)
        kept = []
        for i in revealed:
            kind = corrections.get(i, {}).get("kind")
            if i == 0 or i in gone or kind in ("confirm", "retract"):
                continue
            kept.append(without_markers(task.shards[i], stale) if kind else task.shards[i])
        return "just " + "; ".join(kept) + " then" if kept else task.shards[index]


def _units(text: str) -> set[str]:
    return {(m.group("unit") or m.group("currency")).lower() for m in _UNIT.finditer(text)}


NEUTRAL = Persona()
DROPS_UNITS = DropsUnits("drops-units", "gives a unit once, then drops it in later messages")
PERSONAS: dict[str, Persona] = {
    p.name: p
    for p in (
        BareValues("bare-values", "corrects with a bare value and no marker ('32 kids.')"),
        OkMeansGoOn("ok-go-on", "says 'ok' to mean 'go on, more is coming'"),
        QuestionForAnswer("question-answers", "answers a question with a question"),
        DROPS_UNITS,
        RetractsByOmission(
            "retracts-by-omission",
            "withdraws a detail by restating only what stays ('just the names then')",
        ),
        AlsoCorrections("also-corrections", "writes corrections as 'also' sentences"),
    )
}
"""The six habits of the per-user protocol, by name."""


def parse_personas(text: str) -> list[Persona]:
    """``all`` or a comma list of names -> personas; a clear error naming the valid ones."""
    if text.strip().lower() == "all":
        return list(PERSONAS.values())
    chosen = []
    for name in (n.strip() for n in text.split(",") if n.strip()):
        if name not in PERSONAS:
            raise ValueError(f"unknown persona {name!r}; choose from {', '.join(PERSONAS)}")
        chosen.append(PERSONAS[name])
    return chosen
