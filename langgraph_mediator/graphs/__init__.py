"""Graph wiring: the mediator graph, the refiner graph and an example mediated agent.

The mediator graph runs one user turn; the refiner graph learns guidelines; the
agent is ``create_agent`` with the Mediator in front of its model.
"""

from langgraph_mediator.graphs.agent import build_mediated_agent
from langgraph_mediator.graphs.mediator import (
    build_mediator_builder,
    build_mediator_graph,
    route_after_clarify,
    route_after_intent,
)
from langgraph_mediator.graphs.refiner import build_refiner_builder, build_refiner_graph

__all__ = [
    "build_mediated_agent",
    "build_mediator_builder",
    "build_mediator_graph",
    "build_refiner_builder",
    "build_refiner_graph",
    "route_after_clarify",
    "route_after_intent",
]
