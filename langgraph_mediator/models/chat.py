"""Chat models, built lazily with ChatOpenAI so any OpenAI-compatible endpoint works.

Nothing is built at import: a model is made on first use, for the running event
loop, from a context's :class:`~langgraph_mediator.state.ModelSettings`; with no
endpoint set, the embedded local model server is started for it.
"""

from __future__ import annotations

import asyncio
from typing import Any
from weakref import WeakKeyDictionary

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from langgraph_mediator.models.local_server import LOCAL_MODEL_ALIAS, ensure_local_server
from langgraph_mediator.state.context import ModelSettings

_models: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], ChatOpenAI]] = (
    WeakKeyDictionary()
)


def resolve_endpoint(context: ModelSettings) -> tuple[str, str, bool]:
    """Return ``(base_url, api_key, is_local)``; starts the embedded server if none is set."""
    if context.base_url:
        return context.base_url, context.api_key or "not-needed", False
    server = ensure_local_server()
    return server.base_url, "local", True


def _model_name(requested: str, is_local: bool) -> str:
    # The embedded server knows one model; any name would do, its alias is clearest.
    return LOCAL_MODEL_ALIAS if is_local else requested


def build_chat_model(
    context: ModelSettings, model: str, *, loop: asyncio.AbstractEventLoop | None = None
) -> ChatOpenAI:
    """A ChatOpenAI for ``model`` at the context's endpoint, cached per settings and loop.

    Each event loop gets its own models and async HTTP client: a client bound to
    a closed loop fails with "Event loop is closed" (and langchain-openai's
    default client is shared process-wide). ``max_tokens`` goes in
    ``extra_body`` because llama.cpp's server ignores the
    ``max_completion_tokens`` field ChatOpenAI sends.
    """
    base_url, api_key, is_local = resolve_endpoint(context)
    name = _model_name(model, is_local)
    key = (base_url, api_key, name, context.temperature, context.max_tokens,
           context.request_timeout, context.max_retries)  # fmt: skip
    cache = _models.setdefault(loop, {}) if loop is not None else {}
    if key not in cache:
        cache[key] = ChatOpenAI(
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
    return cache[key]


async def abuild_chat_model(context: ModelSettings, model: str) -> ChatOpenAI:
    """:func:`build_chat_model` for the running loop, built off the loop.

    The first build may start the embedded server and always loads TLS
    certificates: blocking work that LangGraph Server rejects inside a run.
    """
    loop = asyncio.get_running_loop()
    return await asyncio.to_thread(build_chat_model, context, model, loop=loop)


def model_label(model: BaseChatModel) -> str:
    """A short name for usage records."""
    return str(getattr(model, "model_name", None) or getattr(model, "model", None)
               or type(model).__name__)  # fmt: skip
