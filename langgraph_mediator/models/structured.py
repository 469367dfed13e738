"""Structured output in the mode the endpoint does best, parsed with pydantic, retried once.

Four modes (``MEDIATOR_STRUCTURED_OUTPUT``, the ``structured_output`` setting):

* ``tool_call``: the schema as a tool the model is forced to call
  (``tool_choice``); llama.cpp's server (the embedded model) grammar-enforces it.
* ``json_schema``: OpenAI's strict ``response_format`` JSON schema, the reply
  being the JSON object itself; OpenAI, Ollama, vLLM and LM Studio honour it
  (Ollama ignores ``tool_choice``, so a forced tool call there often comes
  back as prose).
* ``json_object``: ``response_format`` JSON mode with the schema spelled out
  in the prompt, for servers that know JSON mode but not schemas.
* ``auto`` (the default): :func:`mode_for_endpoint` picks one of the three by
  ``base_url`` (see :data:`ENDPOINT_MODES`).

``json_schema`` and ``json_object`` are OpenAI-compatible request fields, so
they apply to ChatOpenAI models; other chat models (``anthropic:...``) use
``tool_call``. Whatever the mode, a malformed reply is retried once, then the
caller falls back (the Mediator passes the message through).
"""

from __future__ import annotations

import json
import time
from functools import cache, partial
from typing import Any, Generic, Literal, TypeVar

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_function
from langchain_openai import ChatOpenAI
from langgraph.constants import TAG_NOSTREAM
from pydantic import BaseModel, ValidationError

from langgraph_mediator.errors import ModelEndpointError
from langgraph_mediator.models.chat import model_label
from langgraph_mediator.models.endpoint import aguarded_call, guarded_call
from langgraph_mediator.models.usage import call_record
from langgraph_mediator.state.context import StructuredOutput
from langgraph_mediator.state.mediator import ModelCall
from langgraph_mediator.text import fence

M = TypeVar("M", bound=BaseModel)


StructuredMode = Literal["tool_call", "json_schema", "json_object"]

ENDPOINT_MODES: tuple[tuple[str, str, StructuredMode], ...] = (
    ("api.openai.com", "OpenAI", "json_schema"),
    (":11434", "Ollama (its default port)", "json_schema"),
    ("ollama", "Ollama (a host named so)", "json_schema"),
    (":1234", "LM Studio (its default port)", "json_schema"),
    ("vllm", "vLLM (a host named so)", "json_schema"),
)
"""``auto``: the first entry whose text is in ``base_url`` names the mode; else ``tool_call``
(the embedded model, llama.cpp servers, and any endpoint not listed)."""


def mode_for_endpoint(base_url: str | None) -> StructuredMode:
    """The mode ``auto`` picks for ``base_url`` (``None``: the embedded model)."""
    for marker, _name, mode in ENDPOINT_MODES:
        if base_url and marker in base_url.lower():
            return mode
    return "tool_call"


def resolve_mode(
    requested: StructuredOutput, model: BaseChatModel, base_url: str | None
) -> StructuredMode:
    """The concrete mode of one call: JSON modes need an OpenAI-compatible model."""
    mode = mode_for_endpoint(base_url) if requested == "auto" else requested
    return mode if isinstance(model, ChatOpenAI) else "tool_call"


def bind_schema_tool(model: BaseChatModel, schema: type[BaseModel]) -> Runnable[Any, Any]:
    """``model`` forced to call ``schema`` as a tool, without a parser chain.

    Bound as ``with_structured_output(method="function_calling")`` binds it;
    its parser chain (``include_raw`` maps and lambdas) cost ~2.4 ms per call
    with an instant model, most of the graph's own overhead (BENCHMARKS.md), so
    the reply is parsed here with pydantic instead.
    """
    options: dict[str, Any] = {"tool_choice": schema.__name__}
    if isinstance(model, ChatOpenAI):
        options |= {
            "parallel_tool_calls": False,
            "ls_structured_output_format": {
                "kwargs": {"method": "function_calling"},
                "schema": schema,
            },
        }
    return model.bind_tools([schema], **options)


def bind_response_format(
    model: BaseChatModel, schema: type[BaseModel], mode: StructuredMode
) -> Runnable[Any, Any]:
    """``model`` asked for a JSON reply: a strict schema, or JSON mode."""
    if mode == "json_object":
        return model.bind(response_format={"type": "json_object"})
    return model.bind(response_format=strict_response_format(schema))


@cache
def strict_response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """The strict ``json_schema`` response format of ``schema`` (built once per schema)."""
    strict = convert_to_openai_function(schema, strict=True)
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": strict["parameters"], "strict": True},
    }


@cache
def _json_object_rule(schema: type[BaseModel]) -> str:
    spec = json.dumps(schema.model_json_schema(), separators=(",", ":"))
    return f"Reply with one JSON object and nothing else, matching this JSON schema: {spec}"


def json_object_prompt(prompt: list[BaseMessage], schema: type[BaseModel]) -> list[BaseMessage]:
    """The prompt with the schema spelled out (JSON mode constrains syntax, not shape)."""
    return [*prompt, SystemMessage(_json_object_rule(schema))]


def parse_json_reply(message: BaseMessage, schema: type[M]) -> tuple[M | None, str]:
    """The reply's text as one JSON object of ``schema`` (a code fence around it is fine)."""
    text = message.text if isinstance(message, AIMessage) else ""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None, "no JSON object in the reply"
    try:
        return schema.model_validate_json(text[start : end + 1]), ""
    except ValidationError as exc:
        return None, str(exc)


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


def refusal_note(schema: type[BaseModel], error: str) -> HumanMessage:
    """What a retry adds to the prompt: the last reply was refused, and why (fenced)."""
    return HumanMessage(
        f"Your last reply was refused: {fence(error)}. Reply again with the whole "
        f"{schema.__name__}, correcting that."
    )


def unstreamed(model: BaseChatModel) -> BaseChatModel:
    """``model`` asked for whole replies even inside a streamed graph run.

    Under ``stream_mode="messages"`` the client would stream a structured
    reply too: its tool call arrives in fragments some servers (llama.cpp)
    mangle, and its usage goes unreported. It is read whole anyway.
    """
    return model.model_copy(update={"disable_streaming": True})


class _Attempts(Generic[M]):
    """One structured ask, bound to its mode, and what its attempts gave so far.

    The sync and async asks share it, so both bind, retry and parse alike;
    only the call itself differs.
    """

    def __init__(
        self,
        model: BaseChatModel,
        schema: type[M],
        prompt: list[BaseMessage],
        *,
        node: str,
        base_url: str | None,
        mode: StructuredOutput,
    ) -> None:
        self.mode = resolve_mode(mode, model, base_url)
        model = unstreamed(model)
        self.schema, self.node, self.label = schema, node, model_label(model)
        if self.mode == "tool_call":
            bound, self.parse = bind_schema_tool(model, schema), parse_schema_call
        else:
            bound, self.parse = bind_response_format(model, schema, self.mode), parse_json_reply
            if self.mode == "json_object":
                prompt = json_object_prompt(prompt, schema)
        self.bound = bound.with_config(tags=[TAG_NOSTREAM], run_name=f"{node}:{schema.__name__}")
        self.prompt = prompt
        self.calls: list[ModelCall] = []
        self.error = ""
        self.parsed: M | None = None

    def next_prompt(self) -> list[BaseMessage]:
        """The prompt of the next attempt: after a refusal, with why it was refused."""
        return [*self.prompt, refusal_note(self.schema, self.error)] if self.error else self.prompt

    def unreadable(self, exc: Exception, began: float) -> None:
        """The client could not build a message from the reply: as malformed as a bad one."""
        self.calls.append(call_record(self.node, self.label, None, time.perf_counter() - began))
        self.error = f"unreadable reply: {exc}"[:300]

    def read(self, reply: BaseMessage, seconds: float) -> bool:
        """Parse one reply; ``True`` when it is the answer (no further attempt needed)."""
        self.calls.append(call_record(self.node, self.label, reply, seconds))
        self.parsed, error = self.parse(reply, self.schema)
        self.error = "" if self.parsed is not None else error[:300]
        return self.parsed is not None

    def endpoint_failed(self, exc: ModelEndpointError) -> ModelEndpointError:
        """An endpoint failure, with the way out when a JSON mode may be what it refused."""
        return _with_mode_hint(exc, self.mode)

    def outcome(self) -> tuple[M | None, list[ModelCall], str]:
        """The parsed object (``None`` when every attempt was malformed), usage, last error."""
        return self.parsed, self.calls, self.error


UNREADABLE = (ValueError, openai.LengthFinishReasonError)
"""What the client raises when it cannot build a message from a reply (tool arguments that
are JSON but not an object, a JSON reply cut at max_tokens; pydantic's ValidationError too)."""


def ask_structured(
    model: BaseChatModel,
    schema: type[M],
    prompt: list[BaseMessage],
    *,
    node: str,
    base_url: str | None,
    attempts: int = 2,
    mode: StructuredOutput = "auto",
) -> tuple[M | None, list[ModelCall], str]:
    """Ask for ``schema`` in ``mode``; retry malformed output up to ``attempts`` calls.

    A retry tells the model its last reply was refused, and why, so a refusal
    it can fix (a misspelt field, a change without its replacement) is fixed.
    Returns the parsed object (``None`` when every attempt was malformed), one
    usage record per call, and the last parsing error. Endpoint failures raise
    :class:`ModelEndpointError`. The call is tagged ``nostream`` so streamed
    ``messages`` carry only the Assistant's tokens. :func:`aask_structured` is
    the async form.
    """
    ask = _Attempts(model, schema, prompt, node=node, base_url=base_url, mode=mode)
    for _attempt in range(attempts):
        began = time.perf_counter()
        try:
            reply, seconds = guarded_call(
                partial(ask.bound.invoke, ask.next_prompt()), base_url=base_url
            )
        except ModelEndpointError as exc:
            raise ask.endpoint_failed(exc) from exc
        except UNREADABLE as exc:
            ask.unreadable(exc, began)
            continue
        if ask.read(reply, seconds):
            break
    return ask.outcome()


async def aask_structured(
    model: BaseChatModel,
    schema: type[M],
    prompt: list[BaseMessage],
    *,
    node: str,
    base_url: str | None,
    attempts: int = 2,
    mode: StructuredOutput = "auto",
) -> tuple[M | None, list[ModelCall], str]:
    """:func:`ask_structured`, awaiting the model (``ainvoke``)."""
    ask = _Attempts(model, schema, prompt, node=node, base_url=base_url, mode=mode)
    for _attempt in range(attempts):
        began = time.perf_counter()
        try:
            reply, seconds = await aguarded_call(
                partial(ask.bound.ainvoke, ask.next_prompt()), base_url=base_url
            )
        except ModelEndpointError as exc:
            raise ask.endpoint_failed(exc) from exc
        except UNREADABLE as exc:
            ask.unreadable(exc, began)
            continue
        if ask.read(reply, seconds):
            break
    return ask.outcome()


def _with_mode_hint(exc: ModelEndpointError, mode: StructuredMode) -> ModelEndpointError:
    """An endpoint failure, with the way out when a JSON mode may be what it refused."""
    if mode == "tool_call":
        return exc
    return ModelEndpointError(
        f"{exc} Structured output was asked for as {mode}: if this endpoint "
        "does not support it, set MEDIATOR_STRUCTURED_OUTPUT=tool_call."
    )
