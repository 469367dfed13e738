"""A process SIGKILLed in the middle of a turn; the thread resumed in a new process.

Turns 1 and 2 run in their own processes; turn 3 runs in a third that hangs
inside the Mediator call or inside the Assistant call and is killed there with
SIGKILL; a fourth process completes the cut-off turn with
``MediatorSession.finish_turn``. Nothing may be lost (messages, ledger,
guidelines) and the turn must complete exactly once: one answer, no model
call repeated for a node that had already finished.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kill_worker import GUIDELINE, TEXTS, USER

from langgraph_mediator import build_mediator_graph
from langgraph_mediator.guidelines import aload_guidelines
from langgraph_mediator.persistence import open_persistence

WORKER = Path(__file__).with_name("kill_worker.py")
Record = Callable[..., None]
STEP_TIMEOUT = 120.0


def run_step(db: str, thread_id: str, step: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(WORKER), db, thread_id, step],
        capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def kill_inside(db: str, thread_id: str, step: str, marker: Path) -> None:
    """Start ``step``, wait until it is inside the model call, SIGKILL it."""
    process = subprocess.Popen(
        [sys.executable, str(WORKER), db, thread_id, step],
        env={**os.environ, "KILL_MARKER": str(marker)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + STEP_TIMEOUT
    while not marker.exists():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the worker never reached the model call"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


async def saved_thread(db: str, thread_id: str) -> tuple[dict[str, Any], list[str]]:
    """The thread's values and the user's guidelines, read by a fresh graph instance."""
    async with open_persistence(db) as persistence:
        graph = build_mediator_graph(checkpointer=persistence.checkpointer)
        snapshot = await graph.aget_state({"configurable": {"thread_id": thread_id}})
        guidelines = await aload_guidelines(persistence.store, USER)
    return dict(snapshot.values), guidelines


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "threads.sqlite")


@pytest.mark.parametrize("cut", ["mediator", "assistant"])
async def test_a_turn_killed_mid_call_completes_once_in_a_new_process(
    db: str, cut: str, tmp_path: Path, record: Record
) -> None:
    thread_id = f"kill-{uuid.uuid4().hex[:8]}"
    for step in ("1", "2"):
        assert run_step(db, thread_id, step)["reply"] == f"answer {step}"

    kill_inside(db, thread_id, f"hang-{cut}", tmp_path / "in-call")
    values, guidelines = await saved_thread(db, thread_id)
    assert [m.content for m in values["messages"]][-1] == TEXTS[3], "the cut turn's message is kept"
    assert guidelines == [GUIDELINE]

    started = time.monotonic()
    finished = run_step(db, thread_id, "finish")
    resume_seconds = time.monotonic() - started
    assert finished["reply"] == "answer 3", finished
    assert finished["pending"] == (["detect_intent"] if cut == "mediator" else ["execute"])
    assert finished["assistant_calls"] == 1
    assert finished["mediator_calls"] == (1 if cut == "mediator" else 0), "no finished node reran"
    if cut == "mediator":
        assert GUIDELINE in finished["mediator_prompts"][0][0], "guidelines reach the resumed turn"

    values, guidelines = await saved_thread(db, thread_id)
    assert [m.content for m in values["messages"]] == [
        TEXTS[1],
        "answer 1",
        TEXTS[2],
        "answer 2",
        TEXTS[3],
        "answer 3",
    ], "every message once, the cut turn answered exactly once"
    assert {r["id"]: r["status"] for r in values["ledger"]} == {
        "R1": "active", "R2": "superseded", "R3": "active"
    }  # fmt: skip
    assert values["turn"] == 3 and guidelines == [GUIDELINE]
    assert run_step(db, thread_id, "finish")["reply"] is None, "nothing left to finish"
    record(
        f"SIGKILL inside the {cut} call ({'Postgres' if db.startswith('postgres') else 'SQLite'})",
        messages_lost=0, requirements_lost=0, guidelines_lost=0, answers_for_cut_turn=1,
        resume_seconds=round(resume_seconds, 2),
    )  # fmt: skip
