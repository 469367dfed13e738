"""Runtime context of the mediator graph: who is talking, which models, which policy.

Passed per run as ``graph.ainvoke(..., context=MediatorContext(...))``. Every field
has a default read from the environment, so a bare ``MediatorContext()`` (or no
context at all: LangGraph may hand nodes ``None``) describes a working setup.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args

ClarificationPolicy = Literal["never", "when_missing", "always"]
"""When the Mediator may ask the user a question instead of executing.

* ``never``: always execute with what is known.
* ``when_missing``: ask when the Mediator reports missing information that the
  task cannot do without (the default).
* ``always``: ask on every turn until the per-task budget is spent.
"""

ClarificationMode = Literal["end_turn", "interrupt"]
"""How a clarifying question reaches the user.

* ``end_turn``: the question is the turn's reply and the run ends; the user's
  next message (a new run) is read as the answer. Works with any client.
* ``interrupt``: the run pauses with ``interrupt()``; the app resumes the same
  run with ``Command(resume=answer)`` and the turn goes on to an answer.
"""

AssistantInput = Literal["instruction", "instruction_and_history"]
"""What the Assistant receives: the explicit instruction alone (the paper's
setting and the default), or the raw conversation followed by the instruction."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw is not None else default


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    return float(raw) if raw is not None else default


@dataclass(kw_only=True)
class MediatorContext:
    """Run-scoped configuration of the mediator graph.

    Endpoint fields left ``None`` fall back to the embedded local model server,
    which needs no key and no network.
    """

    user_id: str = field(
        default_factory=lambda: _env("MEDIATOR_USER_ID", "default") or "default",
        metadata={
            "description": "Whose guidelines are read: Store namespace ('guidelines', user_id)."
        },
    )
    base_url: str | None = field(
        default_factory=lambda: _env("OPENAI_BASE_URL"),
        metadata={"description": "OpenAI-compatible endpoint. Unset: the embedded local model."},
    )
    api_key: str | None = field(
        default_factory=lambda: _env("OPENAI_API_KEY"),
        metadata={
            "description": "Key for base_url. Unset: a placeholder (local servers ignore it)."
        },
    )
    mediator_model: str = field(
        default_factory=lambda: _env("MEDIATOR_MODEL", "smollm2-135m-instruct") or "",
        metadata={"description": "Model that reads intent and classifies feedback."},
    )
    assistant_model: str = field(
        default_factory=lambda: (
            _env("MEDIATOR_ASSISTANT_MODEL")
            or _env("MEDIATOR_MODEL", "smollm2-135m-instruct")
            or ""
        ),
        metadata={
            "description": "Model of the default Assistant (when no executor is plugged in)."
        },
    )
    refiner_model: str = field(
        default_factory=lambda: (
            _env("MEDIATOR_REFINER_MODEL") or _env("MEDIATOR_MODEL", "smollm2-135m-instruct") or ""
        ),
        metadata={"description": "Model of the Refiner (guideline learning)."},
    )
    clarification_policy: ClarificationPolicy = field(
        default_factory=lambda: _policy_from_env(),
        metadata={"description": "never | when_missing | always."},
    )
    clarification_mode: ClarificationMode = field(
        default_factory=lambda: _env("MEDIATOR_CLARIFICATION_MODE", "end_turn"),  # type: ignore[arg-type,return-value]
        metadata={"description": "end_turn | interrupt: end the turn with the question, or pause."},
    )
    max_questions_per_task: int = field(
        default_factory=lambda: _env_int("MEDIATOR_MAX_QUESTIONS", 2),
        metadata={
            "description": "Clarifying questions allowed per task; asking too much fails too."
        },
    )
    assistant_input: AssistantInput = field(
        default="instruction",
        metadata={"description": "instruction | instruction_and_history: what the Assistant sees."},
    )
    single_task: bool = field(
        default_factory=lambda: _env("MEDIATOR_SINGLE_TASK", "false") == "true",
        metadata={
            "description": "Treat the thread as one task: a mid-thread 'new_task' reading counts "
            "as new information (the sharded-conversation protocol; small models over-predict "
            "new tasks)."
        },
    )
    temperature: float = field(default_factory=lambda: _env_float("MEDIATOR_TEMPERATURE", 0.0))
    max_tokens: int = field(
        default_factory=lambda: _env_int("MEDIATOR_MAX_TOKENS", 512),
        metadata={"description": "Completion cap per model call (sent as max_tokens)."},
    )
    request_timeout: float = field(
        default_factory=lambda: _env_float("MEDIATOR_TIMEOUT", 120.0),
        metadata={"description": "Seconds before a model request is abandoned."},
    )
    max_retries: int = field(
        default_factory=lambda: _env_int("MEDIATOR_MAX_RETRIES", 2),
        metadata={"description": "Retries of a failed request (connection errors, 5xx)."},
    )
    max_message_chars: int = field(
        default_factory=lambda: _env_int("MEDIATOR_MAX_MESSAGE_CHARS", 20_000),
        metadata={"description": "Longest user message accepted."},
    )

    def __post_init__(self) -> None:
        """Reject settings that would only fail later, deep inside a run."""
        if self.clarification_policy not in get_args(ClarificationPolicy):
            raise ValueError(
                f"clarification_policy must be one of {get_args(ClarificationPolicy)}, "
                f"got {self.clarification_policy!r} (env MEDIATOR_CLARIFY_POLICY)"
            )
        if self.clarification_mode not in get_args(ClarificationMode):
            raise ValueError(
                f"clarification_mode must be one of {get_args(ClarificationMode)}, "
                f"got {self.clarification_mode!r} (env MEDIATOR_CLARIFICATION_MODE)"
            )
        if self.assistant_input not in get_args(AssistantInput):
            raise ValueError(
                f"assistant_input must be one of {get_args(AssistantInput)}, "
                f"got {self.assistant_input!r}"
            )
        if self.max_questions_per_task < 0:
            raise ValueError("max_questions_per_task must be >= 0")
        if not self.user_id.strip():
            raise ValueError("user_id must not be empty")

    @classmethod
    def from_runtime(cls, context: MediatorContext | dict[str, Any] | None) -> MediatorContext:
        """Normalise what LangGraph hands a node: ``None``, a dict (server) or an instance."""
        if context is None:
            return cls()
        if not isinstance(context, dict):
            return context
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in context.items() if k in known})


def _policy_from_env() -> ClarificationPolicy:
    value = _env("MEDIATOR_CLARIFY_POLICY", "when_missing")
    return value  # type: ignore[return-value]  # validated in __post_init__
