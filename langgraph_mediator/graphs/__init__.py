"""Graph wiring: the mediator graph (one user turn) and the refiner graph (guideline learning)."""

from langgraph_mediator.graphs.mediator import (
    build_mediator_builder,
    build_mediator_graph,
    route_after_clarify,
    route_after_intent,
)
from langgraph_mediator.graphs.refiner import build_refiner_builder, build_refiner_graph

__all__ = [
    "build_mediator_builder",
    "build_mediator_graph",
    "build_refiner_builder",
    "build_refiner_graph",
    "route_after_clarify",
    "route_after_intent",
]
