"""Two instances of each Postgres-backed engine on a fresh database and Redis, serving the graphs.

Every test here runs once per engine (``langhost``: langhost +
langgraph-runtime-pg, reading ``langgraph.json``; ``aegra``: Aegra, reading
``aegra.json``), each in the virtualenv its project script makes
(``scripts/bootstrap.sh`` runs both). Per engine, the session makes a
database of its own and empties a Redis database of its own, applies the
engine's migrations once, then starts the instances one at a time (two
starting together race on the setup), with the same stub, auth token file
and environment as the ``langgraph dev`` suite, and recovery tuned so a dead
instance's run is taken over within seconds (see ``tests/serving_engines.py``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from langgraph_dev import server_env, stop_server, write_tokens
from openai_stub import OpenAIStub
from serving_engines import (
    ENGINES,
    POSTGRES_URL,
    Engine,
    HoldFirst,
    Instance,
    services_missing,
    start_instance,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.multi_instance)
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> Engine:
    """The engine under test; every test of this directory runs on each."""
    missing = services_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide Postgres and Redis: {missing}")
        pytest.skip(missing)
    chosen = ENGINES[str(request.param)]
    if not chosen.python.exists():
        pytest.fail(f"{chosen.python} is missing: run {chosen.install}")
    return chosen


@pytest.fixture(scope="session")
def hold() -> HoldFirst:
    """The stub's responder; a test arms it to hold one model call."""
    return HoldFirst()


@pytest.fixture(scope="session")
def mi_stub(hold: HoldFirst) -> Iterator[OpenAIStub]:
    server = OpenAIStub(hold).start(port=0)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mi_tokens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return write_tokens(tmp_path_factory.mktemp("mi-auth") / "tokens.json")


@pytest.fixture(scope="session")
def fresh_database(engine: Engine) -> Iterator[str]:
    """A database of this engine's own on the test server, dropped afterwards."""
    name = f"mediator_mi_{engine.key}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def mi_env(
    engine: Engine, mi_stub: OpenAIStub, mi_tokens: dict[str, str], fresh_database: str
) -> dict[str, str]:
    """The instances' environment: the stub, the token file, the database; migrated once."""
    env = engine.environment(server_env(mi_stub, Path(mi_tokens["__file__"])), fresh_database)
    engine.prepare(env)
    return env


def stop_all(started: list[Instance]) -> None:
    for _url, process in started:
        stop_server(process)


@pytest.fixture(scope="session")
def instances(
    engine: Engine, mi_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Instance]]:
    """Two instances of ``engine`` for the session, started one after the other."""
    logs = tmp_path_factory.mktemp(engine.key)
    started: list[Instance] = []
    try:
        for i in range(2):
            started.append(start_instance(engine, mi_env, logs / f"instance-{i}.log"))
        yield started
    finally:
        stop_all(started)
