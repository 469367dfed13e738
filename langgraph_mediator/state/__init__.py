"""Schemas of both graphs: their states, run contexts and structured model outputs.

Only data lives here (TypedDicts, dataclasses, pydantic models); the logic that
works on it is in :mod:`langgraph_mediator.core` and the nodes.
"""

from langgraph_mediator.state.context import (
    AssistantInput,
    ClarificationMode,
    ClarificationPolicy,
    MediatorContext,
    ModelSettings,
    RefinerContext,
    StructuredOutput,
)
from langgraph_mediator.state.mediator import (
    AnswerRecord,
    AskedQuestion,
    InputState,
    Intent,
    LedgerDelta,
    MediatorState,
    ModelCall,
    Requirement,
    RequirementKind,
    RequirementScope,
    RequirementStatus,
    TaskRecord,
    TurnUsage,
)
from langgraph_mediator.state.reading import (
    FeedbackKind,
    MediatorReading,
    RequirementChange,
    reading_of,
)

__all__ = [
    "AnswerRecord",
    "AskedQuestion",
    "AssistantInput",
    "StructuredOutput",
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
    "ModelSettings",
    "RefinerContext",
    "Requirement",
    "RequirementChange",
    "RequirementKind",
    "RequirementScope",
    "RequirementStatus",
    "TaskRecord",
    "TurnUsage",
    "reading_of",
]
