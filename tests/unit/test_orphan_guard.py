"""The orphan guard: a child started through it dies with its parent, even on ``kill -9``."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from langgraph_mediator.models import orphan_guard

PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-m", "langgraph_mediator.models.orphan_guard",
                          str(__import__("os").getpid()), "{module}", *{args!r}])
print(child.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie that nobody reaped yet counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_until_dead(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def start_parent(module: str, *args: str) -> tuple[subprocess.Popen[str], int]:
    code = PARENT.format(module=module, args=list(args))
    # Unbuffered, so the child's own first line (it shares the pipe) arrives as it is printed.
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    assert parent.stdout is not None
    return parent, int(parent.stdout.readline())


def wait_for_line(parent: subprocess.Popen[str], text: str, seconds: float = 60.0) -> None:
    """Read the shared pipe until ``text`` (the guarded module runs: its watcher is on)."""
    assert parent.stdout is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([parent.stdout], [], [], 0.5)
        if ready and text in parent.stdout.readline():
            return
    raise AssertionError(f"the guarded module never printed {text!r}")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_the_child_dies_when_its_parent_is_killed_with_sigkill() -> None:
    parent, child = start_parent("http.server", "0", "--bind", "127.0.0.1")
    try:
        # Not a fixed sleep: on a loaded machine importing the package alone can take seconds.
        wait_for_line(parent, "Serving HTTP")
        assert alive(child), "the guarded module runs while its parent lives"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=5)
        assert wait_until_dead(child, 5.0), "the child outlived its SIGKILLed parent"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_the_module_runs_as_main_with_its_own_arguments(tmp_path: Path) -> None:
    script = tmp_path / "echo_args.py"
    script.write_text("import sys\nprint(__name__, sys.argv[1:])\n")
    done = subprocess.run(
        [sys.executable, "-m", "langgraph_mediator.models.orphan_guard", str(os.getpid()),
         "echo_args", "--flag", "x"],
        capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(tmp_path)},
        check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "__main__ ['--flag', 'x']"


def test_a_call_without_a_parent_pid_says_how_to_call_it() -> None:
    with pytest.raises(SystemExit, match="PARENT_PID MODULE"):
        orphan_guard.main(["llama_cpp.server"])
