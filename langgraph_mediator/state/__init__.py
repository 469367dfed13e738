"""State, context and structured-output schemas of the mediator graph."""

from langgraph_mediator.state.context import (
    AssistantInput,
    ClarificationMode,
    ClarificationPolicy,
    MediatorContext,
)
from langgraph_mediator.state.ledger import (
    LedgerDelta,
    Requirement,
    active_requirements,
    apply_reading,
    format_ledger,
)
from langgraph_mediator.state.mediator import (
    InputState,
    Intent,
    MediatorState,
    ModelCall,
    TurnUsage,
)
from langgraph_mediator.state.reading import FeedbackKind, MediatorReading, RequirementChange

__all__ = [
    "AssistantInput",
    "ClarificationMode",
    "ClarificationPolicy",
    "FeedbackKind",
    "InputState",
    "Intent",
    "LedgerDelta",
    "MediatorContext",
    "MediatorReading",
    "MediatorState",
    "ModelCall",
    "Requirement",
    "RequirementChange",
    "TurnUsage",
    "active_requirements",
    "apply_reading",
    "format_ledger",
]
