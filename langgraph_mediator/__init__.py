"""langgraph-mediator: keep a multi-turn conversation aligned with what the user means.

A Mediator reads each turn into intent, a requirement ledger and an explicit,
fully specified instruction, and hands that to a pluggable Assistant.
"""

from langgraph_mediator.errors import (
    InvalidMessageError,
    LocalModelError,
    MediatorError,
    ModelEndpointError,
    ThreadOwnershipError,
    UnknownThreadError,
)
from langgraph_mediator.graphs import build_mediator_builder, build_mediator_graph
from langgraph_mediator.messages import validate_user_message
from langgraph_mediator.state import MediatorContext, MediatorReading, MediatorState

__all__ = [
    "InvalidMessageError",
    "LocalModelError",
    "MediatorContext",
    "MediatorError",
    "MediatorReading",
    "MediatorState",
    "ModelEndpointError",
    "ThreadOwnershipError",
    "UnknownThreadError",
    "build_mediator_builder",
    "build_mediator_graph",
    "validate_user_message",
]
__version__ = "0.1.0"
