"""propose_guidelines: short, imperative, general rules tied to the diagnoses.

One structured call over all diagnoses. Every proposal is validated
(:mod:`langgraph_mediator.guidelines.validation`) before it can reach the merge: a rule planted
by a poisoned trajectory is rejected here, with the reason kept in state. When any is
refused, the model is asked once more with the reasons; the retry is screened the same way.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from langgraph_mediator.guidelines import guideline_problem, trajectory_facts
from langgraph_mediator.nodes.refiner.calls import ask_refiner, refiner_model
from langgraph_mediator.nodes.refiner.prompts import proposal_prompt, retry_prompt
from langgraph_mediator.nodes.types import RefinerNode
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import Candidate, Proposal, RefinerState, Rejection
from langgraph_mediator.text import comparison_key


def strip_numbering(text: str) -> str:
    """``"2. Ask first."`` -> ``"Ask first."``: models often number what they list."""
    return re.sub(r"^\s*(\d+[.)]|[-*])\s*", "", " ".join(text.split()))


def screen(
    proposal: Proposal,
    diagnoses: list[dict[str, Any]],
    facts: frozenset[tuple[str, str]] = frozenset(),
    numbered_from: int = 1,
) -> tuple[list[Candidate], list[Rejection]]:
    """Keep the proposals that pass validation, with the pairs that produced each.

    A proposal citing a diagnosis that does not exist is credited to every pair
    of this run: the evidence is still this run's, only its pointer is wrong.
    ``facts`` are the run's trajectories' (a rule repeating one is refused);
    candidates are numbered ``P<numbered_from>`` on.
    """
    candidates: list[Candidate] = []
    rejected: list[Rejection] = []
    every_pair = sorted({d["pair_id"] for d in diagnoses})
    for item in proposal.guidelines:
        text = strip_numbering(item.text)
        problem = guideline_problem(text, facts)
        if problem:
            rejected.append(Rejection(text=item.text, reason=problem))
            continue
        cited = 1 <= item.diagnosis <= len(diagnoses)
        provenance = [diagnoses[item.diagnosis - 1]["pair_id"]] if cited else every_pair
        number = numbered_from + len(candidates)
        candidates.append(Candidate(id=f"P{number}", text=text, provenance=provenance))
    return candidates, rejected


def _new(candidates: list[Candidate], kept: list[Candidate]) -> list[Candidate]:
    """``candidates`` less those that repeat a kept one (a retry often resends them)."""
    seen = {comparison_key(c["text"]) for c in kept}
    return [c for c in candidates if comparison_key(c["text"]) not in seen]


def _unrecorded(rejections: list[Rejection], recorded: list[Rejection]) -> list[Rejection]:
    """``rejections`` less those already recorded: a retry often resends a refused rule."""
    seen = {(comparison_key(r["text"]), r["reason"]) for r in recorded}
    return [r for r in rejections if (comparison_key(r["text"]), r["reason"]) not in seen]


def make_propose_guidelines(model: BaseChatModel | None = None) -> RefinerNode:
    """Build the node; ``model`` overrides the context's Refiner model."""

    async def propose_guidelines(
        state: RefinerState, runtime: Runtime[RefinerContext]
    ) -> dict[str, Any]:
        """Propose rules from the diagnoses and screen them."""
        context = RefinerContext.for_run(runtime)
        diagnoses = state.get("diagnoses", [])
        chat = await refiner_model(model, context)
        prompt = proposal_prompt(diagnoses)
        proposal, calls = await ask_refiner(
            chat, Proposal, prompt, node="propose_guidelines", context=context,
            what="guideline proposal",
        )  # fmt: skip
        facts = trajectory_facts(state.get("pairs", []))
        candidates, rejected = screen(proposal, diagnoses, facts)
        if rejected:
            # One retry, told why: a good habit worded with one task's numbers can be rescued.
            refused = [(r["text"], r["reason"]) for r in rejected]
            retried, more_calls = await ask_refiner(
                chat, Proposal, retry_prompt(prompt, refused), node="propose_guidelines",
                context=context, what="guideline proposal retry",
            )  # fmt: skip
            again, still = screen(retried, diagnoses, facts, numbered_from=len(candidates) + 1)
            candidates = candidates + _new(again, candidates)
            rejected = rejected + _unrecorded(still, rejected)
            calls = calls + more_calls
        return {"candidates": candidates, "rejected": rejected, "usage": calls}

    return propose_guidelines
