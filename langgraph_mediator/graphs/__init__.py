"""Graph wiring: the mediator graph (and, later, the refiner graph)."""

from langgraph_mediator.graphs.mediator import (
    build_mediator_builder,
    build_mediator_graph,
    route_after_intent,
)

__all__ = ["build_mediator_builder", "build_mediator_graph", "route_after_intent"]
