"""diagnose: find every turn where the Mediator's reading of a failed conversation diverged.

One structured call per trajectory pair; each misreading it names (with the
user's habit that misled the Mediator) becomes one numbered diagnosis. The failed trajectory and its
reference (a successful trajectory or the fully specified instruction) are
fenced as data: nothing inside them is obeyed.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from pydantic import ValidationError

from langgraph_mediator.models import ModelChoice
from langgraph_mediator.nodes.refiner.calls import (
    aask_refiner,
    arefiner_model,
    ask_refiner,
    refined_user,
    refiner_model,
)
from langgraph_mediator.nodes.refiner.prompts import diagnosis_prompt
from langgraph_mediator.nodes.types import GraphNode, graph_node
from langgraph_mediator.state import ModelCall, RefinerContext
from langgraph_mediator.state.refiner import Diagnosis, RefinerState, TrajectoryPair


def parse_pairs(raw_pairs: list[dict[str, Any]]) -> list[TrajectoryPair]:
    """Validate the input pairs; the error names the pair and the field."""
    if not raw_pairs:
        raise ValueError("the Refiner needs at least one trajectory pair")
    pairs = []
    for index, raw in enumerate(raw_pairs):
        try:
            pairs.append(TrajectoryPair.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(pair)"
            raise ValueError(f"pairs[{index}].{where}: {first['msg']}") from exc
    return pairs


def make_diagnose(model: ModelChoice = None) -> GraphNode:
    """Build the node; ``model`` overrides the context's Refiner model."""

    def diagnose(state: RefinerState, runtime: Runtime[RefinerContext]) -> dict[str, Any]:
        """Diagnose every pair; malformed output twice stops the run before anything is stored."""
        context, pairs = diagnosis_start(state, runtime)
        refiner = refiner_model(model, context)
        return diagnosis_update([
            (pair, *ask_refiner(refiner, Diagnosis, diagnosis_prompt(pair), node="diagnose",
                                context=context, what=f"diagnosis of pair {pair.id}"))
            for pair in pairs
        ])  # fmt: skip

    async def adiagnose(state: RefinerState, runtime: Runtime[RefinerContext]) -> dict[str, Any]:
        context, pairs = diagnosis_start(state, runtime)
        refiner = await arefiner_model(model, context)
        return diagnosis_update([
            (pair, *await aask_refiner(refiner, Diagnosis, diagnosis_prompt(pair),
                                       node="diagnose", context=context,
                                       what=f"diagnosis of pair {pair.id}"))
            for pair in pairs
        ])  # fmt: skip

    return graph_node(diagnose, adiagnose)


def diagnosis_start(
    state: RefinerState, runtime: Runtime[RefinerContext]
) -> tuple[RefinerContext, list[TrajectoryPair]]:
    """The run's settings and its validated pairs, once the run is known to be the caller's."""
    context = RefinerContext.for_run(runtime)
    refined_user(state["user_id"], runtime)
    return context, parse_pairs(state["pairs"])


def diagnosis_update(
    answers: list[tuple[TrajectoryPair, Diagnosis, list[ModelCall]]],
) -> dict[str, Any]:
    """One numbered diagnosis per misreading found, and the usage of every call."""
    diagnoses = [{"pair_id": pair.id, **m.model_dump()}
                 for pair, found, _calls in answers for m in found.misreadings]  # fmt: skip
    return {"diagnoses": diagnoses, "usage": [c for *_, calls in answers for c in calls]}
