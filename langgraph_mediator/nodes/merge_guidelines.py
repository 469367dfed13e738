"""merge_guidelines: fold the new candidates into the user's existing set.

Deduplicates, resolves conflicts (the newer rule wins) and caps the count. The
model only chooses among existing (G) and candidate (P) rules: a merged rule
must cite at least one of them, so nothing new can be invented at this step,
and every merged text is validated again.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from langgraph_mediator.errors import RefinerOutputError
from langgraph_mediator.guidelines import current_version, now_iso
from langgraph_mediator.models import abuild_chat_model, ask_structured
from langgraph_mediator.safety import guideline_problem, normalise
from langgraph_mediator.state import MediatorContext
from langgraph_mediator.state.refiner import (
    MAX_GUIDELINES,
    Candidate,
    Guideline,
    MergedSet,
    RefinerState,
    Rejection,
)

SYSTEM_PROMPT = f"""\
Merge a user's existing guidelines (ids G1, G2, ...) with new ones (ids P1, P2, ...) \
into one set of at most {MAX_GUIDELINES}. Drop duplicates and near-duplicates, keeping \
the clearer wording; when two rules conflict, keep the new (P) one. Do not write new \
rules: every merged rule lists the ids it keeps or combines."""


def merge_prompt(existing: list[Guideline], candidates: list[Candidate]) -> list[BaseMessage]:
    """Existing and new rules, one per line with their ids."""
    lines = [f"{g['id']}: {g['text']}" for g in existing]
    lines += [f"{c['id']}: {c['text']}" for c in candidates]
    return [SystemMessage(SYSTEM_PROMPT), HumanMessage("\n".join(lines))]


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
    created = {normalise(g["text"]): g["created_at"] for g in existing}
    stamp = now_iso()
    kept: list[Guideline] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    for text, ids in merged:
        text = " ".join(text.split())
        cited = [sources[i] for i in ids if i in sources]
        problem = guideline_problem(text) or (None if cited else "cites no existing or new rule")
        if problem or normalise(text) in seen or len(kept) == MAX_GUIDELINES:
            rejected.append(Rejection(text=text, reason=problem or "duplicate or over the cap"))
            continue
        seen.add(normalise(text))
        provenance = sorted({p for source in cited for p in source["provenance"]})
        kept.append(Guideline(
            id=f"G{len(kept) + 1}", text=text, provenance=provenance,
            created_at=created.get(normalise(text), stamp), updated_at=stamp,
        ))  # fmt: skip
    return kept, rejected


def make_merge_guidelines(model: BaseChatModel | None = None) -> Any:
    """Build the node; ``model`` overrides the context's Refiner model."""

    async def merge_guidelines(
        state: RefinerState, runtime: Runtime[MediatorContext]
    ) -> dict[str, Any]:
        """Merge candidates into the current set (no model call when either side is empty)."""
        if runtime.store is None:
            raise RuntimeError("the refiner graph needs a store: compile it with store=...")
        context = MediatorContext.from_runtime(runtime.context)
        current = await current_version(runtime.store, state["user_id"])
        existing = current["guidelines"] if current else []
        candidates = state.get("candidates", [])
        if not existing or not candidates:
            pairs = [(g["text"], [g["id"]]) for g in [*existing, *candidates]]
        else:
            refiner = model or await abuild_chat_model(context, context.refiner_model)
            merged, _calls, error = await ask_structured(
                refiner, MergedSet, merge_prompt(existing, candidates),
                node="merge_guidelines", base_url=context.base_url,
            )  # fmt: skip
            if merged is None:
                raise RefinerOutputError(f"guideline merge malformed twice: {error}")
            pairs = [(g.text, list(g.sources)) for g in merged.guidelines]
        kept, rejected = assemble(pairs, existing, candidates)
        return {"existing": existing, "guidelines": kept,
                "rejected": [*state.get("rejected", []), *rejected]}  # fmt: skip

    return merge_guidelines
