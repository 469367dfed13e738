"""Runtime contexts of the two graphs: who is talking, which models, which policy.

Passed per run as ``graph.ainvoke(..., context=MediatorContext(...))`` (the
mediator graph) or ``context=RefinerContext(...)`` (the refiner graph). Both
share :class:`ModelSettings`, the endpoint and sampling settings. Every field
has a default read from the environment, so a bare ``MediatorContext()`` (or no
context at all: LangGraph may hand nodes ``None``) describes a working setup.

The environment is read by :mod:`~langgraph_mediator.state.environment`; what a
LangGraph Server run may set, and whose run it is, by
:mod:`~langgraph_mediator.state.run_policy`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, Self, get_args

from langgraph_mediator.state import run_policy
from langgraph_mediator.state.environment import (
    default_user_id,
    env_bool,
    env_float,
    env_int,
    env_text,
    model_from_env,
)

if TYPE_CHECKING:
    from langgraph.runtime import Runtime

ClarificationPolicy = Literal["never", "when_missing", "always"]
"""When the Mediator may ask the user a question instead of executing.

* ``never``: always execute with what is known.
* ``when_missing``: ask when the Mediator reports missing information that the
  task cannot do without (the default).
* ``always``: ask on every turn until the per-task budget is spent.

Under every policy a question already asked in the task (answered or passed
over) is never asked again.
"""

ClarificationMode = Literal["end_turn", "interrupt"]
"""How a clarifying question reaches the user.

* ``end_turn``: the question is the turn's reply and the run ends; the user's
  next message (a new run) is read as the answer. Works with any client.
* ``interrupt``: the run pauses with ``interrupt()``; the app resumes the same
  run with ``Command(resume=answer)`` and the turn goes on to an answer.
"""

StructuredOutput = Literal["auto", "tool_call", "json_schema", "json_object"]
"""How structured output is asked for (see :mod:`langgraph_mediator.models.structured`).

* ``auto``: chosen by endpoint (OpenAI, Ollama, LM Studio, vLLM: ``json_schema``;
  the embedded model and others: ``tool_call``).
* ``tool_call``: a forced tool call; ``json_schema``: a strict response-format
  schema; ``json_object``: JSON mode with the schema in the prompt.
"""

AssistantInput = Literal["instruction", "instruction_and_history"]
"""What the Assistant receives: the explicit instruction alone (the paper's
setting and the default), or the raw conversation followed by the instruction."""


MAX_QUESTIONS_LIMIT = 20
"""Most clarifying questions a task may be given: a budget, not a way to stall a thread."""
ASSISTANT_ENVIRONMENT_CHARS = 20_000
"""Longest description of the Assistant's environment a context may carry."""
ENVIRONMENT_SHOWN_CHARS = 4_000
"""How much of that description the Mediator's prompt shows (the rest is cut)."""


def _setting(
    default: Callable[[], Any], description: str, *, env: str | None = None, per_run: bool = False
) -> Any:
    """A context field: its default read when the context is made, and its help in Studio.

    ``per_run`` fields may be set by a LangGraph Server client in a run's
    context; the others (endpoint, keys, models, limits) belong to the
    server's environment variable ``env``, and a run that sets them is refused.
    """
    metadata = {"description": description, "env": env, "per_run": per_run}
    return field(default_factory=default, metadata=metadata)


@dataclass(kw_only=True)
class ModelSettings:
    """Where model calls go and how they are sampled: the part both graphs' contexts share.

    ``base_url`` left ``None`` falls back to the embedded local model server,
    which needs no key and no network.
    """

    base_url: str | None = _setting(
        lambda: env_text("OPENAI_BASE_URL"),
        "OpenAI-compatible endpoint. Unset: the embedded local model.",
        env="OPENAI_BASE_URL",
    )
    api_key: str | None = _setting(
        lambda: env_text("OPENAI_API_KEY"),
        "Key for base_url. Unset: a placeholder (local servers ignore it).",
        env="OPENAI_API_KEY",
    )
    temperature: float = _setting(
        lambda: env_float("MEDIATOR_TEMPERATURE", 0.0),
        "Sampling temperature of every call.",
        env="MEDIATOR_TEMPERATURE",
        per_run=True,
    )
    max_tokens: int = _setting(
        lambda: env_int("MEDIATOR_MAX_TOKENS", 512),
        "Completion cap per model call (sent as max_tokens).",
        env="MEDIATOR_MAX_TOKENS",
    )
    request_timeout: float = _setting(
        lambda: env_float("MEDIATOR_TIMEOUT", 120.0),
        "Seconds before a model request is abandoned.",
        env="MEDIATOR_TIMEOUT",
    )
    max_retries: int = _setting(
        lambda: env_int("MEDIATOR_MAX_RETRIES", 2),
        "Retries of a failed request (connection errors, 5xx).",
        env="MEDIATOR_MAX_RETRIES",
    )
    structured_output: StructuredOutput = _setting(
        lambda: env_text("MEDIATOR_STRUCTURED_OUTPUT", "auto"),
        "auto | tool_call | json_schema | json_object: how structured output is asked for.",
        env="MEDIATOR_STRUCTURED_OUTPUT",
    )

    def __post_init__(self) -> None:
        """Reject settings that would only fail later, deep inside a run."""
        check_choices(self, _MODEL_CHOICES)

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

    @classmethod
    def for_run(cls, runtime: Runtime[Any]) -> Self:
        """The settings a node runs with: :meth:`from_runtime`, checked against its caller.

        Through LangGraph Server (``runtime.server_info`` is set) the context
        is the client's, so only :meth:`per_run_fields` may differ from the
        server's environment.

        Raises:
            RunContextError: the run's context set a server-only field.

        """
        context = cls.from_runtime(runtime.context)
        if run_policy.on_server(runtime):
            context.refuse_server_settings()
        return context

    @classmethod
    def per_run_fields(cls) -> list[str]:
        """The fields a LangGraph Server client may set in a run's context."""
        return run_policy.per_run_fields(cls)

    def refuse_server_settings(self) -> None:
        """Raise when a server-only field differs from the server's environment.

        See :func:`langgraph_mediator.state.run_policy.refuse_server_settings`.

        Raises:
            RunContextError: a server-only field differs; named with its variable, never its value.

        """
        run_policy.refuse_server_settings(self, type(self)())


@dataclass(kw_only=True)
class MediatorContext(ModelSettings):
    """Run-scoped configuration of the mediator graph."""

    user_id: str = _setting(
        default_user_id,
        "Whose guidelines are read: Store namespace ('guidelines', user_id). "
        "Behind custom auth, the authenticated identity.",
        env="MEDIATOR_USER_ID",
        per_run=True,
    )
    mediator_model: str = _setting(
        model_from_env,
        "Model that reads intent and classifies feedback. Unset: the one model the "
        "endpoint serves, or the embedded model.",
        env="MEDIATOR_MODEL",
    )
    assistant_model: str = _setting(
        lambda: model_from_env("MEDIATOR_ASSISTANT_MODEL"),
        "Model of the default Assistant (when no executor is plugged in).",
        env="MEDIATOR_ASSISTANT_MODEL",
    )
    clarification_policy: ClarificationPolicy = _setting(
        lambda: env_text("MEDIATOR_CLARIFY_POLICY", "when_missing"),
        "never | when_missing | always.",
        env="MEDIATOR_CLARIFY_POLICY",
        per_run=True,
    )
    clarification_mode: ClarificationMode = _setting(
        lambda: env_text("MEDIATOR_CLARIFICATION_MODE", "end_turn"),
        "end_turn | interrupt: end the turn with the question, or pause.",
        env="MEDIATOR_CLARIFICATION_MODE",
        per_run=True,
    )
    max_questions_per_task: int = _setting(
        lambda: env_int("MEDIATOR_MAX_QUESTIONS", 2),
        "Clarifying questions allowed per task; asking too much fails too.",
        env="MEDIATOR_MAX_QUESTIONS",
        per_run=True,
    )
    assistant_input: AssistantInput = _setting(
        lambda: "instruction",
        "instruction | instruction_and_history: what the Assistant sees.",
        per_run=True,
    )
    single_task: bool = _setting(
        lambda: env_bool("MEDIATOR_SINGLE_TASK", False),
        "Treat the thread as one task: a mid-thread 'new_task' reading counts as new "
        "information (the sharded-conversation protocol; small models over-predict new tasks).",
        env="MEDIATOR_SINGLE_TASK",
        per_run=True,
    )
    assistant_environment: str = _setting(
        lambda: env_text("MEDIATOR_ASSISTANT_ENVIRONMENT", "") or "",
        "What the Assistant already has (its system prompt, tools, a schema), so the "
        "Mediator never asks the user for it. Shown to the Mediator fenced, cut at "
        f"{ENVIRONMENT_SHOWN_CHARS:,} characters.",
        env="MEDIATOR_ASSISTANT_ENVIRONMENT",
        per_run=True,
    )
    max_message_chars: int = _setting(
        lambda: env_int("MEDIATOR_MAX_MESSAGE_CHARS", 20_000),
        "Longest user message accepted.",
        env="MEDIATOR_MAX_MESSAGE_CHARS",
    )

    def __post_init__(self) -> None:
        """Reject settings that would only fail later, deep inside a run."""
        super().__post_init__()
        check_choices(self, _CHOICES)
        if not 0 <= self.max_questions_per_task <= MAX_QUESTIONS_LIMIT:
            raise ValueError(f"max_questions_per_task must be in 0..{MAX_QUESTIONS_LIMIT}")
        if not self.user_id.strip():
            raise ValueError("user_id must not be empty")
        if not isinstance(self.assistant_environment, str):
            raise ValueError("assistant_environment must be text")
        if len(self.assistant_environment) > ASSISTANT_ENVIRONMENT_CHARS:
            raise ValueError(
                f"assistant_environment has {len(self.assistant_environment):,} characters; "
                f"the limit is {ASSISTANT_ENVIRONMENT_CHARS:,}: describe the Assistant's "
                "tools and data briefly (MEDIATOR_ASSISTANT_ENVIRONMENT)."
            )

    @classmethod
    def for_run(cls, runtime: Runtime[Any]) -> Self:
        """The run's settings, acting as the authenticated caller when there is one.

        Raises:
            RunContextError: the run's context set a server-only field.
            UserMismatchError: the context names a user other than the caller.

        """
        return super().for_run(runtime).as_caller(run_policy.server_info_of(runtime))

    def as_caller(self, server_info: object) -> Self:
        """These settings acting as the run's authenticated caller (``server_info.user``).

        An unset ``user_id`` (the environment's default) becomes the caller's
        identity; another user's is refused.

        Raises:
            UserMismatchError: ``user_id`` names a user other than the caller.

        """
        user_id = run_policy.caller_user_id(self.user_id, server_info)
        return self if user_id == self.user_id else replace(self, user_id=user_id)


def check_choices(settings: object, choices: tuple[tuple[str, Any, str | None], ...]) -> None:
    """Raise ``ValueError`` naming the field (and its variable) whose value is not a choice."""
    for name, allowed, env in choices:
        value = getattr(settings, name)
        if value not in get_args(allowed):
            where = f" (env {env})" if env else ""
            raise ValueError(f"{name} must be one of {get_args(allowed)}, got {value!r}{where}")


_MODEL_CHOICES: tuple[tuple[str, Any, str | None], ...] = (
    ("structured_output", StructuredOutput, "MEDIATOR_STRUCTURED_OUTPUT"),
)

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
        lambda: model_from_env("MEDIATOR_REFINER_MODEL"),
        "Model of the Refiner (guideline learning).",
        env="MEDIATOR_REFINER_MODEL",
    )
