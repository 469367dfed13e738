"""Issue 18: learning from a user's saved threads (their corrections), not only scored runs."""

from __future__ import annotations

from typing import Any

from fakes import UNUSED_ENDPOINT, reading, scripted, supersede
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.refine import corrected_pairs, trajectory_from_thread, user_threads


async def play(saver: InMemorySaver, thread: str, user: str, script: list[Any], said: list[str]):
    graph = build_mediator_graph(
        scripted(*["an answer"] * len(said)), mediator_model=scripted(*script), checkpointer=saver
    )
    config: Any = {"configurable": {"thread_id": thread}}
    context = MediatorContext(base_url=UNUSED_ENDPOINT, user_id=user)
    for text in said:
        await graph.ainvoke({"messages": [HumanMessage(text)]}, config, context=context)
    return graph


async def test_a_corrected_turn_of_a_users_thread_becomes_a_pair() -> None:
    saver = InMemorySaver()
    script = [
        reading("new_task", goal="Pizza cost.", new=["24 kids are coming."]),
        reading("correction", goal="", new=[], changes=[supersede("R1", "32 kids are coming.")]),
    ]
    graph = await play(saver, "a1", "alice", script, ["pizza for 24 kids?", "32."])
    await play(saver, "b1", "bob", [reading("new_task", new=["Hi."])], ["hi"])
    assert await user_threads(saver, "alice") == ["a1"]
    trajectory = await trajectory_from_thread(graph, "a1", task_id="a1", score=0)
    pairs = corrected_pairs(trajectory)
    assert len(pairs) == 1
    assert [t.user for t in pairs[0].failed.turns] == ["pizza for 24 kids?"]
    assert pairs[0].successful is not None
    assert pairs[0].successful.turns[-1].feedback == "correction"
