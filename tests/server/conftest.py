"""Fixtures of the LangGraph Server suite: one stub, one ``langgraph dev`` with auth on, tokens.

Every test here is marked ``server`` and ``integration``. The server is
shared by the whole directory (it takes ~10 s to start); the users ``ALICE``
and ``BOB`` have a token each in a token file only this session knows.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from langgraph_dev import (
    ALICE,
    BOB,
    LANGGRAPH,
    connect,
    forget_session,
    respond,
    server_env,
    start_server,
    stop_server,
    wait_until_ok,
    write_tokens,
)
from langgraph_sdk.client import LangGraphClient
from openai_stub import OpenAIStub

from langgraph_mediator.models.local_server import free_port


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.server)
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stub() -> Iterator[OpenAIStub]:
    server = OpenAIStub(respond).start(port=0)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """User -> bearer token; the server's token file holds only their hashes."""
    return write_tokens(tmp_path_factory.mktemp("auth") / "tokens.json")


@pytest.fixture(scope="session")
def server_url(
    stub: OpenAIStub, tokens: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``langgraph dev`` on a free port, its auth reading this session's token file."""
    if not LANGGRAPH.exists():
        pytest.fail(f"{LANGGRAPH} is missing: run scripts/bootstrap.sh")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("langgraph-dev") / "server.log"
    process = start_server(port, server_env(stub, Path(tokens["__file__"])), log)
    try:
        wait_until_ok(url, process, log)
        yield url
        forget_session(url, {u: t for u, t in tokens.items() if u != "__file__"})
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def open_server_url(stub: OpenAIStub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``langgraph dev`` as the README's Studio command starts it: ``MEDIATOR_AUTH=none``.

    Its state lives in a folder of its own, so it never shares ``.langgraph_api`` with
    :func:`server_url`'s.
    """
    folder = tmp_path_factory.mktemp("open-server")
    env = {**server_env(stub, folder / "no-tokens.json"), "MEDIATOR_AUTH": "none"}
    env.pop("MEDIATOR_AUTH_TOKENS_FILE")
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", folder / "server.log"
    process = start_server(port, env, log, folder)
    try:
        wait_until_ok(url, process, log)
        yield url
    finally:
        stop_server(process)


@pytest.fixture
async def client(server_url: str, tokens: dict[str, str]) -> AsyncIterator[LangGraphClient]:
    """Alice's client."""
    lg = connect(server_url, tokens[ALICE])
    yield lg
    await lg.aclose()


@pytest.fixture
async def bob(server_url: str, tokens: dict[str, str]) -> AsyncIterator[LangGraphClient]:
    """Bob's client."""
    lg = connect(server_url, tokens[BOB])
    yield lg
    await lg.aclose()
