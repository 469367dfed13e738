"""Evaluating a user's own mediated graph or agent with LangSmith, offline here.

Offline, nothing may leave the process: a LangSmith endpoint stub counts every
request the experiment makes (an offline client that tried to upload would
retry each example's runs for about 42 s before giving up).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, reading, scripted, supersede
from langchain.agents import create_agent

from langgraph_mediator import MediatorContext, MediatorMiddleware, build_mediator_graph
from langgraph_mediator.errors import InvalidMessageError
from langgraph_mediator.evaluation import (
    aevaluate_conversations,
    evaluate_conversations,
    user_turns,
)

CONTEXT = MediatorContext(base_url=UNUSED_ENDPOINT)
ROWS = [
    {"inputs": {"turns": ["Convert 20 degrees, Celsius.", "no, Kelvin"]},
     "outputs": {"unit": "Kelvin"}},
]  # fmt: skip


@pytest.fixture
def langsmith_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every request made to LangSmith (pointed at a local stub that accepts anything)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _any(self) -> None:
            seen.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({}).encode())

        do_GET = do_POST = do_PATCH = _any  # noqa: N815 - stdlib hook names

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("LANGSMITH_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    monkeypatch.setenv("LANGSMITH_TRACING", "true")  # tracing on: the helper must still not upload
    yield seen
    server.shutdown()


def corrected_graph() -> Any:
    readings = [
        reading("new_task", goal="Convert 20 degrees.", new=["The input is in Celsius."]),
        reading("correction", changes=[supersede("R1", "The input is in Kelvin.")]),
    ]
    return build_mediator_graph(scripted("20 C", "20 K"), mediator_model=scripted(*readings))


def names_unit(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> bool:
    return reference_outputs["unit"] in outputs["instruction"]


def test_evaluate_plays_each_example_on_its_own_thread_offline(
    langsmith_requests: list[str],
) -> None:
    results = evaluate_conversations(corrected_graph(), ROWS, [names_unit], context=CONTEXT)
    [row] = list(results)
    outputs = row["run"].outputs
    assert outputs["answer"] == "20 K" and "Celsius" not in outputs["instruction"]
    assert [r.score for r in row["evaluation_results"]["results"]] == [True]
    assert langsmith_requests == []


async def test_aevaluate_runs_the_graph_async_offline(langsmith_requests: list[str]) -> None:
    results = await aevaluate_conversations(corrected_graph(), ROWS, [names_unit],
                                            context=CONTEXT)  # fmt: skip
    rows = [row async for row in results]
    assert rows[0]["run"].outputs["answer"] == "20 K"
    assert rows[0]["evaluation_results"]["results"][0].score is True
    assert langsmith_requests == []


def test_a_paused_question_is_answered_by_the_next_turn(langsmith_requests: list[str]) -> None:
    asking = MediatorContext(base_url=UNUSED_ENDPOINT, clarification_mode="interrupt")
    mediator = scripted(
        reading("new_task", new=["Convert 20 degrees."], missing=["the unit"],
                question="Celsius or Fahrenheit?"),
        reading("new_information", new=["The input is in Celsius."]),
    )  # fmt: skip
    graph = build_mediator_graph(scripted("68 F"), mediator_model=mediator)
    rows = [{"inputs": {"turns": ["Convert 20 degrees.", "Celsius"]}}]
    [row] = list(evaluate_conversations(graph, rows, [], context=asking))
    outputs = row["run"].outputs
    assert outputs["questions"] == ["Celsius or Fahrenheit?"] and not outputs["paused"]
    assert outputs["answer"] == "68 F"


def test_an_agent_with_the_middleware_evaluates_alike(langsmith_requests: list[str]) -> None:
    middleware = MediatorMiddleware(scripted(reading("new_task", new=["Say hi."])), context=CONTEXT)
    agent = create_agent(scripted("hi"), [], middleware=[middleware])
    [row] = list(evaluate_conversations(agent, [{"inputs": {"message": "Say hi."}}], []))
    assert row["run"].outputs["answer"] == "hi" and "Say hi." in row["run"].outputs["instruction"]


def test_offline_needs_rows_not_a_dataset_name() -> None:
    with pytest.raises(ValueError, match="set LANGSMITH_API_KEY, or pass"):
        evaluate_conversations(corrected_graph(), "my-dataset", [], offline=True)


def test_every_input_shape_gives_the_users_turns() -> None:
    assert user_turns({"turns": ["a", "b"]}) == ["a", "b"]
    assert user_turns({"message": "a"}) == ["a"]
    assert user_turns({"messages": [{"role": "user", "content": "a"},
                                    {"role": "assistant", "content": "x"}]}) == ["a"]  # fmt: skip
    with pytest.raises(InvalidMessageError, match='"turns"'):
        user_turns({"question": "a"})


def test_langsmith_evaluate_takes_the_graph_itself_as_its_target(
    langsmith_requests: list[str],
) -> None:
    # Before the graph had sync nodes, every run of this stored "No synchronous function".
    import os
    import uuid

    from langchain_core.messages import HumanMessage
    from langsmith import Client, evaluate
    from langsmith.schemas import Example

    graph = build_mediator_graph(scripted("42"), mediator_model=scripted(reading("new_task")))
    example = Example(id=uuid.uuid4(), dataset_id=uuid.uuid4(), outputs={},
                      inputs={"messages": [HumanMessage("What is 6 times 7?")]})  # fmt: skip
    client = Client(api_url=os.environ["LANGSMITH_ENDPOINT"], api_key="test")
    [row] = list(evaluate(graph, data=[example], client=client, upload_results=False))
    assert row["run"].error is None
    assert row["run"].outputs["messages"][-1].content == "42"
