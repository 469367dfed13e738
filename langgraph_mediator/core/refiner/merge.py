"""The merge step: fold the new candidates into the user's existing set.

Deduplicates, resolves conflicts (the newer rule wins) and caps the count. The
model only chooses among existing (G) and candidate (P) rules: a merged rule
must cite at least one of them and restate what it cites, so nothing new can
be invented at this step; every id must be cited or dropped with a reason (one
the reply forgets is kept as it was); and every merged text is validated again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from langgraph_mediator.core.refiner.calls import aask_refiner, ask_refiner
from langgraph_mediator.core.refiner.prompts import merge_prompt
from langgraph_mediator.guidelines import (
    GuidelineVersion,
    guideline_problem,
    now_iso,
    trajectory_facts,
)
from langgraph_mediator.state import ModelCall, RefinerContext
from langgraph_mediator.state.refiner import (
    MAX_GUIDELINES,
    Candidate,
    Guideline,
    MergedSet,
    RefinerState,
    Rejection,
)
from langgraph_mediator.text import comparison_key, content_words

RESTATED_SHARE = 0.5
"""How much of a merged rule's content must come from the rules it cites."""


def restates(text: str, cited: list[Guideline | Candidate]) -> bool:
    """Whether ``text`` says what the rules it cites say (most of its content words are theirs)."""
    words = content_words(text)
    theirs = set().union(*(content_words(c["text"]) for c in cited)) if cited else set()
    return bool(words) and len(words & theirs) >= RESTATED_SHARE * len(words)


def settle_merge(
    merged: list[tuple[str, list[str]]],
    dropped: dict[str, str],
    existing: list[Guideline],
    candidates: list[Candidate],
    facts: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[list[Guideline], list[Rejection]]:
    """The merged set with every id accounted for: kept, dropped with its reason, or restored.

    A rule neither stated by a merged rule that passes nor dropped with a
    reason is kept as it was, so a reply that leaves rules out (or cites them
    from a rule that is refused) deletes nothing; each drop is recorded.
    """
    kept, rejected, covered = assemble(merged, existing, candidates, facts)
    rules: list[Guideline | Candidate] = [*existing, *candidates]
    forgotten = [(r["text"], [r["id"]]) for r in rules if r["id"] not in covered | set(dropped)]
    if forgotten:
        kept, rejected, covered = assemble([*merged, *forgotten], existing, candidates, facts)
    notes = [
        Rejection(text=r["text"], reason=f"dropped by the merge: {dropped[r['id']]}")
        for r in rules
        if r["id"] in dropped and r["id"] not in covered
    ]
    return kept, [*notes, *rejected]


def assemble(
    merged: list[tuple[str, list[str]]],
    existing: list[Guideline],
    candidates: list[Candidate],
    facts: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[list[Guideline], list[Rejection], set[str]]:
    """Turn ``(text, source ids)`` into stored guidelines: validated, deduplicated, capped.

    Provenance is the union of the sources' provenance; a rule kept word for
    word keeps its creation time; a rule that does not restate what it cites
    is refused, so a citation cannot lend an invented rule its provenance.
    A rewritten rule may not repeat the run's trajectory ``facts`` (an existing
    rule kept word for word is not held to this run's facts). Returns the
    guidelines, the refusals and the ids the kept rules (or a duplicate of
    one) stand for.
    """
    sources: dict[str, Guideline | Candidate] = {g["id"]: g for g in existing}
    sources.update({c["id"]: c for c in candidates})
    created = {comparison_key(g["text"]): g["created_at"] for g in existing}
    stamp = now_iso()
    kept: list[Guideline] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    covered: set[str] = set()
    for text, ids in merged:
        text = " ".join(text.split())
        cited = [sources[i] for i in ids if i in sources]
        own = facts if comparison_key(text) not in created else frozenset()
        problem = guideline_problem(text, own) or _citation_problem(text, cited)
        duplicate = comparison_key(text) in seen
        if duplicate and not problem:
            covered.update(c["id"] for c in cited)
        if problem or duplicate or len(kept) == MAX_GUIDELINES:
            rejected.append(Rejection(text=text, reason=problem or "duplicate or over the cap"))
            continue
        seen.add(comparison_key(text))
        covered.update(c["id"] for c in cited)
        provenance = sorted({p for source in cited for p in source["provenance"]})
        kept.append(
            Guideline(
                id=f"G{len(kept) + 1}",
                text=text,
                provenance=provenance,
                created_at=created.get(comparison_key(text), stamp),
                updated_at=stamp,
            )
        )
    return kept, rejected, covered


def _citation_problem(text: str, cited: list[Guideline | Candidate]) -> str | None:
    if not cited:
        return "cites no existing or new rule"
    if not restates(text, cited):
        return "does not restate the rules it cites"
    return None


@dataclass
class Merge:
    """One merge: the set in force, the candidates, and what the model made of them."""

    existing: list[Guideline]
    candidates: list[Candidate]
    pairs: list[tuple[str, list[str]]]
    dropped: dict[str, str] = field(default_factory=dict)
    calls: list[ModelCall] = field(default_factory=list)

    @classmethod
    def of(cls, state: RefinerState, current: GuidelineVersion | None) -> Merge:
        """Before any model call: the union of both sides, each rule its own source."""
        existing = current["guidelines"] if current else []
        candidates = state.get("candidates", [])
        union = [(g["text"], [g["id"]]) for g in [*existing, *candidates]]
        return cls(existing, candidates, union)

    def needs_model(self) -> bool:
        """Only two non-empty sides need merging by the model."""
        return bool(self.existing and self.candidates)

    def prompt(self) -> list[BaseMessage]:
        """The merge prompt over both sides."""
        return merge_prompt(self.existing, self.candidates)

    def read(self, merged: MergedSet, calls: list[ModelCall]) -> None:
        """Take the model's merged set (settled, with every id accounted for, in :meth:`update`)."""
        self.dropped = {d.id.strip(): d.reason for d in merged.dropped}
        self.pairs = [(g.text, list(g.sources)) for g in merged.guidelines]
        self.calls = calls

    def update(self, state: RefinerState) -> dict[str, Any]:
        """The settled merge as the node's state update."""
        facts = trajectory_facts(state.get("pairs", []))
        kept, rejected = settle_merge(
            self.pairs, self.dropped, self.existing, self.candidates, facts
        )
        return {
            "existing": self.existing,
            "guidelines": kept,
            "usage": self.calls,
            "rejected": [*state.get("rejected", []), *rejected],
        }


def merge_sets(
    state: RefinerState,
    current: GuidelineVersion | None,
    chat: Callable[[], BaseChatModel],
    context: RefinerContext,
) -> dict[str, Any]:
    """Merge the run's candidates into ``current``, the set in force, as the state update.

    ``chat`` is called only when both sides hold rules: otherwise the union is
    the merge, and no model is built or called.
    """
    merge = Merge.of(state, current)
    if merge.needs_model():
        merge.read(*ask_refiner(chat(), MergedSet, merge.prompt(), **_asked(context)))
    return merge.update(state)


async def amerge_sets(
    state: RefinerState,
    current: GuidelineVersion | None,
    chat: Callable[[], Awaitable[BaseChatModel]],
    context: RefinerContext,
) -> dict[str, Any]:
    """:func:`merge_sets`, awaiting the model (built off the loop)."""
    merge = Merge.of(state, current)
    if merge.needs_model():
        model = await chat()
        merge.read(*await aask_refiner(model, MergedSet, merge.prompt(), **_asked(context)))
    return merge.update(state)


def _asked(context: RefinerContext) -> dict[str, Any]:
    """How a merge call is recorded, and what its error names if it fails twice."""
    return {"node": "merge_guidelines", "context": context, "what": "guideline merge"}
