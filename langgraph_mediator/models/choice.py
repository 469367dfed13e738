"""Models as users give them: a name (``"openai:gpt-4o-mini"``), a chat model, or nothing.

The graphs and the middleware take :data:`ModelChoice` wherever they take a
model. A chat model is used as given. A name is checked when the graph or
middleware is built (the provider's package is installed, its chat model can
call tools) and built per run by :func:`~.chat.build_chat_model`, so each
event loop gets its own HTTP client. ``None`` leaves the choice to the run's
context (``MEDIATOR_MODEL``, ``MEDIATOR_ASSISTANT_MODEL``, ...).
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from langgraph_mediator.models.chat import abuild_chat_model, build_chat_model, provider_of
from langgraph_mediator.state.context import ModelSettings
from langgraph_mediator.text import redact_secrets

ModelChoice = str | BaseChatModel | None
"""A model as a user gives it: a name, a chat model, or ``None`` (the context's setting)."""

EXAMPLE_NAMES = '"openai:gpt-4o-mini", "ollama:qwen2.5:7b" or "anthropic:claude-sonnet-4-5"'


def can_call_tools(model: BaseChatModel) -> bool:
    """Whether ``model``'s class implements ``bind_tools`` (structured output needs it)."""
    return type(model).bind_tools is not BaseChatModel.bind_tools


def checked_model_choice(choice: object, *, role: str, structured: bool) -> ModelChoice:
    """``choice`` if it can serve as ``role``'s model; else an error that names the fix.

    ``structured``: the role asks for structured output (the Mediator, the
    Refiner), which this package gets through tool calling.

    Raises:
        TypeError: ``choice`` is neither a name nor a chat model.
        ValueError: the name is empty, its provider's package is missing, or
            the model cannot call tools where ``structured`` needs it.

    """
    if choice is None:
        return None
    if isinstance(choice, str):
        return _checked_name(choice, role=role, structured=structured)
    if isinstance(choice, BaseChatModel):
        if structured:
            _require_tool_calling(choice, role, type(choice).__name__)
        return choice
    raise TypeError(
        f"{role} must be a model name such as {EXAMPLE_NAMES}, or a LangChain chat model "
        f"(a BaseChatModel); got {type(choice).__name__}."
    )


def _checked_name(name: str, *, role: str, structured: bool) -> str:
    """A model name, checked without any network call."""
    if not name.strip():
        raise ValueError(f"{role} is an empty model name; give one such as {EXAMPLE_NAMES}.")
    if provider_of(name) is not None:
        # Constructing the client makes no request; a plain name is a ChatOpenAI, which can.
        try:
            probe = build_chat_model(ModelSettings(), name, loop=None)
        except ValueError:
            raise  # a missing integration package: the message names it
        except Exception as exc:  # each provider raises its own kind (a missing key...)
            raise ValueError(
                f"{role} {name!r} could not be built: {redact_secrets(str(exc))[:300]}"
            ) from exc
        if structured:
            _require_tool_calling(probe, role, name)
    return name


def _require_tool_calling(model: BaseChatModel, role: str, shown: str) -> None:
    if not can_call_tools(model):
        raise ValueError(
            f"{role} {shown!r} cannot call tools, and the {role.lower()} reads each turn "
            "through a forced tool call (structured output). Use a chat model whose "
            f"integration implements bind_tools, such as {EXAMPLE_NAMES}."
        )


def chat_model_for(choice: ModelChoice, settings: ModelSettings, default: str) -> BaseChatModel:
    """The model to call in a sync run: the given one, or built from its name (or ``default``)."""
    if isinstance(choice, BaseChatModel):
        return choice
    return build_chat_model(settings, choice or default)


async def achat_model_for(
    choice: ModelChoice, settings: ModelSettings, default: str
) -> BaseChatModel:
    """:func:`chat_model_for` in an async run: built off the loop, for the running loop."""
    if isinstance(choice, BaseChatModel):
        return choice
    return await abuild_chat_model(settings, choice or default)
