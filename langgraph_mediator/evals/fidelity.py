"""Instruction fidelity: how faithfully the Mediator's final instruction carries the shards.

The Mediator's whole job is one instruction as good as the fully specified
task. This measures it directly, turn by turn, with the deterministic fact
extractor of :mod:`langgraph_mediator.facts`:

* **recall**: the share of the revealed shards' facts (numbers, quantities,
  quoted strings, identifiers, proper names) the final instruction states, less
  the task's stale facts;
* **stale**: facts a later shard corrected or withdrew (the task's
  ``stale_facts``) that the instruction still states;
* **invented**: facts of the instruction that no user message of the
  conversation gave and the Assistant's environment does not hold;
* **questions** asked, and **re-asked**: questions about the same thing as an
  earlier question of the conversation (:func:`~langgraph_mediator.core.policy.same_question`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from langgraph_mediator.core.instruction import instruction_content
from langgraph_mediator.core.policy import same_question
from langgraph_mediator.facts import Fact, FactIndex, declared_fact, facts_of_all


@dataclass
class Fidelity:
    """The fidelity of one conversation's final instruction."""

    facts: int = 0
    carried: int = 0
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)
    questions: int = 0
    reasked: int = 0
    has_instruction: bool = False

    @property
    def recall(self) -> float | None:
        """Facts carried over facts expected (``None`` when the shards state none)."""
        return self.carried / self.facts if self.facts else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, recall included."""
        return {**asdict(self), "recall": self.recall}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fidelity:
        """Read :meth:`to_json` back."""
        return cls(**{k: v for k, v in data.items() if k != "recall"})


def _stale_facts(record: dict[str, Any]) -> tuple[list[Fact], set[tuple[str, str]]]:
    """The declared stale values, each taken whole, and every fact key they cover.

    The keys also hold the facts extracted from inside a value ("2026" of
    "2026-03-14") so that no part of a stale value is expected to be carried.
    """
    values = [str(value) for value in record.get("stale_facts") or [] if str(value).strip()]
    stale = [declared_fact(value) for value in values]
    keys: set[tuple[str, str]] = {(f.kind, f.value) for f in [*stale, *facts_of_all(values)]}
    return stale, keys


def reasked_count(questions: Sequence[str]) -> int:
    """How many questions ask about the same thing as an earlier one."""
    return sum(
        any(same_question(question, earlier) for earlier in questions[:i])
        for i, question in enumerate(questions)
    )


def instruction_fidelity(
    instruction: str,
    shards: Sequence[str],
    user_texts: Sequence[str],
    *,
    record: dict[str, Any] | None = None,
    environment: str = "",
    questions: Sequence[str] = (),
) -> Fidelity:
    """Score ``instruction`` against the ``shards`` the user revealed.

    ``user_texts`` is everything the user said (shards and replies to
    questions): a fact of the instruction found there is not invented.
    ``record`` is the task record, for its ``stale_facts``.
    """
    stale, stale_keys = _stale_facts(record or {})
    expected = [f for f in facts_of_all(shards) if (f.kind, f.value) not in stale_keys]
    said = FactIndex("\n".join([*user_texts, environment]))
    content = instruction_content(instruction)
    index = FactIndex(content)
    return Fidelity(
        facts=len(expected),
        carried=sum(index.carries(f) for f in expected),
        missing=[f.text for f in expected if not index.carries(f)],
        stale=[f.text for f in stale if index.carries(f)],
        invented=[f.text for f in facts_of_all([content]) if not said.carries(f)],
        questions=len(questions),
        reasked=reasked_count(questions),
        has_instruction=bool(instruction.strip()),
    )
