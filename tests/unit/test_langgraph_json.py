"""langgraph.json exports graphs that load without a checkpointer or store."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pytest
from fakes import UNUSED_ENDPOINT, scripted
from langgraph.graph.state import CompiledStateGraph

ROOT = Path(__file__).resolve().parents[2]


async def test_every_exported_graph_loads_compiled_without_persistence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", UNUSED_ENDPOINT)  # the agent factory builds its model
    monkeypatch.setenv("MEDIATOR_ASSISTANT_MODEL", "any-model")  # not asked of the endpoint
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert set(config["graphs"]) == {"mediator", "refiner", "agent"}
    for name, target in config["graphs"].items():
        module_path, _, attribute = target.partition(":")
        assert not module_path.endswith(".py"), f"{name}: use a module path"
        graph = getattr(importlib.import_module(module_path), attribute)
        if inspect.iscoroutinefunction(graph):  # a graph factory, called by the server per run
            graph = await graph({"configurable": {}})
        assert isinstance(graph, CompiledStateGraph), name
        assert graph.checkpointer is None and graph.store is None


def test_the_example_agent_has_the_mediator_before_its_model() -> None:
    from langgraph_mediator.graphs.agent import build_mediated_agent

    agent = build_mediated_agent(scripted("unused"))
    nodes = set(agent.get_graph().nodes)
    assert {"MediatorMiddleware.before_agent", "model", "tools"} <= nodes


def test_mediator_graph_has_the_contract_nodes_and_edges() -> None:
    from langgraph_mediator.graphs.mediator import graph

    drawn = graph.get_graph()
    assert set(drawn.nodes) == {
        "__start__", "detect_intent", "clarify", "wait_for_more", "classify_feedback",
        "execute", "__end__",
    }  # fmt: skip
    edges = {(e.source, e.target) for e in drawn.edges}
    assert edges == {
        ("__start__", "detect_intent"),
        ("detect_intent", "clarify"),
        ("detect_intent", "classify_feedback"),
        ("detect_intent", "wait_for_more"),
        ("wait_for_more", "__end__"),
        ("clarify", "__end__"),
        ("clarify", "detect_intent"),
        ("classify_feedback", "execute"),
        ("execute", "__end__"),
    }


def test_the_exported_auth_loads_as_a_langgraph_sdk_auth() -> None:
    from langgraph_sdk import Auth

    config = json.loads((ROOT / "langgraph.json").read_text())
    module_path, _, attribute = config["auth"]["path"].partition(":")
    assert isinstance(getattr(importlib.import_module(module_path), attribute), Auth)
