"""Endpoint failures turned into one clear error that names the setting to change."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import openai

from langgraph_mediator.errors import ModelEndpointError
from langgraph_mediator.text import redact_secrets

T = TypeVar("T")


_FIXED_ADVICE: tuple[tuple[tuple[type[openai.OpenAIError], ...], str], ...] = (
    (
        (openai.APITimeoutError,),
        "The model endpoint {where} did not answer in time. Raise MEDIATOR_TIMEOUT, "
        "or point OPENAI_BASE_URL at a faster endpoint.",
    ),
    (
        (openai.APIConnectionError,),
        "Cannot reach the model endpoint {where}. Check OPENAI_BASE_URL "
        "(unset it to use the embedded local model).",
    ),
    (
        (openai.AuthenticationError, openai.PermissionDeniedError),
        "The model endpoint {where} refused the API key. Check OPENAI_API_KEY.",
    ),
    (
        (openai.NotFoundError,),
        "The model endpoint {where} does not know the model. Check MEDIATOR_MODEL "
        "and MEDIATOR_ASSISTANT_MODEL.",
    ),
)
"""Client errors and what to change, most specific first (a timeout is a connection error)."""


def endpoint_error(exc: Exception, base_url: str | None) -> ModelEndpointError | None:
    """Translate an OpenAI client error into one message naming the setting to change."""
    where = redact_secrets(base_url) if base_url else "the embedded local model server"
    for kinds, advice in _FIXED_ADVICE:
        if isinstance(exc, kinds):
            return ModelEndpointError(advice.format(where=where))
    if isinstance(exc, openai.APIStatusError):
        return ModelEndpointError(
            f"The model endpoint {where} failed with HTTP {exc.status_code} "
            f"({_error_detail(exc)}). Try again later, raise MEDIATOR_MAX_RETRIES for a flaky "
            "endpoint, or check OPENAI_BASE_URL."
        )
    return None


def _error_detail(exc: openai.APIStatusError) -> str:
    """The endpoint's own error message, without the client's "Error code: N - " prefix."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return str(message)[:200]
    return str(exc.message).removeprefix(f"Error code: {exc.status_code} - ")[:200]


def guarded_call(call: Callable[[], T], *, base_url: str | None) -> tuple[T, float]:
    """Run ``call``; return its result and duration, or raise a clear endpoint error."""
    began = time.perf_counter()
    try:
        result = call()
    except openai.OpenAIError as exc:
        _raise_translated(exc, base_url)
    return result, time.perf_counter() - began


async def aguarded_call(
    call: Callable[[], Awaitable[T]], *, base_url: str | None
) -> tuple[T, float]:
    """:func:`guarded_call` for a coroutine: await ``call``, translate endpoint errors."""
    began = time.perf_counter()
    try:
        result = await call()
    except openai.OpenAIError as exc:
        _raise_translated(exc, base_url)
    return result, time.perf_counter() - began


def _raise_translated(exc: openai.OpenAIError, base_url: str | None) -> NoReturn:
    """Raise the clear endpoint error for ``exc``; ``exc`` itself when there is none to give."""
    translated = endpoint_error(exc, base_url)
    if translated is None:
        raise exc
    raise translated from exc
