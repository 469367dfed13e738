"""merge_guidelines: fold the new candidates into the user's existing set.

Deduplicates, resolves conflicts (the newer rule wins) and caps the count. The
model only chooses among existing (G) and candidate (P) rules: a merged rule
must cite at least one of them, so nothing new can be invented at this step,
and every merged text is validated again.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from langgraph_mediator.core import comparison_key
from langgraph_mediator.guidelines import current_version, guideline_problem, now_iso
from langgraph_mediator.nodes.refiner.calls import ask_refiner, refined_user, refiner_model
from langgraph_mediator.nodes.refiner.prompts import merge_prompt
from langgraph_mediator.nodes.types import RefinerNode
from langgraph_mediator.state import ModelCall, RefinerContext
from langgraph_mediator.state.refiner import (
    MAX_GUIDELINES,
    Candidate,
    Guideline,
    MergedSet,
    RefinerState,
    Rejection,
)


def assemble(
    merged: list[tuple[str, list[str]]],
    existing: list[Guideline],
    candidates: list[Candidate],
) -> tuple[list[Guideline], list[Rejection]]:
    """Turn ``(text, source ids)`` into stored guidelines: validated, deduplicated, capped.

    Provenance is the union of the sources' provenance; a rule kept word for
    word keeps its creation time.
    """
    sources: dict[str, Guideline | Candidate] = {g["id"]: g for g in existing}
    sources.update({c["id"]: c for c in candidates})
    created = {comparison_key(g["text"]): g["created_at"] for g in existing}
    stamp = now_iso()
    kept: list[Guideline] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    for text, ids in merged:
        text = " ".join(text.split())
        cited = [sources[i] for i in ids if i in sources]
        problem = guideline_problem(text) or (None if cited else "cites no existing or new rule")
        if problem or comparison_key(text) in seen or len(kept) == MAX_GUIDELINES:
            rejected.append(Rejection(text=text, reason=problem or "duplicate or over the cap"))
            continue
        seen.add(comparison_key(text))
        provenance = sorted({p for source in cited for p in source["provenance"]})
        kept.append(Guideline(
            id=f"G{len(kept) + 1}", text=text, provenance=provenance,
            created_at=created.get(comparison_key(text), stamp), updated_at=stamp,
        ))  # fmt: skip
    return kept, rejected


def make_merge_guidelines(model: BaseChatModel | None = None) -> RefinerNode:
    """Build the node; ``model`` overrides the context's Refiner model."""

    async def merge_guidelines(
        state: RefinerState, runtime: Runtime[RefinerContext]
    ) -> dict[str, Any]:
        """Merge candidates into the current set (no model call when either side is empty)."""
        if runtime.store is None:
            raise RuntimeError("the refiner graph needs a store: compile it with store=...")
        context = RefinerContext.for_run(runtime)
        current = await current_version(runtime.store, refined_user(state["user_id"], runtime))
        existing = current["guidelines"] if current else []
        candidates = state.get("candidates", [])
        calls: list[ModelCall] = []
        if not existing or not candidates:
            pairs = [(g["text"], [g["id"]]) for g in [*existing, *candidates]]
        else:
            merged, calls = await ask_refiner(
                await refiner_model(model, context), MergedSet, merge_prompt(existing, candidates),
                node="merge_guidelines", context=context, what="guideline merge",
            )  # fmt: skip
            pairs = [(g.text, list(g.sources)) for g in merged.guidelines]
        kept, rejected = assemble(pairs, existing, candidates)
        return {"existing": existing, "guidelines": kept, "usage": calls,
                "rejected": [*state.get("rejected", []), *rejected]}  # fmt: skip

    return merge_guidelines
