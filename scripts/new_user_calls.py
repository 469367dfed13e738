"""The calls a new LangChain user makes, run from the installed wheel (``scripts/wheel_check.py``).

Run in a fresh virtualenv from an empty folder, with ``OPENAI_BASE_URL`` at a
scripted OpenAI-compatible endpoint, each call prints one line: the graph and
an agent with the middleware under every sync and async entry point (an
interrupt and its resume included), models given by name, a plain function as
a tool, and LangSmith's ``evaluate`` over the graph. Any failure raises, and
the script exits non-zero.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from langsmith import Client, evaluate

from langgraph_mediator import (
    MediatorContext,
    MediatorMiddleware,
    build_mediator_graph,
    describe_environment,
)
from langgraph_mediator.evaluation import (
    conversation_target,
    evaluate_conversations,
    offline_examples,
)

MODEL = "openai:gpt-4o-mini"  # at OPENAI_BASE_URL, as a user's own endpoint would be


def said(text: str) -> dict[str, Any]:
    """One user message as graph input."""
    return {"messages": [HumanMessage(text)]}


def thread(name: str) -> Any:
    """The config of thread ``name``."""
    return {"configurable": {"thread_id": name}}


def show(call: str, result: Any) -> None:
    """One line: the call, and what it gave."""
    print(f"{call:<52} -> {result!r}", flush=True)


def the_graph() -> None:
    """The mediator graph under invoke, stream and batch; an interrupt and its resume."""
    graph = build_mediator_graph(MODEL, mediator_model=MODEL, checkpointer=InMemorySaver())
    out = graph.invoke(said("What is 6 times 7?"), thread("a"))
    show("graph.invoke", out["messages"][-1].content)
    nodes = [next(iter(c)) for c in graph.stream(said("Show the working."), thread("a"))]
    show("graph.stream", nodes)
    outs = graph.batch([said("6 x 7?"), said("7 x 6?")], [thread("b"), thread("c")])
    show("graph.batch", [o["messages"][-1].content for o in outs])
    asking = MediatorContext(clarification_mode="interrupt")
    paused = graph.invoke(said("Convert 20 degrees."), thread("d"), context=asking)
    show("graph.invoke, interrupt mode", paused["__interrupt__"][0].value["question"])
    resumed = graph.invoke(Command(resume={"answer": "Celsius"}), thread("d"), context=asking)
    show("graph.invoke(Command(resume=...))", resumed["messages"][-1].content)


async def the_graph_async() -> None:
    """The mediator graph under ainvoke, astream and abatch."""
    graph = build_mediator_graph(MODEL, mediator_model=MODEL, checkpointer=InMemorySaver())
    out = await graph.ainvoke(said("What is 6 times 7?"), thread("a"))
    show("await graph.ainvoke", out["messages"][-1].content)
    nodes = [next(iter(c)) async for c in graph.astream(said("Again."), thread("a"))]
    show("graph.astream", nodes)
    outs = await graph.abatch([said("6 x 7?")], [thread("b")])
    show("await graph.abatch", [o["messages"][-1].content for o in outs])


def lookup_weather(city: str) -> str:
    """Look up today's weather in a city."""
    return f"Sunny in {city}."


def the_agent() -> None:
    """An agent with the middleware (models by name, a plain function as its tool)."""
    environment = describe_environment("Be brief.", [lookup_weather])
    show("describe_environment(prompt, [a_plain_function])", environment.splitlines()[-1])
    middleware = MediatorMiddleware(MODEL, assistant_environment=environment)
    agent = create_agent(
        MODEL,
        [lookup_weather],
        system_prompt="Be brief.",
        middleware=[middleware],
        checkpointer=InMemorySaver(),
    )
    out = agent.invoke(said("What is 6 times 7?"), thread("a"))
    show("create_agent(..., middleware=[...]).invoke", out["messages"][-1].content)
    steps = [next(iter(c)) for c in agent.stream(said("And 7 times 6?"), thread("a"))]
    show("agent.stream", steps)
    out = asyncio.run(agent.ainvoke(said("And 6 times 6?"), thread("a")))
    show("agent.ainvoke", out["messages"][-1].content)


def the_evaluations() -> None:
    """LangSmith's evaluate over the graph, offline: the package's target, and its helper."""
    graph = build_mediator_graph(MODEL, mediator_model=MODEL)
    client = Client(api_key="offline", auto_batch_tracing=False)
    data = offline_examples([{"inputs": {"message": "What is 6 times 7?"}}])
    target = conversation_target(graph, trace=False)  # offline: nothing to upload, no retries
    results = evaluate(target, data=data, client=client, upload_results=False)
    show(
        "langsmith.evaluate(conversation_target(graph), ...)",
        [r["run"].outputs["answer"] for r in results],
    )
    rows = [{"inputs": {"turns": ["What is 6 times 7?", "Show the working."]}}]
    results = evaluate_conversations(graph, rows, [], offline=True)
    show("evaluate_conversations(graph, rows, [])", [r["run"].outputs["answer"] for r in results])


if __name__ == "__main__":
    the_graph()
    asyncio.run(the_graph_async())
    the_agent()
    the_evaluations()
    print("new-user calls passed")
