"""Nothing in a mediated turn blocks the event loop, and the turn's waits overlap.

A served graph shares its event loop with every other run on the server, so a
blocking call in a turn (building a model, reading a store, a database write)
stalls them all. These tests run whole turns with asyncio's debug mode on,
which logs every callback that holds the loop longer than
``slow_callback_duration``, and under blockbuster, which LangGraph Server
runs with and which raises on any blocking call made on the loop. Models are
built from the context (ChatOpenAI over a scripted OpenAI-compatible
endpoint), with a SQLite checkpointer and a store holding guidelines.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from blockbuster import BlockingError, blockbuster_ctx
from fakes import reading, scripted
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.store.memory import InMemoryStore
from openai_stub import OpenAIStub, Reply, ToolCall, last_user_text, tool_name

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.core import aopen_turn
from langgraph_mediator.guidelines import aput_guidelines

SLOW_CALLBACK_SECONDS = 0.5
"""Far above a turn's own steps on this instant endpoint (about a millisecond each).

asyncio measures wall time, so a machine busy with other work stretches every
step: 0.1 s reported a 0.47 s step once on 2 shared cores. The blocking calls
themselves are caught exactly by :func:`test_no_blocking_call_runs_on_the_event_loop`.
"""


def reader(body: dict[str, Any]) -> Reply:
    if tool_name(body) == "MediatorReading":
        args = {"task_type": "", "goal": "", "feedback": "new_information",
                "new_requirements": [last_user_text(body)]}  # fmt: skip
        return ToolCall("MediatorReading", args)
    return "Done: here is the result."


@contextmanager
def slow_callbacks() -> Iterator[list[str]]:
    """Turn asyncio's debug mode on for the running loop; collect its slow-callback reports."""
    loop = asyncio.get_running_loop()
    reports: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if message.startswith("Executing"):
                reports.append(message)

    handler, logger = Collect(level=logging.WARNING), logging.getLogger("asyncio")
    logger.addHandler(handler)
    debug, duration = loop.get_debug(), loop.slow_callback_duration
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_SECONDS
    try:
        yield reports
    finally:
        loop.set_debug(debug)
        loop.slow_callback_duration = duration
        logger.removeHandler(handler)


@asynccontextmanager
async def served_graph(tmp_path: Path) -> AsyncIterator[tuple[Any, MediatorContext]]:
    """The mediator graph as a server runs it: models from the context, saver, store."""
    store = InMemoryStore()
    await aput_guidelines(store, "alice", ["Read a bare value as a correction."])
    with OpenAIStub(reader) as stub:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "threads.sqlite")) as saver:
            graph = build_mediator_graph(checkpointer=saver, store=store)
            yield graph, MediatorContext(base_url=stub.base_url, api_key="k", user_id="alice")


async def play(graph: Any, context: MediatorContext, thread: str, turns: int) -> list[str]:
    """Stream ``turns`` turns on ``thread``; the Assistant's streamed text of each."""
    config: Any = {"configurable": {"thread_id": thread}}
    answers = []
    for turn in range(1, turns + 1):
        message = {"messages": [HumanMessage(f"Requirement {turn}: keep {turn * 7}.")]}
        text = ""
        async for chunk, meta in graph.astream(message, config, context=context,
                                               stream_mode="messages"):  # fmt: skip
            if meta.get("langgraph_node") == "execute":
                text += str(chunk.content)
        answers.append(text)
    return answers


async def test_a_mediated_turn_never_holds_the_event_loop(tmp_path: Path) -> None:
    async with served_graph(tmp_path) as (graph, context):
        await play(graph, context, "warm-up", 1)  # imports and first builds happen once
        with slow_callbacks() as reports:
            answers = await play(graph, context, "measured", 3)
    assert answers == ["Done: here is the result."] * 3
    assert reports == []


async def test_no_blocking_call_runs_on_the_event_loop(tmp_path: Path) -> None:
    """blockbuster (what LangGraph Server runs with) raises on any blocking call in the loop."""
    async with served_graph(tmp_path) as (graph, context):
        await play(graph, context, "warm-up", 1)
        with blockbuster_ctx():
            answers = await play(graph, context, "measured", 3)
    assert answers == ["Done: here is the result."] * 3


async def test_blockbuster_refuses_a_blocking_call_in_a_step() -> None:
    async def nap(state: MessagesState) -> dict[str, Any]:
        time.sleep(0.001)  # noqa: ASYNC251 - the blocking call under test
        return {}

    builder = StateGraph(MessagesState)
    builder.add_node("nap", nap)
    builder.add_edge(START, "nap")
    graph = builder.compile()
    with blockbuster_ctx(), pytest.raises(BlockingError):
        await graph.ainvoke({"messages": [HumanMessage("hi")]})


async def test_the_check_reports_a_step_that_blocks() -> None:
    def blocking(state: MessagesState) -> dict[str, Any]:
        time.sleep(SLOW_CALLBACK_SECONDS * 2)
        return {}

    async def nap(state: MessagesState) -> dict[str, Any]:
        time.sleep(SLOW_CALLBACK_SECONDS * 2)  # noqa: ASYNC251 - the blocking call under test
        return {}

    builder = StateGraph(MessagesState)
    builder.add_node("blocking", blocking)
    builder.add_node("nap", nap)
    builder.add_edge(START, "blocking")
    builder.add_edge("blocking", "nap")
    graph = builder.compile()
    with slow_callbacks() as reports:
        await graph.ainvoke({"messages": [HumanMessage("hi")]})
    assert len(reports) == 1, "a sync node runs in a thread; the async one holds the loop"


async def test_the_guidelines_read_and_the_model_build_overlap() -> None:
    """Each waits for the other to have started: run one after the other, they never finish."""
    store_started, model_started = asyncio.Event(), asyncio.Event()

    class SlowStore(InMemoryStore):
        async def aget(self, *args: Any, **kwargs: Any) -> Any:
            store_started.set()
            await asyncio.wait_for(model_started.wait(), 2)
            return await super().aget(*args, **kwargs)

    async def model() -> Any:
        model_started.set()
        await asyncio.wait_for(store_started.wait(), 2)
        return scripted(reading("new_task", new=["Convert 20."]))

    context = MediatorContext(base_url="http://unused.invalid/v1", user_id="alice")
    state: Any = {"messages": [HumanMessage("Convert 20 degrees.")]}
    try:
        update = await aopen_turn(state, model, context, SlowStore())
    except TimeoutError:
        pytest.fail("the guidelines read and the model build ran one after the other")
    assert update["intent"]["task_type"] == "math"
