"""langgraph-mediator: keep a multi-turn conversation aligned with what the user means.

A Mediator reads each turn into intent, a requirement ledger and an explicit,
fully specified instruction, and hands that to a pluggable Assistant; a
Refiner learns per-user guidelines from failed and successful conversations.
"""

from langgraph_mediator.core import validate_user_message
from langgraph_mediator.errors import (
    DatabaseError,
    InvalidMessageError,
    LocalModelError,
    MediatorError,
    ModelEndpointError,
    RefinerOutputError,
    ThreadOwnershipError,
    UnknownThreadError,
)
from langgraph_mediator.graphs import (
    build_mediated_agent,
    build_mediator_builder,
    build_mediator_graph,
    build_refiner_builder,
    build_refiner_graph,
)
from langgraph_mediator.middleware import MediatorMiddleware, describe_environment
from langgraph_mediator.models import ModelChoice
from langgraph_mediator.persistence import open_persistence
from langgraph_mediator.session import MediatorSession, TurnResult
from langgraph_mediator.state import (
    MediatorContext,
    MediatorReading,
    MediatorState,
    RefinerContext,
)

__all__ = [
    "DatabaseError",
    "InvalidMessageError",
    "LocalModelError",
    "MediatorContext",
    "MediatorMiddleware",
    "MediatorError",
    "MediatorReading",
    "MediatorSession",
    "MediatorState",
    "ModelChoice",
    "ModelEndpointError",
    "RefinerContext",
    "RefinerOutputError",
    "ThreadOwnershipError",
    "TurnResult",
    "UnknownThreadError",
    "build_mediated_agent",
    "build_mediator_builder",
    "build_mediator_graph",
    "build_refiner_builder",
    "build_refiner_graph",
    "describe_environment",
    "open_persistence",
    "validate_user_message",
]
__version__ = "0.1.0"
