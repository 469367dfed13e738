"""MediatorSession: bad input writes nothing, threads stay with their user, endpoint faults."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, FlakyModel, ScriptedChatModel, reading, scripted
from langgraph.checkpoint.memory import InMemorySaver

from langgraph_mediator import (
    InvalidMessageError,
    MediatorContext,
    ModelEndpointError,
    ThreadOwnershipError,
    build_mediator_graph,
)
from langgraph_mediator.session import MediatorSession


def session_for(
    mediator: ScriptedChatModel, saver: InMemorySaver, user: str = "alice"
) -> MediatorSession:
    graph = build_mediator_graph(scripted("answer"), mediator_model=mediator, checkpointer=saver)
    return MediatorSession(graph, MediatorContext(user_id=user, base_url=UNUSED_ENDPOINT))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        (" \n\t ", "empty"),
        ("x" * 20_001, "20,001 characters; the limit is 20,000"),
        (b"caf\xe9", "not valid UTF-8"),
        (None, "must be text"),
    ],
)
async def test_bad_input_is_rejected_and_nothing_is_written(text: Any, message: str) -> None:
    saver = InMemorySaver()
    session = session_for(scripted(), saver)
    with pytest.raises(InvalidMessageError, match=message):
        await session.send("t", text)
    assert await saver.aget_tuple({"configurable": {"thread_id": "t"}}) is None


async def test_valid_utf8_bytes_are_accepted() -> None:
    session = session_for(scripted(reading("new_task", new=["Café au lait."])), InMemorySaver())
    result = await session.send("t", "café au lait".encode())
    assert result.kind == "answer" and result.reply == "answer"


async def test_another_users_thread_is_refused_untouched() -> None:
    saver = InMemorySaver()
    await session_for(scripted(reading("new_task", new=["A."])), saver, "alice").send("t", "a")
    before = await saver.aget_tuple({"configurable": {"thread_id": "t"}})
    with pytest.raises(ThreadOwnershipError, match="belongs to another user"):
        await session_for(scripted(), saver, "bob").send("t", "b")
    after = await saver.aget_tuple({"configurable": {"thread_id": "t"}})
    assert before is not None and after is not None
    assert after.checkpoint["id"] == before.checkpoint["id"]


async def test_turn_result_summarises_a_clarification() -> None:
    mediator = scripted(reading("new_task", new=["A."], missing=["unit"], question="Unit?"))
    result = await session_for(mediator, InMemorySaver()).send("t", "a")
    assert result.kind == "clarification" and result.reply == "Unit?"
    assert [r["text"] for r in result.requirements] == ["A."]
    assert result.instruction == "" and result.usage is not None


async def test_endpoint_down_raises_clearly_and_the_next_turn_reads_both_messages() -> None:
    saver = InMemorySaver()
    mediator = FlakyModel(messages=iter([reading("new_task", new=["A.", "B."])]), seen=[])
    session = session_for(mediator, saver)
    with pytest.raises(ModelEndpointError, match="Cannot reach .* OPENAI_BASE_URL"):
        await session.send("t", "first part")
    kept = await session.state("t")
    assert [m.content for m in kept["messages"]] == ["first part"]
    assert "ledger" not in kept, "a failed turn changes nothing but the message"

    mediator.down = False
    result = await session.send("t", "second part")
    assert "NEW USER MESSAGE: <<<first part\nsecond part>>>" in str(mediator.seen[-1][1].content)
    assert result.reply == "answer"
    assert [r["text"] for r in result.requirements] == ["A.", "B."]
