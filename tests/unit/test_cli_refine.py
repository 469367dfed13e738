"""Issue 18: ``mediator refine --from-threads`` and ``mediator guidelines retire`` on SQLite.

The Refiner's model is scripted by wrapping the function the CLI calls; the
threads, the store and the argument handling are the CLI's own.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, reading, scripted, supersede, tool_reply
from langchain_core.messages import HumanMessage

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.cli import guidelines as guidelines_cli
from langgraph_mediator.cli import main
from langgraph_mediator.guidelines import alist_versions, aload_guidelines, aput_guidelines
from langgraph_mediator.persistence import open_persistence
from langgraph_mediator.refine import refine_from_threads

RULE = "Treat a message that is only a number as a correction of the last value."


async def play(db: str, thread: str, user: str, script: list[Any], said: list[str]) -> None:
    async with open_persistence(db) as persistence:
        graph = build_mediator_graph(
            scripted(*["an answer"] * len(said)), mediator_model=scripted(*script),
            checkpointer=persistence.checkpointer,
        )  # fmt: skip
        config: Any = {"configurable": {"thread_id": thread}}
        context = MediatorContext(base_url=UNUSED_ENDPOINT, user_id=user)
        for text in said:
            await graph.ainvoke({"messages": [HumanMessage(text)]}, config, context=context)


async def corrected_thread(db: str, user: str) -> None:
    script = [
        reading("new_task", goal="Pizza cost.", new=["24 kids are coming."]),
        reading("correction", goal="", changes=[supersede("R1", "32 kids are coming.")]),
    ]
    await play(db, f"{user}-1", user, script, ["pizza for 24 kids?", "32."])


def diagnosis() -> Any:
    return tool_reply("Diagnosis", {"misreadings": [{
        "kind": "correction_not_applied", "turn": 2, "evidence": "32.",
        "explanation": "The bare number corrected the head count.",
        "habit": "corrects with a bare number",
    }]})  # fmt: skip


async def test_refine_from_threads_learns_from_a_corrected_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "threads.sqlite")
    await corrected_thread(db, "alice")
    refiner = scripted(diagnosis(), tool_reply("Proposal", {"guidelines": [
        {"text": RULE, "diagnosis": 1}]}))  # fmt: skip
    monkeypatch.setattr(guidelines_cli, "refine_from_threads",
                        functools.partial(refine_from_threads, model=refiner))  # fmt: skip
    code = await asyncio_main(["refine", "--user", "alice", "--from-threads", "--db", db])
    assert code == 0
    out = capsys.readouterr().out
    assert "saved as version 1" in out and "alice-1" in out
    async with open_persistence(db) as persistence:
        assert await aload_guidelines(persistence.store, "alice") == [RULE]
    # The Refiner read the corrected turn, fenced.
    assert "<<<32.>>>" in str(refiner.seen[0][-1].content)


async def test_refine_from_threads_without_corrections_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "threads.sqlite")
    await corrected_thread(db, "bob")  # another user's correction is not alice's to learn from
    assert await asyncio_main(["refine", "--user", "alice", "--from-threads", "--db", db]) == 0
    assert "no corrections in the threads of alice" in capsys.readouterr().out
    async with open_persistence(db) as persistence:
        assert await alist_versions(persistence.store, "alice") == []


def test_runs_and_from_threads_are_exclusive() -> None:
    with pytest.raises(SystemExit):
        main(["refine", "--user", "alice", "--runs", "r.jsonl", "--from-threads"])


async def test_guidelines_retire_writes_a_version_that_history_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "threads.sqlite")
    async with open_persistence(db) as persistence:
        await aput_guidelines(persistence.store, "alice", [RULE, "Ask before assuming a unit."])
    retire = ["guidelines", "retire", "--user", "alice", "--db", db]
    assert await asyncio_main([*retire, "--id", "G2", "--reason", "no gain on re-evaluation"]) == 0
    assert await asyncio_main(["guidelines", "history", "--user", "alice", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "now version 2 (manual: retired G2)" in out and "retired" in out
    async with open_persistence(db) as persistence:
        assert await aload_guidelines(persistence.store, "alice") == [RULE]
        latest = (await alist_versions(persistence.store, "alice"))[-1]
    assert latest.get("retired") == [
        {"id": "G2", "text": "Ask before assuming a unit.", "reason": "no gain on re-evaluation"}
    ]
    # An unknown id and a missing reason are refused, naming what to change.
    assert await asyncio_main([*retire, "--id", "G9", "--reason", "x"]) == 2
    assert "no current guideline G9 (has: G1)" in capsys.readouterr().out
    assert await asyncio_main([*retire, "--id", "G1"]) == 2
    assert "needs --id (one per rule) and --reason" in capsys.readouterr().out


async def asyncio_main(argv: list[str]) -> int:
    """``main`` runs its own event loop: run it off this test's loop."""
    import asyncio

    return await asyncio.to_thread(main, argv)
