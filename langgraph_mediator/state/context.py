"""Runtime contexts of the two graphs: who is talking, which models, which policy.

Passed per run as ``graph.ainvoke(..., context=MediatorContext(...))`` (the
mediator graph) or ``context=RefinerContext(...)`` (the refiner graph). Both
share :class:`ModelSettings`, the endpoint and sampling settings. Every field
has a default read from the environment, so a bare ``MediatorContext()`` (or no
context at all: LangGraph may hand nodes ``None``) describes a working setup.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal, Self, get_args

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


_DEFAULT_MODEL = "smollm2-135m-instruct"


def _setting(default: Callable[[], Any], description: str) -> Any:
    """A context field: its default read when the context is made, and its help in Studio."""
    return field(default_factory=default, metadata={"description": description})


def _model_env(*names: str) -> str:
    """The first of ``names`` set in the environment, else ``MEDIATOR_MODEL``, else the default."""
    for name in (*names, "MEDIATOR_MODEL"):
        value = _env(name)
        if value is not None:
            return value
    return _DEFAULT_MODEL


@dataclass(kw_only=True)
class ModelSettings:
    """Where model calls go and how they are sampled: the part both graphs' contexts share.

    ``base_url`` left ``None`` falls back to the embedded local model server,
    which needs no key and no network.
    """

    base_url: str | None = _setting(
        lambda: _env("OPENAI_BASE_URL"),
        "OpenAI-compatible endpoint. Unset: the embedded local model.",
    )
    api_key: str | None = _setting(
        lambda: _env("OPENAI_API_KEY"),
        "Key for base_url. Unset: a placeholder (local servers ignore it).",
    )
    temperature: float = _setting(
        lambda: _env_float("MEDIATOR_TEMPERATURE", 0.0), "Sampling temperature of every call."
    )
    max_tokens: int = _setting(
        lambda: _env_int("MEDIATOR_MAX_TOKENS", 512),
        "Completion cap per model call (sent as max_tokens).",
    )
    request_timeout: float = _setting(
        lambda: _env_float("MEDIATOR_TIMEOUT", 120.0),
        "Seconds before a model request is abandoned.",
    )
    max_retries: int = _setting(
        lambda: _env_int("MEDIATOR_MAX_RETRIES", 2),
        "Retries of a failed request (connection errors, 5xx).",
    )

    @classmethod
    def from_runtime(cls, context: object) -> Self:
        """Normalise what LangGraph hands a node into this class.

        ``None`` gives the defaults; a dict (LangGraph Server) or another
        context dataclass (a ``MediatorContext`` handed to the refiner graph,
        say) gives the fields this class knows, the rest at their defaults.
        """
        if context is None:
            return cls()
        if isinstance(context, cls):
            return context
        if isinstance(context, dict):
            values = context
        elif is_dataclass(context) and not isinstance(context, type):
            values = {f.name: getattr(context, f.name) for f in fields(context)}
        else:
            raise TypeError(
                f"{cls.__name__} expected a dict or a dataclass as context, "
                f"got {type(context).__name__}"
            )
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass(kw_only=True)
class MediatorContext(ModelSettings):
    """Run-scoped configuration of the mediator graph."""

    user_id: str = _setting(
        lambda: _env("MEDIATOR_USER_ID", "default") or "default",
        "Whose guidelines are read: Store namespace ('guidelines', user_id).",
    )
    mediator_model: str = _setting(_model_env, "Model that reads intent and classifies feedback.")
    assistant_model: str = _setting(
        lambda: _model_env("MEDIATOR_ASSISTANT_MODEL"),
        "Model of the default Assistant (when no executor is plugged in).",
    )
    clarification_policy: ClarificationPolicy = _setting(
        lambda: _env("MEDIATOR_CLARIFY_POLICY", "when_missing"),
        "never | when_missing | always.",
    )
    clarification_mode: ClarificationMode = _setting(
        lambda: _env("MEDIATOR_CLARIFICATION_MODE", "end_turn"),
        "end_turn | interrupt: end the turn with the question, or pause.",
    )
    max_questions_per_task: int = _setting(
        lambda: _env_int("MEDIATOR_MAX_QUESTIONS", 2),
        "Clarifying questions allowed per task; asking too much fails too.",
    )
    assistant_input: AssistantInput = _setting(
        lambda: "instruction", "instruction | instruction_and_history: what the Assistant sees."
    )
    single_task: bool = _setting(
        lambda: _env("MEDIATOR_SINGLE_TASK", "false") == "true",
        "Treat the thread as one task: a mid-thread 'new_task' reading counts as new "
        "information (the sharded-conversation protocol; small models over-predict new tasks).",
    )
    max_message_chars: int = _setting(
        lambda: _env_int("MEDIATOR_MAX_MESSAGE_CHARS", 20_000), "Longest user message accepted."
    )

    def __post_init__(self) -> None:
        """Reject settings that would only fail later, deep inside a run."""
        for name, choices, env in _CHOICES:
            value = getattr(self, name)
            if value not in get_args(choices):
                where = f" (env {env})" if env else ""
                raise ValueError(f"{name} must be one of {get_args(choices)}, got {value!r}{where}")
        if self.max_questions_per_task < 0:
            raise ValueError("max_questions_per_task must be >= 0")
        if not self.user_id.strip():
            raise ValueError("user_id must not be empty")


_CHOICES: tuple[tuple[str, Any, str | None], ...] = (
    ("clarification_policy", ClarificationPolicy, "MEDIATOR_CLARIFY_POLICY"),
    ("clarification_mode", ClarificationMode, "MEDIATOR_CLARIFICATION_MODE"),
    ("assistant_input", AssistantInput, None),
)
"""The context's fields that take one of a fixed set of values, and their variables."""


@dataclass(kw_only=True)
class RefinerContext(ModelSettings):
    """Run-scoped configuration of the refiner graph: its model and endpoint.

    Whose guidelines are refined is the run's input (``user_id``), not context.
    """

    refiner_model: str = _setting(
        lambda: _model_env("MEDIATOR_REFINER_MODEL"), "Model of the Refiner (guideline learning)."
    )
