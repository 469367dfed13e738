"""The documentation works as written: every Python block runs, every link resolves.

Each ``python`` block of README.md and docs/*.md runs unchanged in a fresh
interpreter, in an empty folder, with ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``
pointing at a scripted OpenAI-compatible endpoint (:mod:`docs_snippets` plays
the Mediator, the Refiner and every Assistant). The blocks run in parallel,
started together when the first one is asked for. Blocks that use
langgraph-sdk run against ``langgraph dev`` (marked ``server``): one server
with ``MEDIATOR_AUTH=none``, as the README starts it, and one with a token
file, for the auth example; ``LANGGRAPH_API_URL`` points them at it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from docs_snippets import (
    ROOT,
    SERVED_MODEL,
    Block,
    anchors,
    code_blocks,
    doc_files,
    python_blocks,
    relative_links,
    respond,
    snippet_env,
)
from langgraph_dev import LANGGRAPH, start_server, stop_server, wait_until_ok
from openai_stub import OpenAIStub

from langgraph_mediator.auth.verifiers import add_token
from langgraph_mediator.models.local_server import free_port

BLOCKS = python_blocks()
SERVER_BLOCKS = [b for b in BLOCKS if "langgraph_sdk" in b.code]
LOCAL_BLOCKS = [b for b in BLOCKS if b not in SERVER_BLOCKS]
SNIPPET_TIMEOUT = 90.0
README = ROOT / "README.md"
README_MAX_LINES = 260
TOKEN_USER = "alice"
SETUP_COMMANDS = (
    "bash scripts/bootstrap.sh && .venv/bin/mediator demo",
    "bash scripts/bootstrap.sh && .venv/bin/python -m pytest -q",
)


@dataclass(frozen=True)
class Ran:
    """How a block's run ended."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float


def run_block(block: Block, env: dict[str, str], folder: Path) -> Ran:
    """Run ``block`` as a script of its own, from an empty folder beside it."""
    script = folder / "snippet.py"
    workdir = folder / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    script.write_text(block.code, encoding="utf-8")
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(script)], cwd=workdir, env=env,
            capture_output=True, text=True, timeout=SNIPPET_TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        return Ran(None, out, err + f"\n(timed out after {SNIPPET_TIMEOUT:.0f} s)", SNIPPET_TIMEOUT)
    return Ran(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def check_ran(block: Block, ran: Ran) -> None:
    """Exit code 0 and something printed; else the block's output, for the reader of the failure."""
    shown = f"{block.id} ({ran.seconds:.1f} s)\n--- stdout\n{ran.stdout[-3000:]}\n--- stderr\n"
    assert ran.returncode == 0, shown + ran.stderr[-6000:]
    assert ran.stdout.strip(), shown + ran.stderr[-3000:] + "\n(the block printed nothing)"


@pytest.fixture(scope="module")
def stub() -> Iterator[OpenAIStub]:
    """The scripted endpoint every block's models call (it serves ``gpt-4o-mini``)."""
    with OpenAIStub(respond, models=[SERVED_MODEL]) as server:
        yield server


@pytest.fixture(scope="module")
def local_runs(
    stub: OpenAIStub, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Ran]]]:
    """Every block that needs no server, started at once on a few workers."""
    workers = max(2, min(6, 2 * (os.cpu_count() or 1)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = {}
        for block in LOCAL_BLOCKS:
            folder = tmp_path_factory.mktemp("snippet")
            runs[block.id] = pool.submit(run_block, block, snippet_env(stub.base_url, folder),
                                         folder)  # fmt: skip
        yield runs


@pytest.mark.parametrize("block", LOCAL_BLOCKS, ids=lambda b: b.id)
def test_python_block_runs_as_written(block: Block, local_runs: dict[str, Future[Ran]]) -> None:
    check_ran(block, local_runs[block.id].result())


# --- blocks that talk to LangGraph Server ------------------------------------------------------


@dataclass
class DevServer:
    """One ``langgraph dev`` on a free port, in a folder of its own."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_dev_server(env: dict[str, str], folder: Path) -> DevServer:
    """``langgraph dev`` on this repository's langgraph.json, its state kept under ``folder``."""
    port = free_port()
    log = folder / "server.log"
    return DevServer(f"http://127.0.0.1:{port}", start_server(port, env, log, folder), log)


@dataclass
class Servers:
    """``open``: ``MEDIATOR_AUTH=none``, as the README starts it; ``tokens``: a token file."""

    open: DevServer
    tokens: DevServer
    token: str
    """The bearer token of ``TOKEN_USER`` on ``tokens``."""


@pytest.fixture(scope="module")
def servers(stub: OpenAIStub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers, started together, on the scripted endpoint's models."""
    if not LANGGRAPH.exists():
        pytest.fail(f"{LANGGRAPH} is missing: run scripts/bootstrap.sh")
    home = tmp_path_factory.mktemp("server-home")
    tokens_file = home / "tokens.json"
    token = add_token(tokens_file, TOKEN_USER)
    base = snippet_env(stub.base_url, home) | {
        "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGGRAPH_NO_VERSION_CHECK": "true",
        "MEDIATOR_TIMEOUT": "20",
    }  # fmt: skip
    auth = {
        "open": {"MEDIATOR_AUTH": "none", "MEDIATOR_AUTH_TRUST_STUDIO": "true"},
        "tokens": {"MEDIATOR_AUTH_TOKENS_FILE": str(tokens_file)},
    }
    started = {
        name: start_dev_server(base | extra, tmp_path_factory.mktemp(f"langgraph-dev-{name}"))
        for name, extra in auth.items()
    }
    try:
        for server in started.values():
            wait_until_ok(server.url, server.process, server.log)
        yield Servers(started["open"], started["tokens"], token)
    finally:
        for server in started.values():
            stop_server(server.process)


@pytest.mark.server
@pytest.mark.integration
@pytest.mark.parametrize("block", SERVER_BLOCKS, ids=lambda b: b.id)
def test_server_block_runs_against_langgraph_dev(
    block: Block, servers: Servers, stub: OpenAIStub, tmp_path: Path
) -> None:
    env = snippet_env(stub.base_url, tmp_path)
    server = servers.open
    if "MEDIATOR_TOKEN" in block.code:  # the auth example: a user's token, as `mediator token` gave
        server = servers.tokens
        env["MEDIATOR_TOKEN"] = servers.token
    env["LANGGRAPH_API_URL"] = server.url
    check_ran(block, run_block(block, env, tmp_path))


# --- the pages themselves ----------------------------------------------------------------------


@pytest.mark.parametrize("page", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_and_heading(page: Path) -> None:
    broken = []
    for line, target in relative_links(page):
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"line {line}: {target} (no {resolved})")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"line {line}: {target} (no heading #{anchor} in {resolved.name})")
    assert not broken, f"{page.name}:\n" + "\n".join(broken)


def test_the_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_leads_with_the_two_setup_commands() -> None:
    first = next(code_blocks(README))
    assert first.language == "bash"
    commands = [line for line in first.code.splitlines() if line and not line.startswith("#")]
    assert commands == list(SETUP_COMMANDS)


def test_the_readme_layout_names_every_package_folder() -> None:
    layout = next(b for b in code_blocks(README) if b.code.startswith("langgraph_mediator/"))
    listed = set(re.findall(r"^  (\w+)/", layout.code, re.MULTILINE))
    folders = {p.name for p in (ROOT / "langgraph_mediator").iterdir()
               if (p / "__init__.py").exists()}  # fmt: skip
    assert listed == folders


def test_every_docs_page_says_what_it_is_for_and_is_linked_from_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    for page in doc_files()[1:]:
        title, blank, purpose, after = page.read_text(encoding="utf-8").splitlines()[:4]
        assert title.startswith("# ") and not blank and purpose and not after, page.name
        assert f"(docs/{page.name})" in readme, f"README.md does not link docs/{page.name}"
