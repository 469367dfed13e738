"""The Postgres-backed server engines under test: environment, start, and who holds a call.

Shared by ``tests/multi_instance``. Each engine lives in a virtualenv of its
own that a project script makes, and serves the same graphs, auth and stub:

- ``langhost``: langhost + langgraph-runtime-pg in ``.venv-serve-pg``
  (``scripts/serve_pg.sh install``), run through ``scripts/langhost_serve.py``
  (langhost with the JSON fix custom auth needs on that runtime), reading
  ``langgraph.json``;
- ``aegra``: Aegra in ``.venv-serve-aegra`` (``scripts/serve_aegra.sh
  install``), reading ``aegra.json``.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from langgraph_dev import (
    ALICE,
    ASSISTANT_REPLY,
    ROOT,
    contents,
    new_thread,
    respond,
    turn,
    wait_until_ok,
)
from langgraph_sdk.client import LangGraphClient
from openai_stub import Reply

from langgraph_mediator.models.local_server import free_port

POSTGRES_URL = os.environ.get(
    "MEDIATOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
Instance = tuple[str, "subprocess.Popen[bytes]"]
"""An instance's URL and its process."""


@dataclass(frozen=True)
class Engine:
    """How to migrate, configure and start one server engine's instances."""

    key: str
    """The test id (``langhost``, ``aegra``)."""
    name: str
    """The engine's name in the figures these tests record."""
    venv: Path
    install: str
    """The command that makes :attr:`venv`."""
    database_variable: str
    redis_variable: str
    redis_db: int
    """The Redis database these tests empty and use (the machine's Redis keeps nothing)."""
    recovery: dict[str, str]
    """The settings that govern how soon a dead instance's run is taken over."""
    settings: dict[str, str]
    migrate: list[str]
    serve: Callable[[int], list[str]]
    probe: str
    """The path that answers 200 once an instance takes requests."""

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def environment(self, base: dict[str, str], database_uri: str) -> dict[str, str]:
        """``base`` (the stub, the auth tokens) plus the database, Redis and recovery."""
        redis = f"redis://127.0.0.1:6379/{self.redis_db}"
        return {**base, self.database_variable: database_uri, self.redis_variable: redis,
                **self.recovery, **self.settings}  # fmt: skip

    def prepare(self, env: dict[str, str]) -> None:
        """Empty the Redis database and migrate Postgres once (instances must not race to)."""
        subprocess.run(["redis-cli", "-n", str(self.redis_db), "FLUSHDB"], check=True,
                       capture_output=True)  # fmt: skip
        subprocess.run(self.migrate, cwd=ROOT, env=env, check=True, capture_output=True)


REDIS_DB_BASE = int(os.environ.get("MEDIATOR_TEST_REDIS_DB", "11"))
"""The first of the two Redis databases these tests take: a second checkout's suite run
beside this one sets ``MEDIATOR_TEST_REDIS_DB`` elsewhere (e.g. 13) so neither empties the
other's queue."""
LANGHOST_VENV = ROOT / ".venv-serve-pg"
AEGRA_VENV = ROOT / ".venv-serve-aegra"
LANGHOST = Engine(
    key="langhost", name="langhost + langgraph-runtime-pg 0.11.1", venv=LANGHOST_VENV,
    install="scripts/serve_pg.sh install",
    database_variable="DATABASE_URI", redis_variable="REDIS_URI", redis_db=REDIS_DB_BASE,
    recovery={"LG_BG_JOB_HEARTBEAT": "5"},
    settings={"LG_RUNTIME_PG_AUTO_MIGRATE": "false"},
    migrate=[str(LANGHOST_VENV / "bin" / "langgraph-runtime-pg-migrate"), "upgrade"],
    serve=lambda port: [str(LANGHOST_VENV / "bin" / "python"),
                        str(ROOT / "scripts" / "langhost_serve.py"), "serve", "-c",
                        "langgraph.json", "--host", "127.0.0.1", "-p", str(port),
                        "--no-browser"],
    probe="/ok",
)  # fmt: skip
AEGRA = Engine(
    key="aegra", name="Aegra 0.11.0", venv=AEGRA_VENV,
    install="scripts/serve_aegra.sh install",
    database_variable="DATABASE_URL", redis_variable="REDIS_URL", redis_db=REDIS_DB_BASE + 1,
    recovery={"LEASE_DURATION_SECONDS": "10", "HEARTBEAT_INTERVAL_SECONDS": "3",
              "REAPER_INTERVAL_SECONDS": "5"},
    settings={"AEGRA_CONFIG": "aegra.json", "REDIS_BROKER_ENABLED": "true",
              "RUN_MIGRATIONS_ON_STARTUP": "false"},
    migrate=[str(AEGRA_VENV / "bin" / "aegra"), "db", "upgrade"],
    serve=lambda port: [str(AEGRA_VENV / "bin" / "aegra"), "serve", "-c", "aegra.json",
                        "--host", "127.0.0.1", "--port", str(port)],
    probe="/ready",
)  # fmt: skip
ENGINES = {engine.key: engine for engine in (LANGHOST, AEGRA)}


def services_missing() -> str | None:
    """What of Postgres and Redis does not answer, or None when both do."""
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError:
        return f"no Postgres at {POSTGRES_URL}"
    ping = subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    return None if ping.stdout.strip() == "PONG" else "no Redis at 127.0.0.1:6379"


def start_instance(engine: Engine, env: dict[str, str], log: Path) -> Instance:
    """One instance on a free port, in its own process group; returns once it takes requests."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(engine.serve(port), cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_until_ok(url, process, log, engine.probe)
    return url, process


def replace_stopped(
    engine: Engine, instances: list[Instance], env: dict[str, str], logs: Path
) -> None:
    """Start a fresh instance in place of each one whose process has ended."""
    for i, (_url, process) in enumerate(instances):
        if process.poll() is not None:
            instances[i] = start_instance(engine, env, logs / f"replacement-{i}.log")


def process_with_local_port(port: int) -> int | None:
    """The PID whose TCP connection has local port ``port`` on 127.0.0.1 (from ``ss``)."""
    listing = subprocess.run(["ss", "-tnpH", "src", f"127.0.0.1:{port}"], check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
    found = re.findall(r"pid=(\d+)", listing)
    return int(found[0]) if found else None


@dataclass
class HoldFirst:
    """The stub's responder: the script of ``langgraph_dev``, and one call held when armed.

    :meth:`arm` with a predicate; the first request it matches waits (up to a
    minute) while the test kills the process that made it, then is answered
    (to nobody). Every later request is answered at once.
    """

    predicate: Callable[[dict[str, Any]], bool] | None = None
    held: dict[str, Any] | None = None
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, predicate: Callable[[dict[str, Any]], bool]) -> None:
        with self._lock:
            self.predicate, self.held = predicate, None
            self.entered.clear()
            self.release.clear()

    def __call__(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            hold = self.predicate is not None and self.predicate(body)
            if hold:
                self.predicate, self.held = None, body
        if hold:
            self.entered.set()
            self.release.wait(60)
        return respond(body)


async def play_threads(
    clients: list[LangGraphClient], count: int
) -> tuple[list[dict[str, Any] | BaseException], float]:
    """``count`` two-turn conversations at once, turn 1 and turn 2 on different clients.

    Thread ``i`` asks to convert ``i`` degrees and answers the unit question
    with "Celsius."; returns each thread's final values (or its error) and the
    seconds the whole batch took.
    """
    alice = {"user_id": ALICE}

    async def conversation(i: int) -> dict[str, Any]:
        lg, other = clients[i % len(clients)], clients[(i + 1) % len(clients)]
        thread = await new_thread(lg)
        await turn(lg, thread, f"Convert {i} degrees.", alice)
        await turn(other, thread, "Celsius.", alice)
        return dict((await lg.threads.get_state(thread))["values"])

    began = time.monotonic()
    results = await asyncio.gather(*(conversation(i) for i in range(count)),
                                   return_exceptions=True)  # fmt: skip
    return list(results), time.monotonic() - began


def check_threads(results: list[dict[str, Any] | BaseException]) -> None:
    """No errors, and each thread of :func:`play_threads` holds its own turns and nothing else."""
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], errors[:3]
    for i, values in enumerate(results):
        assert isinstance(values, dict)
        texts = [r["text"] for r in values["ledger"]]
        assert texts == [f"Convert {i} degrees.", "The input is in Celsius."], (i, texts)
        assert contents(values)[0] == f"Convert {i} degrees."
        assert contents(values)[-1] == ASSISTANT_REPLY
