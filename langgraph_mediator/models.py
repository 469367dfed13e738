"""Chat models: built lazily with ChatOpenAI, so any OpenAI-compatible endpoint works.

Also turns endpoint failures into one clear :class:`ModelEndpointError` naming
the setting to change, and reads calls and tokens off each response.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI
from langgraph.constants import TAG_NOSTREAM
from pydantic import BaseModel, ValidationError

from langgraph_mediator.errors import ModelEndpointError
from langgraph_mediator.local_server import LOCAL_MODEL_ALIAS, ensure_local_server
from langgraph_mediator.state.context import MediatorContext
from langgraph_mediator.state.mediator import ModelCall

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_models: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], ChatOpenAI]] = (
    WeakKeyDictionary()
)


def resolve_endpoint(context: MediatorContext) -> tuple[str, str, bool]:
    """Return ``(base_url, api_key, is_local)``; starts the embedded server if none is set."""
    if context.base_url:
        return context.base_url, context.api_key or "not-needed", False
    server = ensure_local_server()
    return server.base_url, "local", True


def _model_name(requested: str, is_local: bool) -> str:
    # The embedded server knows one model; any name would do, its alias is clearest.
    return LOCAL_MODEL_ALIAS if is_local else requested


def build_chat_model(
    context: MediatorContext, model: str, *, loop: asyncio.AbstractEventLoop | None = None
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


async def abuild_chat_model(context: MediatorContext, model: str) -> ChatOpenAI:
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


def endpoint_error(exc: Exception, base_url: str | None) -> ModelEndpointError | None:
    """Translate an OpenAI client error into one message naming the setting to change."""
    where = base_url or "the embedded local model server"
    if isinstance(exc, openai.APITimeoutError):
        return ModelEndpointError(
            f"The model endpoint {where} did not answer in time. Raise MEDIATOR_TIMEOUT, "
            "or point OPENAI_BASE_URL at a faster endpoint."
        )
    if isinstance(exc, openai.APIConnectionError):
        return ModelEndpointError(
            f"Cannot reach the model endpoint {where}. Check OPENAI_BASE_URL "
            "(unset it to use the embedded local model)."
        )
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ModelEndpointError(
            f"The model endpoint {where} refused the API key. Check OPENAI_API_KEY."
        )
    if isinstance(exc, openai.NotFoundError):
        return ModelEndpointError(
            f"The model endpoint {where} does not know the model. Check MEDIATOR_MODEL "
            "and MEDIATOR_ASSISTANT_MODEL."
        )
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


async def guarded_call(
    call: Callable[[], Awaitable[T]], *, base_url: str | None
) -> tuple[T, float]:
    """Await ``call``; return its result and duration, or raise a clear endpoint error."""
    began = time.perf_counter()
    try:
        result = await call()
    except openai.OpenAIError as exc:
        translated = endpoint_error(exc, base_url)
        if translated is None:
            raise
        raise translated from exc
    return result, time.perf_counter() - began


def usage_of(messages: list[BaseMessage]) -> tuple[int, int, int]:
    """Count ``(calls, prompt_tokens, completion_tokens)`` over the AI messages given."""
    calls = prompt = completion = 0
    for message in messages:
        if isinstance(message, AIMessage):
            calls += 1
            if message.usage_metadata:
                prompt += message.usage_metadata["input_tokens"]
                completion += message.usage_metadata["output_tokens"]
    return calls, prompt, completion


def call_record(node: str, model: str, message: BaseMessage | None, seconds: float) -> ModelCall:
    """A usage record for one call from its response message."""
    _, prompt, completion = usage_of([message] if message is not None else [])
    return ModelCall(node=node, model=model, prompt_tokens=prompt,
                     completion_tokens=completion, seconds=round(seconds, 4))  # fmt: skip


def bind_schema_tool(model: BaseChatModel, schema: type[BaseModel]) -> Runnable[Any, Any]:
    """``model`` forced to call ``schema`` as a tool, without a parser chain.

    Bound as ``with_structured_output(method="function_calling")`` binds it;
    its parser chain (``include_raw`` maps and lambdas) cost ~2.4 ms per call
    with an instant model, most of the graph's own overhead (BENCHMARKS.md), so
    the reply is parsed here with pydantic instead.
    """
    options: dict[str, Any] = {"tool_choice": schema.__name__}
    if isinstance(model, ChatOpenAI):
        options |= {"parallel_tool_calls": False, "ls_structured_output_format": {
            "kwargs": {"method": "function_calling"}, "schema": schema}}  # fmt: skip
    return model.bind_tools([schema], **options)


def parse_schema_call(message: BaseMessage, schema: type[M]) -> tuple[M | None, str]:
    """The reply's first call of ``schema``, validated; else ``None`` and why."""
    if not isinstance(message, AIMessage):
        return None, "the reply is not an AI message"
    for call in message.tool_calls:
        if call["name"] == schema.__name__:
            try:
                return schema.model_validate(call["args"]), ""
            except ValidationError as exc:
                return None, str(exc)
    if message.invalid_tool_calls:
        return None, f"malformed tool call: {message.invalid_tool_calls[0].get('error')}"
    return None, "no structured output in the reply"


async def ask_structured(
    model: BaseChatModel,
    schema: type[M],
    prompt: list[BaseMessage],
    *,
    node: str,
    base_url: str | None,
    attempts: int = 2,
) -> tuple[M | None, list[ModelCall], str]:
    """Ask for ``schema`` by function calling; retry malformed output up to ``attempts`` calls.

    Returns the parsed object (``None`` when every attempt was malformed), one
    usage record per call, and the last parsing error. Endpoint failures raise
    :class:`ModelEndpointError`. The call is tagged ``nostream`` so streamed
    ``messages`` carry only the Assistant's tokens.
    """
    bound = bind_schema_tool(model, schema).with_config(
        tags=[TAG_NOSTREAM], run_name=f"{node}:{schema.__name__}"
    )
    calls: list[ModelCall] = []
    error = ""
    for _attempt in range(attempts):
        began = time.perf_counter()
        try:
            reply, seconds = await guarded_call(lambda: bound.ainvoke(prompt), base_url=base_url)
        except ValueError as exc:  # pydantic's ValidationError too
            # The client could not build a message from the reply (tool arguments that
            # are JSON but not an object): as malformed as a reply that fails the schema.
            calls.append(call_record(node, model_label(model), None, time.perf_counter() - began))
            error = f"unreadable reply: {exc}"[:300]
            continue
        calls.append(call_record(node, model_label(model), reply, seconds))
        parsed, error = parse_schema_call(reply, schema)
        if parsed is not None:
            return parsed, calls, ""
        error = error[:300]
    return None, calls, error
