"""Structured output modes against an OpenAI-compatible stub taught to act like real servers.

* ``openai``: honours a forced ``tool_choice`` and a strict ``json_schema``;
* ``ollama``: ignores ``tool_choice`` (answers a forced tool call in prose) but
  honours ``response_format``;
* ``json mode only``: honours ``{"type": "json_object"}``, answers anything else in prose;
* ``prose``: answers everything in prose.

The embedded llama.cpp server's ``tool_call`` mode runs in the integration tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from fakes import ScriptedChatModel, scripted, tool_reply
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from openai_stub import OpenAIStub, Reply, ToolCall

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.models.structured import aask_structured, mode_for_endpoint, resolve_mode
from langgraph_mediator.state import MediatorReading

READING = {
    "task_type": "math", "goal": "Convert a temperature.", "feedback": "new_task",
    "new_requirements": ["Convert 20 degrees Celsius."], "changes": [],
    "missing_information": [], "clarifying_question": "",
}  # fmt: skip
PROSE = "Sure! The user would like to convert a temperature, so I will help with that."


def response_type(body: dict[str, Any]) -> str | None:
    return (body.get("response_format") or {}).get("type")


def forced_tool(body: dict[str, Any]) -> bool:
    return bool(body.get("tools")) and body.get("tool_choice") not in (None, "auto", "none")


def openai_like(body: dict[str, Any]) -> Reply:
    if response_type(body) in ("json_schema", "json_object"):
        return json.dumps(READING)
    return ToolCall("MediatorReading", READING) if forced_tool(body) else PROSE


def ollama_like(body: dict[str, Any]) -> Reply:
    return json.dumps(READING) if response_type(body) else PROSE


def json_mode_only(body: dict[str, Any]) -> Reply:
    return f"```json\n{json.dumps(READING)}\n```" if response_type(body) == "json_object" else PROSE


SERVERS: dict[str, Callable[[dict[str, Any]], Reply]] = {
    "openai": openai_like, "ollama": ollama_like, "json mode only": json_mode_only,
    "prose": lambda body: PROSE,
}  # fmt: skip


@pytest.fixture
def serve() -> Iterator[Callable[[str], OpenAIStub]]:
    started: list[OpenAIStub] = []

    def start(kind: str) -> OpenAIStub:
        started.append(OpenAIStub(SERVERS[kind]).start(port=0))
        return started[-1]

    yield start
    for stub in started:
        stub.stop()


def chat(stub: OpenAIStub) -> ChatOpenAI:
    return ChatOpenAI(model="stub", base_url=stub.base_url, api_key="k", max_retries=0)  # type: ignore[arg-type]


PROMPT = [SystemMessage("Read the turn."), HumanMessage("Convert 20 degrees Celsius.")]


async def ask(stub: OpenAIStub, mode: Any, base_url: str | None = None) -> Any:
    return await aask_structured(chat(stub), MediatorReading, PROMPT, node="detect_intent",
                                base_url=base_url or stub.base_url, mode=mode)  # fmt: skip


def test_auto_picks_the_mode_each_endpoint_does_best() -> None:
    assert mode_for_endpoint("https://api.openai.com/v1") == "json_schema"
    assert mode_for_endpoint("http://localhost:11434/v1") == "json_schema"
    assert mode_for_endpoint("http://ollama.internal/v1") == "json_schema"
    assert mode_for_endpoint("http://127.0.0.1:1234/v1") == "json_schema"
    assert mode_for_endpoint("http://vllm-gpu:8000/v1") == "json_schema"
    assert mode_for_endpoint(None) == "tool_call", "the embedded llama.cpp server"
    assert mode_for_endpoint("http://127.0.0.1:8080/v1") == "tool_call"
    assert resolve_mode("json_schema", scripted("x"), None) == "tool_call", "not OpenAI-compatible"


async def test_a_forced_tool_call_fails_on_ollama_and_json_schema_reads_it(
    serve: Callable[[str], OpenAIStub],
) -> None:
    stub = serve("ollama")
    parsed, calls, error = await ask(stub, "tool_call")
    assert parsed is None and len(calls) == 2 and "no structured output" in error
    start = len(stub.requests)
    parsed, calls, _ = await ask(stub, "auto", base_url="http://ollama-box:11434/v1")
    assert parsed is not None and parsed.goal == "Convert a temperature." and len(calls) == 1
    (request,) = stub.requests[start:]
    spec = request["response_format"]
    assert spec["type"] == "json_schema" and spec["json_schema"]["strict"] is True
    assert spec["json_schema"]["schema"]["additionalProperties"] is False
    assert "tools" not in request and "tool_choice" not in request


async def test_json_object_mode_puts_the_schema_in_the_prompt(
    serve: Callable[[str], OpenAIStub],
) -> None:
    stub = serve("json mode only")
    parsed, calls, _ = await ask(stub, "json_object")
    assert parsed is not None and parsed.new_requirements == ["Convert 20 degrees Celsius."]
    (request,) = stub.requests
    assert request["response_format"] == {"type": "json_object"}
    assert '"new_requirements"' in request["messages"][-1]["content"]


@pytest.mark.parametrize("mode", ["tool_call", "json_schema", "json_object"])
async def test_every_mode_retries_once_then_falls_back(
    serve: Callable[[str], OpenAIStub], mode: str
) -> None:
    parsed, calls, error = await ask(serve("prose"), mode)
    assert parsed is None and len(calls) == 2 and error


@pytest.mark.parametrize("mode", ["tool_call", "json_schema", "json_object"])
async def test_openai_answers_in_every_mode(serve: Callable[[str], OpenAIStub], mode: str) -> None:
    parsed, calls, _ = await ask(serve("openai"), mode)
    assert parsed is not None and len(calls) == 1


async def test_a_mediator_turn_against_ollama_reads_with_json_schema(
    serve: Callable[[str], OpenAIStub],
) -> None:
    stub = serve("ollama")
    graph = build_mediator_graph(scripted("68 F"))
    context = MediatorContext(base_url=stub.base_url, api_key="k", mediator_model="qwen2.5:7b",
                              structured_output="json_schema", max_retries=0)  # fmt: skip
    out = await graph.ainvoke({"messages": [HumanMessage("Convert 20 degrees Celsius.")]},
                              context=context)  # fmt: skip
    assert out["turn_usage"]["fallback"] is None and len(stub.requests) == 1
    assert [r["text"] for r in out["ledger"]] == ["Convert 20 degrees Celsius."]
    assert isinstance(out["messages"][-1], AIMessage) and out["messages"][-1].content == "68 F"


def test_a_bad_mode_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="MEDIATOR_STRUCTURED_OUTPUT"):
        MediatorContext(structured_output="xml")  # type: ignore[arg-type]


class CutAtMaxTokens(ScriptedChatModel):
    """An endpoint whose JSON reply ran into max_tokens: the client raises, as openai's does."""

    def _generate(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        if len(self.seen) == 1:
            from openai.types.chat import ChatCompletion

            cut = ChatCompletion.model_validate({
                "id": "c", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "length",
                             "message": {"role": "assistant", "content": '{"task_type'}}],
            })  # fmt: skip
            raise openai.LengthFinishReasonError(completion=cut)
        return super()._generate(messages, *args, **kwargs)


async def test_a_json_reply_cut_at_max_tokens_is_malformed_and_retried() -> None:
    valid = {"task_type": "math", "goal": "Convert.", "feedback": "new_task"}
    model = CutAtMaxTokens(messages=iter([tool_reply("MediatorReading", valid)]), seen=[])
    parsed, calls, error = await aask_structured(
        model, MediatorReading, [HumanMessage("convert 20 C")], node="detect_intent",
        base_url=None,
    )  # fmt: skip
    assert parsed is not None and parsed.goal == "Convert.", error
    assert len(calls) == 2 and "refused" in str(model.seen[1][-1].content)
