"""Bad input, through the Python API and through ``mediator chat``: clear errors, nothing written.

The threads live in a real SQLite file; "nothing written" is checked by
counting the thread's checkpoints before and after each attempt.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, scripted, tool_reply

from langgraph_mediator import (
    InvalidMessageError,
    MediatorContext,
    ThreadOwnershipError,
    UnknownThreadError,
    build_mediator_graph,
)
from langgraph_mediator.models.local_server import free_port
from langgraph_mediator.persistence import open_persistence
from langgraph_mediator.session import MediatorSession

Record = Callable[..., None]
OWNER, INTRUDER = "alice", "mallory"
THREAD = "alices-thread"
ONE_MB = "x" * (1 << 20)
READING = {"task_type": "math", "goal": "Convert a temperature.", "feedback": "new_task",
           "new_requirements": ["Convert 20 degrees."]}  # fmt: skip


async def checkpoint_count(db: str, thread_id: str) -> int:
    async with open_persistence(db) as persistence:
        config: Any = {"configurable": {"thread_id": thread_id}}
        return len([c async for c in persistence.checkpointer.alist(config)])


@pytest.fixture
async def db(tmp_path: Path) -> str:
    """A SQLite file holding one finished turn of alice's thread."""
    path = str(tmp_path / "threads.sqlite")
    async with open_persistence(path) as persistence:
        graph = build_mediator_graph(
            scripted("answer"), mediator_model=scripted(tool_reply("MediatorReading", READING)),
            checkpointer=persistence.checkpointer,
        )  # fmt: skip
        context = MediatorContext(user_id=OWNER, base_url=UNUSED_ENDPOINT)
        await MediatorSession(graph, context).send(THREAD, "Convert 20 degrees.")
    return path


API_CASES: list[tuple[str, Any, str, type[Exception], str]] = [
    ("empty message", "", THREAD, InvalidMessageError, "empty"),
    ("whitespace-only message", " \n\t ", THREAD, InvalidMessageError, "empty"),
    ("1 MB message", ONE_MB, THREAD, InvalidMessageError, "the limit is 20,000"),
    ("invalid UTF-8 bytes", b"caf\xe9 \xff", THREAD, InvalidMessageError, "not valid UTF-8"),
    ("undecodable text (lone surrogates)", "caf\udce9", THREAD, InvalidMessageError,
     "not valid UTF-8"),
    ("another user's thread", "Convert it.", THREAD, ThreadOwnershipError, "another user"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "thread", "error", "says"), API_CASES)
async def test_the_python_api_refuses_bad_input_and_writes_nothing(
    db: str, case: str, text: Any, thread: str, error: type[Exception], says: str,
    record: Record,
) -> None:  # fmt: skip
    before = await checkpoint_count(db, thread)
    user = INTRUDER if error is ThreadOwnershipError else OWNER
    async with open_persistence(db) as persistence:
        graph = build_mediator_graph(
            scripted(), mediator_model=scripted(), checkpointer=persistence.checkpointer
        )
        session = MediatorSession(graph, MediatorContext(user_id=user, base_url=UNUSED_ENDPOINT))
        with pytest.raises(error, match=says):
            await session.send(thread, text)
    assert await checkpoint_count(db, thread) == before
    record(f"API: {case}", error=error.__name__, checkpoints_written=0)


async def test_the_python_api_refuses_to_resume_an_unknown_thread(db: str, record: Record) -> None:
    async with open_persistence(db) as persistence:
        graph = build_mediator_graph(checkpointer=persistence.checkpointer)
        session = MediatorSession(graph, MediatorContext(user_id=OWNER, base_url=UNUSED_ENDPOINT))
        with pytest.raises(UnknownThreadError, match="No thread 'no-such-thread'"):
            await session.require_thread("no-such-thread")
    assert await checkpoint_count(db, "no-such-thread") == 0
    record("API: unknown thread", error="UnknownThreadError", checkpoints_written=0)


def chat(db: str, *args: str, user: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    """``mediator chat`` against an endpoint nobody listens on: any model call would fail."""
    env = {**os.environ, "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
           "MEDIATOR_USER_ID": user, "MEDIATOR_MAX_RETRIES": "0", "COLUMNS": "200"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "langgraph_mediator.cli", "chat", "--db", db, *args],
        input=stdin, capture_output=True, timeout=120, env=env, check=False,
    )  # fmt: skip


CLI_LINES = [
    ("empty line", b"\n", "The message is empty"),
    ("whitespace-only line", b"  \t \n", "The message is empty"),
    ("1 MB line", ONE_MB.encode() + b"\n", "the limit is 20,000"),
    ("invalid UTF-8 bytes", b"caf\xe9 \xff\n", "not valid UTF-8"),
]


@pytest.mark.parametrize(("case", "line", "says"), CLI_LINES)
async def test_the_cli_refuses_a_bad_piped_line_exits_2_and_writes_nothing(
    db: str, case: str, line: bytes, says: str, record: Record
) -> None:
    before = await checkpoint_count(db, THREAD)
    done = chat(db, "--thread", THREAD, user=OWNER, stdin=line + b"a later line\n/quit\n")
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 2, out + done.stderr.decode(errors="replace")
    assert "a later line" not in out, "piped input stops at the rejected line"
    assert says in out and "nothing was saved" in out
    assert "Traceback" not in out + done.stderr.decode(errors="replace")
    assert await checkpoint_count(db, THREAD) == before
    record(f"CLI: {case}", exit_code=done.returncode, checkpoints_written=0)


@pytest.mark.parametrize(
    ("case", "thread", "user", "says"),
    [
        ("unknown thread", "no-such-thread", OWNER, "No thread 'no-such-thread'"),
        ("another user's thread", THREAD, INTRUDER, "belongs to another user"),
    ],
)
async def test_the_cli_refuses_a_thread_it_must_not_resume(
    db: str, case: str, thread: str, user: str, says: str, record: Record
) -> None:
    before = await checkpoint_count(db, thread)
    done = chat(db, "--thread", thread, user=user, stdin=b"Convert it.\n")
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 2, out
    assert says in out and "Traceback" not in out + done.stderr.decode(errors="replace")
    assert await checkpoint_count(db, thread) == before
    record(f"CLI: {case}", exit_code=done.returncode, checkpoints_written=0)
