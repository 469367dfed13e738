"""propose_guidelines: short, imperative, general rules tied to the diagnoses.

A thin shell over :mod:`langgraph_mediator.core.refiner.proposal`, which asks for
the rules, screens each against the validator (a rule planted by a poisoned
trajectory is rejected, with the reason kept in state) and retries once with
the reasons when any is refused.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from langgraph_mediator.core.refiner import apropose, arefiner_model, propose, refiner_model
from langgraph_mediator.models import ModelChoice
from langgraph_mediator.nodes.types import GraphNode, graph_node
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import RefinerState


def make_propose_guidelines(model: ModelChoice = None) -> GraphNode:
    """Build the node; ``model`` overrides the context's Refiner model."""

    def propose_guidelines(state: RefinerState, runtime: Runtime[RefinerContext]) -> dict[str, Any]:
        """Propose rules from the diagnoses and screen them."""
        context = RefinerContext.for_run(runtime)
        return propose(refiner_model(model, context), state, context)

    async def apropose_guidelines(
        state: RefinerState, runtime: Runtime[RefinerContext]
    ) -> dict[str, Any]:
        context = RefinerContext.for_run(runtime)
        return await apropose(await arefiner_model(model, context), state, context)

    return graph_node(propose_guidelines, apropose_guidelines)
