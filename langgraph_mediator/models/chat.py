"""Chat models, built lazily: ChatOpenAI for any OpenAI-compatible endpoint, or any provider.

Nothing is built at import: a model is made on first use, for the running event
loop, from a context's :class:`~langgraph_mediator.state.ModelSettings`.

* A plain model name (``gpt-4o-mini``, ``qwen2.5:7b``) is a ChatOpenAI at the
  context's ``base_url``; with no endpoint set, the embedded local model server
  is started for it. No name (the default) means the endpoint's own model: the
  one it lists at ``/models``, or the embedded model.
* A ``provider:model`` string (``anthropic:claude-sonnet-4-5``,
  ``ollama:qwen2.5:7b``, ``openai:gpt-4o-mini``) goes through langchain's
  ``init_chat_model``, with the context's sampling, timeout and retries; the
  provider's own package and settings apply (``langchain-anthropic`` and
  ``ANTHROPIC_API_KEY``, ``langchain-ollama`` and ``OLLAMA_HOST``, ...).
  ``openai:`` goes to ``base_url`` with its key when one is set, else to
  OpenAI's API (``OPENAI_API_KEY``), never to the embedded model.

Apps can also pass any chat model object where a graph or the middleware takes one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from langgraph_mediator.errors import ModelEndpointError
from langgraph_mediator.models.local_server import LOCAL_MODEL_ALIAS, ensure_local_server
from langgraph_mediator.state.context import ModelSettings
from langgraph_mediator.text import redact_secrets

_models: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], BaseChatModel]] = (
    WeakKeyDictionary()
)

PROVIDERS = frozenset(
    {
        "anthropic",
        "azure_ai",
        "azure_openai",
        "bedrock",
        "bedrock_converse",
        "cohere",
        "deepseek",
        "fireworks",
        "google_genai",
        "google_vertexai",
        "groq",
        "huggingface",
        "ibm",
        "mistralai",
        "nvidia",
        "ollama",
        "openai",
        "openrouter",
        "perplexity",
        "together",
        "upstage",
        "xai",
    }
)
"""The ``provider:`` prefixes read as langchain ``init_chat_model`` providers."""


def provider_of(model: str) -> str | None:
    """The provider a ``provider:model`` string names, else ``None`` (a plain model name)."""
    prefix, separator, _ = model.partition(":")
    return prefix if separator and prefix in PROVIDERS else None


def _provider_model(context: ModelSettings, model: str) -> BaseChatModel:
    """A chat model of another provider, through ``init_chat_model``."""
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(
            model,
            temperature=context.temperature,
            max_tokens=context.max_tokens,
            timeout=context.request_timeout,
            max_retries=context.max_retries,
        )
    except ImportError as exc:
        provider = provider_of(model) or model
        raise ValueError(
            f"Model {model!r} needs the {provider} integration: pip install "
            f"langchain-{provider.replace('_', '-')} ({exc})"
        ) from exc


def resolve_endpoint(context: ModelSettings) -> tuple[str, str, bool]:
    """Return ``(base_url, api_key, is_local)``; starts the embedded server if none is set."""
    if context.base_url:
        return context.base_url, context.api_key or "not-needed", False
    server = ensure_local_server()
    return server.base_url, "local", True


def _model_name(requested: str, base_url: str, api_key: str, is_local: bool) -> str:
    # The embedded server knows one model; any name would do, its alias is clearest.
    if is_local:
        return LOCAL_MODEL_ALIAS
    return requested or served_model(base_url, api_key)


_served: dict[str, str] = {}


def served_model(base_url: str, api_key: str) -> str:
    """The one model the endpoint serves (``GET /models``): an unset model name's default.

    A run against an endpoint is then named after the model that answered it,
    never after the embedded model. Asked once per endpoint.

    Raises:
        ModelEndpointError: the endpoint cannot say, or serves several models
            (the message lists some and names the variables to set).

    """
    if base_url not in _served:
        _served[base_url] = _only_model(base_url, _listed_models(base_url, api_key))
    return _served[base_url]


def _listed_models(base_url: str, api_key: str) -> list[str]:
    where = redact_secrets(base_url)
    try:
        response = httpx.get(
            f"{base_url.rstrip('/')}/models",
            timeout=10.0,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        response.raise_for_status()
        entries = response.json().get("data", [])
    except (httpx.ConnectError, httpx.TimeoutException) as exc:
        raise ModelEndpointError(
            f"Cannot reach the model endpoint {where}. Check OPENAI_BASE_URL (unset it to "
            "use the embedded local model), or set MEDIATOR_MODEL to skip asking it for "
            "its model."
        ) from exc
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise ModelEndpointError(
            f"No model name is set and the endpoint {where} did not list its models "
            f"({type(exc).__name__}). Set MEDIATOR_MODEL (and MEDIATOR_ASSISTANT_MODEL) "
            "to the model it serves."
        ) from exc
    return [str(e["id"]) for e in entries if isinstance(e, dict) and e.get("id")]


def _only_model(base_url: str, models: list[str]) -> str:
    if len(models) == 1:
        return models[0]
    listed = ", ".join(models[:5]) + (", ..." if len(models) > 5 else "")
    raise ModelEndpointError(
        f"No model name is set and the endpoint {redact_secrets(base_url)} serves "
        f"{len(models)} models ({listed or 'none listed'}). Set MEDIATOR_MODEL (and "
        "MEDIATOR_ASSISTANT_MODEL, MEDIATOR_REFINER_MODEL) to the one to use."
    )


def build_chat_model(
    context: ModelSettings, model: str, *, loop: asyncio.AbstractEventLoop | None = None
) -> BaseChatModel:
    """The chat model ``model`` names (see the module), cached per settings and loop.

    ``loop=None`` is for sync calls (``invoke``); :func:`abuild_chat_model` passes
    the running loop. Each event loop gets its own models and async HTTP client: a client bound to
    a closed loop fails with "Event loop is closed" (and langchain-openai's
    default client is shared process-wide). ``max_tokens`` goes in
    ``extra_body`` because llama.cpp's server ignores the
    ``max_completion_tokens`` field ChatOpenAI sends.
    """
    provider = provider_of(model)
    if provider is not None and (provider != "openai" or not context.base_url):
        return _cached(
            loop,
            ("provider", model, *_call_settings(context)),
            lambda: _provider_model(context, model),
        )
    if provider == "openai":
        model = model.partition(":")[2]
    base_url, api_key, is_local = resolve_endpoint(context)
    name = _model_name(model, base_url, api_key, is_local)
    key = (base_url, api_key, name, *_call_settings(context))
    return _cached(loop, key, lambda: _endpoint_model(context, name, base_url, api_key))


def _call_settings(context: ModelSettings) -> tuple[Any, ...]:
    """The settings a model is built with: a change to any of them is another cached model."""
    return (context.temperature, context.max_tokens, context.request_timeout, context.max_retries)


def _endpoint_model(context: ModelSettings, name: str, base_url: str, api_key: str) -> ChatOpenAI:
    """A ChatOpenAI for ``name`` at the OpenAI-compatible endpoint ``base_url``."""
    return ChatOpenAI(
        model=name,
        base_url=base_url,
        api_key=api_key,  # type: ignore[arg-type]
        temperature=context.temperature,
        timeout=context.request_timeout,
        max_retries=context.max_retries,
        extra_body={"max_tokens": context.max_tokens},
        stream_usage=True,
        http_async_client=httpx.AsyncClient(timeout=context.request_timeout),
    )


_sync_models: dict[tuple[Any, ...], BaseChatModel] = {}
"""Models for sync calls (``invoke``): their HTTP client is not bound to any event loop."""


def _cached(
    loop: asyncio.AbstractEventLoop | None,
    key: tuple[Any, ...],
    build: Callable[[], BaseChatModel],
) -> BaseChatModel:
    """The model for ``key`` on ``loop`` (``None``: for sync calls), built once per loop."""
    cache = _models.setdefault(loop, {}) if loop is not None else _sync_models
    if key not in cache:
        cache[key] = build()
    return cache[key]


async def abuild_chat_model(context: ModelSettings, model: str) -> BaseChatModel:
    """:func:`build_chat_model` for the running loop, built off the loop.

    The first build may start the embedded server and always loads TLS
    certificates: blocking work that LangGraph Server rejects inside a run.
    """
    loop = asyncio.get_running_loop()
    return await asyncio.to_thread(build_chat_model, context, model, loop=loop)


def model_label(model: BaseChatModel) -> str:
    """A short name for usage records."""
    return str(
        getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
    )
