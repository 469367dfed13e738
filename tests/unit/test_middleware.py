"""MediatorMiddleware inside ``create_agent``, with scripted Mediator and agent models.

The same scripted conversation is also played through the mediator graph, to
show that both shells run one core: the same ledger, the same instruction,
the same calls per turn.
"""

from __future__ import annotations

from typing import Any

from fakes import UNUSED_ENDPOINT, ScriptedChatModel, reading, scripted, supersede, tool_reply
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.guidelines import aput_guidelines
from langgraph_mediator.middleware import MediatorMiddleware

CONVERT = [
    reading("new_task", goal="Convert a temperature.", new=["Convert 20 degrees."],
            missing=["the unit"], question="Is 20 in Celsius or Fahrenheit?"),
    reading("new_information", new=["The input is in Celsius."]),
    reading("correction", changes=[supersede("R2", "The input is in Kelvin.", "said Kelvin")]),
]  # fmt: skip
USER = ["Convert 20 degrees.", "Celsius.", "no, in Kelvin"]


@tool
def to_fahrenheit(celsius: float) -> float:
    """Convert Celsius to Fahrenheit."""
    return celsius * 9 / 5 + 32


class Agent:
    """One thread of a create_agent agent with the middleware."""

    def __init__(self, mediator: ScriptedChatModel, model: ScriptedChatModel, **context: Any):
        self.store = InMemoryStore()
        settings = MediatorContext(base_url=UNUSED_ENDPOINT, **context)
        self.agent = create_agent(
            model, [to_fahrenheit], middleware=[MediatorMiddleware(mediator, context=settings)],
            checkpointer=InMemorySaver(), store=self.store,
        )  # fmt: skip
        self.config: Any = {"configurable": {"thread_id": "t"}}

    async def say(self, text: str) -> dict[str, Any]:
        return await self.agent.ainvoke({"messages": [HumanMessage(text)]}, self.config)


async def test_the_model_sees_the_instruction_and_a_tool_loop_still_works() -> None:
    model = scripted(tool_reply("to_fahrenheit", {"celsius": 20}), "20 C is 68 F.")
    agent = Agent(scripted(reading("new_task", goal="Convert.", new=["Convert 20 C to F."])), model)
    out = await agent.say("20 C in F?")
    first, second = model.seen
    assert [m.content for m in first] == [out["instruction"]], "the instruction, not the raw text"
    assert "Convert 20 C to F." in out["instruction"]
    assert [type(m) for m in second] == [HumanMessage, AIMessage, ToolMessage]
    assert second[0].content == out["instruction"] and second[2].content == "68.0"
    assert out["messages"][-1].content == "20 C is 68 F." and out["last_answer"] == "20 C is 68 F."
    assert [c["node"] for c in out["turn_usage"]["calls"]] == ["before_agent"]


async def test_a_clarification_ends_the_run_with_the_question() -> None:
    model = scripted("should not be called")
    agent = Agent(scripted(CONVERT[0]), model)
    out = await agent.say(USER[0])
    assert out["messages"][-1].content == "Is 20 in Celsius or Fahrenheit?"
    assert out["messages"][-1].name == "mediator"
    assert out["pending_question"] == "Is 20 in Celsius or Fahrenheit?"
    assert out["questions_asked"] == 1 and model.seen == []
    assert [r["text"] for r in out["ledger"]] == ["Convert 20 degrees."]


async def test_a_correction_supersedes_in_the_agents_state_and_the_thread_resumes() -> None:
    model = scripted("68 F", "293.15 K is 20.0 C.")
    agent = Agent(scripted(*CONVERT), model)
    for text in USER:
        out = await agent.say(text)
    ledger = {r["text"]: r for r in out["ledger"]}
    assert ledger["The input is in Celsius."]["status"] == "superseded"
    assert ledger["The input is in Kelvin."]["status"] == "active"
    assert "Kelvin" in out["instruction"] and "Celsius" not in out["instruction"]
    assert [m.content for m in model.seen[-1]] == [out["instruction"]]
    assert out["turn"] == 3 and out["ledger_delta"]["superseded"] == ["R2"]
    state = await agent.agent.aget_state(agent.config)
    assert state.values["ledger"] == out["ledger"], "the ledger is checkpointed with the thread"


async def test_the_users_guidelines_come_from_the_agents_store() -> None:
    mediator = scripted(reading("new_task", new=["Write a haiku."]))
    agent = Agent(mediator, scripted("A haiku."), user_id="alice")
    await aput_guidelines(agent.store, "alice", ["Keep units the user names."])
    await agent.say("Write a haiku.")
    assert "Keep units the user names." in str(mediator.seen[0][0].content)


async def test_the_middleware_and_the_graph_give_the_same_ledger_instruction_and_calls() -> None:
    graph = build_mediator_graph(
        scripted("68 F", "293.15 K is 20.0 C."), mediator_model=scripted(*CONVERT),
        checkpointer=InMemorySaver(),
    )  # fmt: skip
    context = MediatorContext(base_url=UNUSED_ENDPOINT)
    config: Any = {"configurable": {"thread_id": "g"}}
    agent_model = scripted("68 F", "293.15 K is 20.0 C.")
    agent = Agent(scripted(*CONVERT), agent_model)
    for text in USER:
        by_graph = await graph.ainvoke({"messages": [HumanMessage(text)]}, config, context=context)
        by_agent = await agent.say(text)
        assert by_agent["ledger"] == by_graph["ledger"]
        assert by_agent.get("instruction") == by_graph.get("instruction")
        assert by_agent["messages"][-1].content == by_graph["messages"][-1].content
    assert len(agent_model.seen) == 2, "one Assistant call per executed turn, as the graph's"
