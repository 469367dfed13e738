"""``mediator chat`` in a pseudo-terminal on the embedded model: live progress and Ctrl-C."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


class Terminal:
    """A CLI process on a pseudo-terminal; everything it writes is kept in :attr:`seen`."""

    def __init__(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"}
        env.update(LANGSMITH_TRACING="false", COLUMNS="120", MEDIATOR_MAX_TOKENS="48")
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "langgraph_mediator.cli", *args],
            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
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
        start, deadline = self.cursor, time.monotonic() + timeout
        while text not in self.seen[start:]:
            if time.monotonic() > deadline or self.process.poll() is not None and not self._read(0):
                raise AssertionError(f"{text!r} never appeared; the screen said:\n{self.seen}")
            self._read(0.2)
        self.cursor = self.seen.index(text, start) + len(text)
        return self.seen[start : self.cursor]

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


def test_ctrl_c_mid_turn_says_how_to_resume_and_the_turn_completes_later(tmp_path: Path) -> None:
    db = str(tmp_path / "c.sqlite")
    term = Terminal("chat", "--db", db, "--thread", "t", "--new")
    term.wait_for("you> ")
    term.type("Write a haiku about rain.")
    term.wait_for("reading your message")
    os.kill(term.process.pid, signal.SIGINT)  # what Ctrl-C sends
    said = term.wait_for("--thread t")
    assert term.close() == 130
    assert "turn cut off" in said and "your message is kept" in said
    again = Terminal("chat", "--db", db, "--thread", "t")
    resumed = again.wait_for("to leave")  # printed once the cut-off turn is complete
    again.wait_for("you> ")
    again.type("/quit")
    assert again.close() == 0
    assert "you> Write a haiku about rain." in resumed, "a resumed thread shows where it stands"
    assert "completing the turn that was cut off" in resumed
