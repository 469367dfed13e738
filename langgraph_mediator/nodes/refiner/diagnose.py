"""diagnose: find every turn where the Mediator's reading of a failed conversation diverged.

A thin shell over :mod:`langgraph_mediator.core.refiner.diagnosis`: it checks the
run is the caller's, validates the input pairs, builds the Refiner's model and
asks the core for one diagnosis per pair (malformed output twice stops the run
before anything is stored).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from langgraph_mediator.core.refiner import (
    adiagnose_pairs,
    arefiner_model,
    diagnose_pairs,
    parse_pairs,
    refiner_model,
)
from langgraph_mediator.models import ModelChoice
from langgraph_mediator.nodes.refiner.caller import refined_user
from langgraph_mediator.nodes.types import GraphNode, graph_node
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import RefinerState, TrajectoryPair


def make_diagnose(model: ModelChoice = None) -> GraphNode:
    """Build the node; ``model`` overrides the context's Refiner model."""

    def diagnose(state: RefinerState, runtime: Runtime[RefinerContext]) -> dict[str, Any]:
        """Diagnose every pair; malformed output twice stops the run before anything is stored."""
        context, pairs = diagnosis_start(state, runtime)
        return diagnose_pairs(refiner_model(model, context), pairs, context)

    async def adiagnose(state: RefinerState, runtime: Runtime[RefinerContext]) -> dict[str, Any]:
        context, pairs = diagnosis_start(state, runtime)
        return await adiagnose_pairs(await arefiner_model(model, context), pairs, context)

    return graph_node(diagnose, adiagnose)


def diagnosis_start(
    state: RefinerState, runtime: Runtime[RefinerContext]
) -> tuple[RefinerContext, list[TrajectoryPair]]:
    """The run's settings and its validated pairs, once the run is known to be the caller's."""
    context = RefinerContext.for_run(runtime)
    refined_user(state["user_id"], runtime)
    return context, parse_pairs(state["pairs"])
