"""Threads resume by thread_id from SQLite and from a real Postgres, in new processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from langgraph_mediator import build_mediator_graph
from langgraph_mediator.persistence import open_persistence

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("resume_worker.py")
POSTGRES_URL = os.environ.get(
    "MEDIATOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def postgres_url() -> str:
    """The test database; in CI its absence is a failure, elsewhere a skip."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide Postgres at {POSTGRES_URL}")
        pytest.skip(f"no Postgres at {POSTGRES_URL}")
    return POSTGRES_URL


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
