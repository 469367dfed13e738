"""The graph and the middleware called as LangChain users call them: sync and async alike.

Each way of running a Runnable (``invoke``, ``stream``, ``batch`` and their
async forms) plays the same scripted conversation, a clarifying question in
``interrupt`` mode resumed with ``Command(resume=...)`` included, and must
give the same ledger and instruction. Models come as users give them: a name
(``"openai:gpt-4o-mini"``) or a chat model, checked when the graph or the
middleware is built.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, reading, scripted, supersede, tool_reply
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command
from openai_stub import OpenAIStub

from langgraph_mediator import (
    MediatorContext,
    MediatorMiddleware,
    build_mediated_agent,
    build_mediator_graph,
    describe_environment,
)
from langgraph_mediator.errors import ModelEndpointError
from langgraph_mediator.graphs.refiner import build_refiner_graph
from langgraph_mediator.guidelines import (
    aload_guidelines,
    aput_guidelines,
    list_versions,
    load_guidelines,
    put_guidelines,
    rollback,
)
from langgraph_mediator.models.chat import build_chat_model

CONTEXT = MediatorContext(base_url=UNUSED_ENDPOINT)
ASKING = MediatorContext(base_url=UNUSED_ENDPOINT, clarification_mode="interrupt")


def convert_script() -> list[Any]:
    """Mediator readings: a task, a correction of its one requirement."""
    return [
        reading("new_task", goal="Convert 20 degrees.", new=["The input is in Celsius."]),
        reading("correction", changes=[supersede("R1", "The input is in Kelvin.", "said so")]),
    ]


def config(thread: str) -> Any:
    return {"configurable": {"thread_id": thread}}


def graph_for(turns: int = 2) -> Any:
    """A mediator graph with a scripted Mediator and Assistant for ``turns`` turns."""
    return build_mediator_graph(
        scripted(*[f"answer {n}" for n in range(1, turns + 1)]),
        mediator_model=scripted(*convert_script()), checkpointer=InMemorySaver(),
    )  # fmt: skip


def said(text: str) -> dict[str, Any]:
    return {"messages": [HumanMessage(text)]}


def check_corrected(values: dict[str, Any]) -> None:
    assert "The input is in Kelvin." in values["instruction"]
    assert "Celsius" not in values["instruction"]
    assert values["messages"][-1].content == "answer 2"


def test_invoke_plays_a_correction() -> None:
    graph = graph_for()
    graph.invoke(said("Convert 20 degrees, Celsius."), config("t"), context=CONTEXT)
    check_corrected(graph.invoke(said("no, Kelvin"), config("t"), context=CONTEXT))


def test_stream_gives_each_node_then_the_same_state() -> None:
    graph = graph_for()
    for text in ("Convert 20 degrees, Celsius.", "no, Kelvin"):
        nodes = [next(iter(chunk)) for chunk in graph.stream(said(text), config("t"),
                                                              context=CONTEXT)]  # fmt: skip
    assert nodes == ["detect_intent", "classify_feedback", "execute"]
    check_corrected(graph.get_state(config("t")).values)


def test_streamed_messages_carry_the_assistants_tokens_not_the_reading() -> None:
    graph = graph_for(1)
    chunks = list(graph.stream(said("Convert 20 degrees, Celsius."), config("t"),
                               context=CONTEXT, stream_mode="messages"))  # fmt: skip
    text = "".join(str(message.content) for message, _meta in chunks)
    assert text == "answer 1"


def test_batch_runs_threads_apart() -> None:
    readings = [reading("new_task", new=["One."]), reading("new_task", new=["Two."])]
    graph = build_mediator_graph(scripted("a", "b"), mediator_model=scripted(*readings),
                                 checkpointer=InMemorySaver())  # fmt: skip
    # The scripted models answer in call order: one at a time keeps each reading on its message.
    configs = [{**config(name), "max_concurrency": 1} for name in ("a", "b")]
    outs = graph.batch([said("One."), said("Two.")], configs, context=CONTEXT)
    assert [[r["text"] for r in o["ledger"]] for o in outs] == [["One."], ["Two."]]
    assert [o["messages"][-1].content for o in outs] == ["a", "b"]
    assert graph.get_state(config("a")).values["ledger"] == outs[0]["ledger"]


async def test_ainvoke_astream_and_abatch_give_what_the_sync_calls_give() -> None:
    graph = graph_for()
    await graph.ainvoke(said("Convert 20 degrees, Celsius."), config("t"), context=CONTEXT)
    async for _chunk in graph.astream(said("no, Kelvin"), config("t"), context=CONTEXT):
        pass
    check_corrected((await graph.aget_state(config("t"))).values)
    other = graph_for(1)
    [out] = await other.abatch([said("Convert 20 degrees, Celsius.")], [config("u")],
                               context=CONTEXT)  # fmt: skip
    assert out["instruction"] and out["messages"][-1].content == "answer 1"


def asking_graph() -> Any:
    """A graph whose Mediator asks (interrupt mode), then reads the answer."""
    mediator = scripted(
        reading("new_task", goal="Convert 20 degrees.", new=["Convert 20 degrees."],
                missing=["the unit"], question="Celsius or Fahrenheit?"),
        reading("new_information", new=["The input is in Celsius."]),
    )  # fmt: skip
    return build_mediator_graph(scripted("68 F"), mediator_model=mediator,
                                checkpointer=InMemorySaver())  # fmt: skip


def test_a_sync_run_pauses_on_the_question_and_resumes_with_the_answer() -> None:
    graph = asking_graph()
    paused = graph.invoke(said("Convert 20 degrees."), config("t"), context=ASKING)
    [pause] = paused["__interrupt__"]
    assert pause.value["question"] == "Celsius or Fahrenheit?"
    done = graph.invoke(Command(resume={"answer": "Celsius"}), config("t"), context=ASKING)
    assert "The input is in Celsius." in done["instruction"]
    assert done["messages"][-1].content == "68 F"


async def test_an_async_stream_pauses_and_resumes_alike() -> None:
    graph = asking_graph()
    seen = [c async for c in graph.astream(said("Convert 20 degrees."), config("t"),
                                           context=ASKING)]  # fmt: skip
    assert "__interrupt__" in seen[-1]
    await graph.ainvoke(Command(resume="Celsius"), config("t"), context=ASKING)
    state = await graph.aget_state(config("t"))
    assert state.values["messages"][-1].content == "68 F" and not state.next


async def test_invoke_inside_a_running_event_loop_needs_no_loop_of_its_own() -> None:
    # A notebook calls invoke with a loop running: the sync path never starts one.
    asyncio.get_running_loop()
    graph = graph_for(1)
    out = graph.invoke(said("Convert 20 degrees, Celsius."), config("t"), context=CONTEXT)
    assert out["messages"][-1].content == "answer 1"


@tool
def to_fahrenheit(celsius: float) -> float:
    """Convert Celsius to Fahrenheit."""
    return celsius * 9 / 5 + 32


def agent_for(model_replies: list[Any], readings: list[Any]) -> Any:
    middleware = MediatorMiddleware(scripted(*readings), context=CONTEXT)
    return create_agent(scripted(*model_replies), [to_fahrenheit], middleware=[middleware],
                        checkpointer=InMemorySaver())  # fmt: skip


def test_an_agent_with_the_middleware_runs_invoke_stream_and_batch() -> None:
    agent = agent_for(
        [tool_reply("to_fahrenheit", {"celsius": 20}), "68 F", "b"],
        [reading("new_task", new=["Convert 20 C to F."]), reading("new_task", new=["Two."])],
    )
    out = agent.invoke(said("20 C in F?"), config("t"))
    assert out["messages"][-1].content == "68 F" and "Convert 20 C to F." in out["instruction"]
    assert out["answers"], "after_agent kept the answer"
    chunks = list(agent.stream(said("Two."), config("u")))
    assert any("MediatorMiddleware.before_agent" in c for c in chunks)
    [batched] = agent_for(["c"], [reading("new_task", new=["Three."])]).batch(
        [said("Three.")], [config("v")]
    )
    assert batched["messages"][-1].content == "c"


async def test_an_agent_with_the_middleware_runs_ainvoke_astream_and_abatch() -> None:
    agent = agent_for(["one", "two"], [reading("new_task", new=["One."]),
                                       reading("new_task", new=["Two."])])  # fmt: skip
    assert (await agent.ainvoke(said("One."), config("t")))["messages"][-1].content == "one"
    chunks = [c async for c in agent.astream(said("Two."), config("u"))]
    assert any("model" in c for c in chunks)
    [out] = await agent_for(["x"], [reading("new_task", new=["X."])]).abatch(
        [said("X.")], [config("v")]
    )
    assert out["messages"][-1].content == "x"


def test_a_sync_agent_run_ends_on_the_mediators_question() -> None:
    agent = agent_for(["never"], [reading("new_task", new=["Convert 20."], missing=["the unit"],
                                          question="Celsius or Fahrenheit?")])  # fmt: skip
    out = agent.invoke(said("Convert 20."), config("t"))
    assert out["messages"][-1].content == "Celsius or Fahrenheit?"
    assert out["messages"][-1].name == "mediator"


def test_model_names_are_accepted_and_checked_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    middleware = MediatorMiddleware("openai:gpt-4o-mini")
    assert middleware.mediator_model == "openai:gpt-4o-mini"
    graph = build_mediator_graph("openai:gpt-4o-mini", mediator_model="openai:gpt-4o-mini")
    assert set(graph.nodes) >= {"detect_intent", "execute"}
    agent = build_mediated_agent("openai:gpt-4o-mini", mediator_model="openai:gpt-4o-mini")
    assert "MediatorMiddleware.before_agent" in agent.nodes


@pytest.mark.parametrize(
    ("model", "error", "names"),
    [
        ("anthropic:claude-sonnet-4-5", ValueError, "pip install langchain-anthropic"),
        ("  ", ValueError, "empty model name"),
        (42, TypeError, "a model name such as"),
        (GenericFakeChatModel(messages=iter(["x"])), ValueError, "cannot call tools"),
    ],
)
def test_a_model_that_cannot_serve_fails_at_construction_naming_the_fix(
    model: Any, error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names):
        MediatorMiddleware(model)
    with pytest.raises(error, match=names):
        build_mediator_graph(mediator_model=model)


def test_the_assistant_needs_no_tool_calling_but_must_be_a_model() -> None:
    build_mediator_graph(GenericFakeChatModel(messages=iter(["x"])), mediator_model=scripted())
    with pytest.raises(TypeError, match="Assistant must be a model name"):
        build_mediator_graph(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pip install langchain-anthropic"):
        build_mediator_graph("anthropic:claude-sonnet-4-5", mediator_model=scripted())


def lookup_weather(city: str) -> str:
    """Look up today's weather in a city.

    Longer notes the Mediator does not need.
    """
    return "sunny"


def test_describe_environment_takes_every_tool_form_create_agent_takes() -> None:
    described = describe_environment("Be brief.", [
        to_fahrenheit, lookup_weather,
        {"type": "function", "function": {"name": "search", "description": "Search the web."}},
        {"name": "calendar", "description": "Read the calendar."},
    ])  # fmt: skip
    assert described == (
        "System prompt: Be brief.\nTools it can call: "
        "to_fahrenheit: Convert Celsius to Fahrenheit.; "
        "lookup_weather: Look up today's weather in a city.; "
        "search: Search the web.; calendar: Read the calendar."
    )
    with pytest.raises(TypeError, match="tools create_agent takes"):
        describe_environment(None, [42])  # type: ignore[list-item]


def test_a_plain_function_tool_reaches_create_agent_and_the_mediator() -> None:
    agent = build_mediated_agent(scripted("sunny"), [lookup_weather],
                                 mediator_model=scripted(reading("new_task", new=["Weather."])),
                                 checkpointer=InMemorySaver(), context=CONTEXT)  # fmt: skip
    out = agent.invoke(said("Weather in Oslo?"), config("t"))
    assert out["messages"][-1].content == "sunny"


def test_an_unset_model_name_is_the_one_the_endpoint_serves() -> None:
    with OpenAIStub(lambda body: "ok", models=["qwen2.5:7b"]) as stub:
        model = build_chat_model(MediatorContext(base_url=stub.base_url, mediator_model=""), "")
        assert getattr(model, "model_name", None) == "qwen2.5:7b"


def test_an_endpoint_serving_several_models_asks_for_a_name() -> None:
    expected = "serves 2 models .a, b.. Set MEDIATOR_MODEL"
    with (
        OpenAIStub(lambda body: "ok", models=["a", "b"]) as stub,
        pytest.raises(ModelEndpointError, match=expected),
    ):
        build_chat_model(MediatorContext(base_url=stub.base_url), "")


RULE = "Ask for a missing measurement instead of assuming a standard value."
MERGED = "Ask for a missing measurement; never assume a standard value."


def refiner_script() -> Any:
    """Refiner replies: a diagnosis, a proposal, a merge with the set already in force."""
    misreading = {"kind": "assumed_a_detail", "turn": 2, "evidence": "Assume a 4 x 4 m room",
                  "explanation": "The Mediator invented the room size."}  # fmt: skip
    return scripted(
        tool_reply("Diagnosis", {"misreadings": [misreading]}),
        tool_reply("Proposal", {"guidelines": [{"text": RULE, "diagnosis": 1}]}),
        tool_reply("MergedSet", {"guidelines": [{"text": MERGED, "sources": ["G1", "P1"]}]}),
    )


def refine_input() -> dict[str, Any]:
    data = json.loads(EXAMPLE_PAIR.read_text())
    return {**data, "user_id": "alice"}


EXAMPLE_PAIR = Path(__file__).resolve().parents[2] / "examples" / "data" / "refine_pair.json"


def test_the_refiner_runs_with_invoke_and_the_guideline_helpers_sync() -> None:
    store = InMemoryStore()
    put_guidelines(store, "alice", [RULE])
    out = build_refiner_graph(refiner_script(), store=store).invoke(refine_input(),
                                                                    context=CONTEXT)  # fmt: skip
    assert out["version"] == 2 and load_guidelines(store, "alice") == [MERGED]
    assert [v["version"] for v in list_versions(store, "alice")] == [1, 2]
    assert rollback(store, "alice")["source"] == "rollback to v1"
    assert load_guidelines(store, "alice") == [RULE]


async def test_the_refiner_streams_async_alike() -> None:
    store = InMemoryStore()
    await aput_guidelines(store, "alice", [RULE])
    graph = build_refiner_graph(refiner_script(), store=store)
    nodes = [next(iter(c)) async for c in graph.astream(refine_input(), context=CONTEXT)]
    assert nodes == ["diagnose", "propose_guidelines", "merge_guidelines", "write_guidelines"]
    assert await aload_guidelines(store, "alice") == [MERGED]


def test_the_refiner_takes_a_model_name_and_checks_it() -> None:
    with pytest.raises(ValueError, match="pip install langchain-anthropic"):
        build_refiner_graph("anthropic:claude-sonnet-4-5")
    with pytest.raises(ValueError, match="cannot call tools"):
        build_refiner_graph(GenericFakeChatModel(messages=iter(["x"])))
