"""Structured output by forced function calling, parsed with pydantic, retried when malformed."""

from __future__ import annotations

import time
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI
from langgraph.constants import TAG_NOSTREAM
from pydantic import BaseModel, ValidationError

from langgraph_mediator.models.chat import model_label
from langgraph_mediator.models.endpoint import guarded_call
from langgraph_mediator.models.usage import call_record
from langgraph_mediator.state.mediator import ModelCall

M = TypeVar("M", bound=BaseModel)


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
