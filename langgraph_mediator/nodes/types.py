"""The signatures of the graphs' nodes: state and runtime in, a state update out.

They mirror LangGraph's own node protocol (``runtime`` passed by keyword), so
the graph builders type-check the nodes they are given.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from langgraph.runtime import Runtime

from langgraph_mediator.state import MediatorContext, MediatorState, RefinerContext
from langgraph_mediator.state.refiner import RefinerState


class MediatorNode(Protocol):
    """A node of the mediator graph."""

    def __call__(
        self, state: MediatorState, *, runtime: Runtime[MediatorContext]
    ) -> Awaitable[dict[str, Any]]:
        """Run the node on the thread's state; return the update."""
        ...


class RefinerNode(Protocol):
    """A node of the refiner graph."""

    def __call__(
        self, state: RefinerState, *, runtime: Runtime[RefinerContext]
    ) -> Awaitable[dict[str, Any]]:
        """Run the node on the Refiner's state; return the update."""
        ...
