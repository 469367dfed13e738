"""propose_guidelines: short, imperative, general rules tied to the diagnoses.

One structured call over all diagnoses. Every proposal is validated
(:mod:`langgraph_mediator.guidelines.validation`) before it can reach the merge: a rule planted
by a poisoned trajectory is rejected here, with the reason kept in state.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from langgraph_mediator.guidelines import guideline_problem, trajectory_facts
from langgraph_mediator.nodes.refiner.calls import ask_refiner, refiner_model
from langgraph_mediator.nodes.refiner.prompts import proposal_prompt
from langgraph_mediator.nodes.types import RefinerNode
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import Candidate, Proposal, RefinerState, Rejection


def strip_numbering(text: str) -> str:
    """``"2. Ask first."`` -> ``"Ask first."``: models often number what they list."""
    return re.sub(r"^\s*(\d+[.)]|[-*])\s*", "", " ".join(text.split()))


def screen(
    proposal: Proposal,
    diagnoses: list[dict[str, Any]],
    facts: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[list[Candidate], list[Rejection]]:
    """Keep the proposals that pass validation, with the pairs that produced each.

    A proposal citing a diagnosis that does not exist is credited to every pair
    of this run: the evidence is still this run's, only its pointer is wrong.
    ``facts`` are the run's trajectories' (a rule repeating one is refused).
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
        candidates.append(Candidate(id=f"P{len(candidates) + 1}", text=text, provenance=provenance))
    return candidates, rejected


def make_propose_guidelines(model: BaseChatModel | None = None) -> RefinerNode:
    """Build the node; ``model`` overrides the context's Refiner model."""

    async def propose_guidelines(
        state: RefinerState, runtime: Runtime[RefinerContext]
    ) -> dict[str, Any]:
        """Propose rules from the diagnoses and screen them."""
        context = RefinerContext.for_run(runtime)
        diagnoses = state.get("diagnoses", [])
        proposal, calls = await ask_refiner(
            await refiner_model(model, context), Proposal, proposal_prompt(diagnoses),
            node="propose_guidelines", context=context, what="guideline proposal",
        )  # fmt: skip
        facts = trajectory_facts(state.get("pairs", []))
        candidates, rejected = screen(proposal, diagnoses, facts)
        return {"candidates": candidates, "rejected": rejected, "usage": calls}

    return propose_guidelines
