"""Run a Python module as a child process that dies with its parent, however the parent dies.

``python -m langgraph_mediator.models.orphan_guard PARENT_PID MODULE [ARGS...]``
runs ``MODULE`` as ``__main__`` with ``ARGS`` and, beside it, a watcher thread
that ends the process the moment it is no longer ``PARENT_PID``'s child. An
``atexit`` hook in the parent cannot do this: ``kill -9`` runs no hook, and the
embedded model server would live on under PID 1, holding its memory for good.

``prctl(PR_SET_PDEATHSIG)`` is not enough either: it fires when the *thread*
that started the child exits, not the process, and it is Linux only. Polling
``os.getppid()`` works on every POSIX system and costs two system calls a
second.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time

POLL_SECONDS = 0.5
USAGE = "usage: python -m langgraph_mediator.models.orphan_guard PARENT_PID MODULE [ARGS...]"


def watch_parent(parent_pid: int, *, interval: float = POLL_SECONDS) -> threading.Thread:
    """Start a daemon thread that exits the process once ``parent_pid`` is not its parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(0)  # no cleanup to wait for: the parent that wanted the answers is gone

    thread = threading.Thread(target=watch, name="orphan-guard", daemon=True)
    thread.start()
    return thread


def main(argv: list[str]) -> None:
    """Watch the parent, then run the module as ``__main__`` with the remaining arguments."""
    if len(argv) < 2 or not argv[0].isdigit():
        raise SystemExit(USAGE)
    parent_pid, module, args = int(argv[0]), argv[1], argv[2:]
    watch_parent(parent_pid)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
