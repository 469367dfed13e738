"""``mediator chat`` in a pseudo-terminal: live progress, and Ctrl-C in the middle of a turn.

The progress test runs on the embedded model. The Ctrl-C test talks to a scripted
endpoint (:class:`OpenAIStub`) that holds the turn's first model call until Ctrl-C
has been handled, so the turn is provably in flight when it is cut off.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openai_stub import OpenAIStub, Reply, ToolCall, tool_name

pytestmark = pytest.mark.integration


def ctrl_c_reaches_it() -> None:
    """In the child before it starts: SIGINT as at a terminal, whatever the test inherited.

    A test run started in the background (a shell's ``&``) inherits SIGINT
    ignored, and Python turns Ctrl-C into KeyboardInterrupt only when it is not.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """A CLI process on a pseudo-terminal; everything it writes is kept in :attr:`seen`.

    ``endpoint`` points the process at an OpenAI-compatible ``/v1`` URL; without
    it the process starts the embedded model.
    """

    def __init__(self, *args: str, endpoint: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"}
        env.update(LANGSMITH_TRACING="false", COLUMNS="120", MEDIATOR_MAX_TOKENS="48")
        if endpoint is not None:
            env.update(OPENAI_BASE_URL=endpoint, OPENAI_API_KEY="not-needed",
                       MEDIATOR_STRUCTURED_OUTPUT="tool_call")  # fmt: skip
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "langgraph_mediator.cli", *args],
            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
            preexec_fn=ctrl_c_reaches_it,
        )  # fmt: skip
        os.close(slave)
        self.seen = ""
        self.cursor = 0
        """Where the last :meth:`wait_for` match ended: the next one looks from here."""

    def wait_for(self, text: str, timeout: float = 240.0) -> str:
        """Read until ``text`` appears after the last match; return the screen up to its end.

        Looking from the end of the last match, not from the end of what was
        read, keeps text that arrived in the same chunk as that match.
        """
        start = self.cursor
        self.wait_until(lambda: text in self.seen[start:], f"{text!r} never appeared", timeout)
        self.cursor = self.seen.index(text, start) + len(text)
        return self.seen[start : self.cursor]

    def wait_until(self, done: Callable[[], bool], failure: str, timeout: float = 240.0) -> None:
        """Keep reading the screen (the process never blocks on a full pty) until ``done()``."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline or self.process.poll() is not None and not self._read(0):
                raise AssertionError(f"{failure}; the screen said:\n{self.seen}")
            self._read(0.2)

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return False
        self.seen += chunk.decode(errors="replace")
        return bool(chunk)

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def close(self) -> int:
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code


def test_a_turn_shows_its_steps_then_streams_the_answer_before_the_panel(tmp_path: Path) -> None:
    term = Terminal("chat", "--db", str(tmp_path / "c.sqlite"), "--thread", "t", "--new")
    term.wait_for("you> ")
    term.type("Convert 20 degrees Celsius to Fahrenheit.")
    turn = term.wait_for("you> ")
    term.type("/quit")
    assert term.close() == 0
    assert "reading your message" in turn, "the running step is named while it runs"
    assert "asking the Assistant" in turn
    assert 0 <= turn.index("assistant>") < turn.index("Mediator"), "the answer streams first"


HAIKU = "Rain taps the tin roof; puddles keep the grey sky close."


def scripted_reply(body: dict[str, Any]) -> Reply:
    """The Mediator reads a new task with nothing missing; the Assistant answers a haiku."""
    if tool_name(body) != "MediatorReading":
        return HAIKU
    return ToolCall("MediatorReading", {
        "task_type": "poem", "goal": "Write a haiku about rain.", "feedback": "new_task",
        "new_requirements": ["The poem is a haiku about rain."],
    })  # fmt: skip


class HeldFirstCall:
    """A responder that holds the first model call it gets until :attr:`released` is set.

    :attr:`received` is set once that call has reached the endpoint: from then
    on the turn cannot finish, however loaded the machine, until the test lets
    the call go. Every later call is answered at once.
    """

    def __init__(self, limit: float = 240.0) -> None:
        self.received = threading.Event()
        self.released = threading.Event()
        self.limit = limit
        """Longest a call is held if the test never releases it (it failed first)."""
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            first = not self.received.is_set()
            self.received.set()
        if first:
            self.released.wait(self.limit)
        return scripted_reply(body)


def test_ctrl_c_mid_turn_says_how_to_resume_and_the_turn_completes_later(tmp_path: Path) -> None:
    db = str(tmp_path / "c.sqlite")
    held = HeldFirstCall()
    with OpenAIStub(held) as stub:
        term = Terminal("chat", "--db", db, "--thread", "t", "--new", endpoint=stub.base_url)
        try:
            term.wait_for("you> ")
            term.type("Write a haiku about rain.")
            term.wait_until(held.received.is_set, "the turn never called the model")
            term.wait_for("reading your message")
            os.kill(term.process.pid, signal.SIGINT)  # what Ctrl-C sends, while the call is held
            said = term.wait_for("--thread t")
            assert term.close() == 130
        finally:
            if term.process.poll() is None:  # a failed wait: leave no chat behind
                term.process.kill()
            held.released.set()  # the cut-off process is gone: its held reply reaches no one
        assert [tool_name(body) for body in stub.requests] == ["MediatorReading"], (
            "the turn was cut off in the Mediator's reading, its first model call"
        )
        assert "turn cut off" in said and "your message is kept" in said
        again = Terminal("chat", "--db", db, "--thread", "t", endpoint=stub.base_url)
        resumed = again.wait_for("to leave")  # printed once the cut-off turn is complete
        again.wait_for("you> ")
        again.type("/quit")
        assert again.close() == 0
    assert "you> Write a haiku about rain." in resumed, "a resumed thread shows where it stands"
    assert "completing the turn that was cut off" in resumed
    assert "puddles keep the grey sky close" in resumed, "the cut-off turn completes on resume"
