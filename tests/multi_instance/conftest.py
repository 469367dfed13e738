"""Two langhost instances on one fresh Postgres database and one Redis, serving langgraph.json.

The engine is langhost + langgraph-runtime-pg in its own virtualenv
(``scripts/serve_pg.sh install``, which ``scripts/bootstrap.sh`` runs). Each
session makes a database of its own and empties a Redis database of its own,
applies the runtime's migrations, then starts the instances one at a time (two
starting together deadlock on the runtime's setup), with the same stub, auth
token file and environment as the ``langgraph dev`` suite, and
``LG_BG_JOB_HEARTBEAT=5`` so a dead instance's run is taken over within seconds.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from langgraph_dev import ALICE, BOB, ROOT, respond, server_env, stop_server, wait_until_ok
from openai_stub import OpenAIStub

from langgraph_mediator.auth.verifiers import add_token
from langgraph_mediator.models.local_server import free_port

POSTGRES_URL = os.environ.get(
    "MEDIATOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
SERVE_VENV = ROOT / ".venv-serve-pg"
LANGHOST = SERVE_VENV / "bin" / "langhost"
SERVE_PYTHON = SERVE_VENV / "bin" / "python"
LAUNCHER = ROOT / "scripts" / "langhost_serve.py"
MIGRATE = SERVE_VENV / "bin" / "langgraph-runtime-pg-migrate"
REDIS_DB = 11
"""The Redis database these tests empty and use (the machine's Redis keeps nothing on disk)."""
HEARTBEAT_SECONDS = "5"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.multi_instance)
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def mi_stub() -> Iterator[OpenAIStub]:
    server = OpenAIStub(respond).start(port=0)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mi_tokens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("mi-auth") / "tokens.json"
    return {user: add_token(path, user) for user in (ALICE, BOB)} | {"__file__": str(path)}


@pytest.fixture(scope="session")
def fresh_database() -> Iterator[str]:
    """A database of this session's own on the test server, dropped afterwards."""
    name = f"mediator_mi_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def mi_env(mi_stub: OpenAIStub, mi_tokens: dict[str, str], fresh_database: str) -> dict[str, str]:
    if not LANGHOST.exists():
        pytest.fail(f"{LANGHOST} is missing: run scripts/serve_pg.sh install")
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "FLUSHDB"], check=True, capture_output=True)
    env = server_env(mi_stub, Path(mi_tokens["__file__"]))
    env.update(
        DATABASE_URI=fresh_database,
        REDIS_URI=f"redis://127.0.0.1:6379/{REDIS_DB}",
        LG_BG_JOB_HEARTBEAT=HEARTBEAT_SECONDS,
        LG_RUNTIME_PG_AUTO_MIGRATE="false",
    )  # migrated once, here, not by each instance
    subprocess.run([str(MIGRATE), "upgrade"], env=env, check=True, capture_output=True)
    return env


def start_instance(env: dict[str, str], log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(SERVE_PYTHON), str(LAUNCHER), "serve", "-c", "langgraph.json",
             "--host", "127.0.0.1", "-p", str(port), "--no-browser"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_until_ok(url, process, log)
    return url, process


@pytest.fixture(scope="session")
def instances(
    mi_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    """Two instances, started one after the other; stopped at the end of the session."""
    logs = tmp_path_factory.mktemp("langhost")
    started: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for i in range(2):
            started.append(start_instance(mi_env, logs / f"instance-{i}.log"))
        yield started
    finally:
        for _url, process in started:
            stop_server(process)
