"""Threads resume by thread_id from SQLite and from a real Postgres, in new processes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from langgraph_mediator import build_mediator_graph
from langgraph_mediator.persistence import open_persistence

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("resume_worker.py")


def run_turn(db: str, thread_id: str, turn: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(WORKER), db, thread_id, str(turn)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


async def assert_thread_complete(db: str, thread_id: str) -> None:
    """A fresh graph instance in this process sees every message and ledger entry."""
    async with open_persistence(db) as persistence:
        graph = build_mediator_graph(checkpointer=persistence.checkpointer)
        values = (await graph.aget_state({"configurable": {"thread_id": thread_id}})).values
    contents = [m.content for m in values["messages"]]
    assert contents == [
        "Write a function that converts temperatures.", "answer 1",
        "Input is in Fahrenheit.", "answer 2",
        "no, Kelvin", "answer 3",
    ]  # fmt: skip
    statuses = {r["id"]: (r["status"], r["text"]) for r in values["ledger"]}
    assert statuses == {
        "R1": ("active", "The function converts temperatures."),
        "R2": ("superseded", "The input is in Fahrenheit."),
        "R3": ("active", "The input is in Kelvin."),
    }
    assert values["ledger"][1]["superseded_by"] == "R3"
    assert values["turn"] == 3
    assert "The input is in Kelvin." in values["instruction"]
    assert "Fahrenheit" not in values["instruction"]


async def test_thread_resumes_from_sqlite_in_new_processes(tmp_path: Path) -> None:
    db = str(tmp_path / "threads.sqlite")
    thread_id = f"t-{uuid.uuid4().hex[:8]}"
    for turn in (1, 2, 3):
        assert run_turn(db, thread_id, turn)["reply"] == f"answer {turn}"
    await assert_thread_complete(db, thread_id)


async def test_thread_resumes_from_postgres_in_new_processes(postgres_url: str) -> None:
    thread_id = f"t-{uuid.uuid4().hex[:8]}"
    for turn in (1, 2, 3):
        assert run_turn(postgres_url, thread_id, turn)["reply"] == f"answer {turn}"
    await assert_thread_complete(postgres_url, thread_id)


async def test_postgres_setup_is_idempotent(postgres_url: str) -> None:
    for _ in range(2):
        async with open_persistence(postgres_url) as persistence:
            assert persistence.location == postgres_url
            assert await persistence.store.aget(("guidelines", "nobody"), "current") is None


async def test_eval_harness_keeps_mediator_threads_and_guidelines_in_postgres(
    postgres_url: str,
) -> None:
    from fakes import UNUSED_ENDPOINT, reading, scripted

    from langgraph_mediator.evals.conversation import EvalEnvironment, Setting, run_conversation
    from langgraph_mediator.evals.tasks import parse_task
    from langgraph_mediator.guidelines import aload_guidelines, aput_guidelines
    from langgraph_mediator.state import MediatorContext

    task_id = f"pg-{uuid.uuid4().hex[:8]}"
    task = parse_task({
        "task_id": task_id, "task": "math", "answer": "#### 10",
        "shards": [{"shard_id": 1, "shard": "How many cans?"},
                   {"shard_id": 2, "shard": "Walls of 50 m2, two coats, 10 m2 per can."}],
    })  # fmt: skip
    mediator = scripted(
        reading("new_task", goal="Count cans.", new=["Count cans of paint."]),
        reading("new_information", new=["Walls of 50 m2, two coats, 10 m2 per can."]),
    )
    async with open_persistence(postgres_url) as db:
        rule = ["Keep every number the user gives."]
        await aput_guidelines(db.store, "eval", rule, source="test")
        env = EvalEnvironment(
            assistant=scripted("5 cans.", "10 cans."), mediator=mediator,
            context=MediatorContext(base_url=UNUSED_ENDPOINT, clarification_policy="never"),
            store=db.store, checkpointer=db.checkpointer,
        )  # fmt: skip
        result = await run_conversation(env, task, Setting.MEDIATOR, 0)
        assert result.error is None and result.score == 1.0
        threads = {
            c.config["configurable"]["thread_id"]
            async for c in db.checkpointer.alist(None)
            if c.config["configurable"]["thread_id"].startswith(f"eval:MEDIATOR:{task_id}:0:")
        }
        assert len(threads) == 1, "one Postgres thread for the conversation"
        assert "Keep every number" in str(mediator.seen[0][0].content), "guidelines from Postgres"
        assert await aload_guidelines(db.store, "eval") == ["Keep every number the user gives."]
