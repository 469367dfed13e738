"""The embedded model server, for real: start, a 3-turn conversation, the CLI demo, stop."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.errors import ModelEndpointError
from langgraph_mediator.graphs.refiner import build_refiner_graph
from langgraph_mediator.guidelines import acurrent_version, guideline_problem
from langgraph_mediator.models import aask_structured, build_chat_model
from langgraph_mediator.models.local_server import (
    LOCAL_MODEL_ALIAS,
    LocalModelServer,
    bundled_model_path,
)
from langgraph_mediator.session import MediatorSession
from langgraph_mediator.state import MediatorReading, StructuredOutput
from langgraph_mediator.state.refiner import MAX_GUIDELINES

pytestmark = pytest.mark.integration

SHARDS = (
    "Write a Python function that returns the average of a list of numbers.",
    "It should return 0 for an empty list.",
    "No wait, raise a ValueError for an empty list instead.",
)


@pytest.fixture(scope="module")
def server() -> LocalModelServer:
    started = LocalModelServer(model_path=bundled_model_path()).start()
    yield started
    started.stop()


def test_server_answers_health_check_and_lists_its_model(server: LocalModelServer) -> None:
    models = httpx.get(f"{server.base_url}/models", timeout=5).json()
    assert [m["id"] for m in models["data"]] == [LOCAL_MODEL_ALIAS]
    assert 0 < server.started_in < 120


async def test_three_turns_on_the_embedded_model_parse_every_structured_call(
    server: LocalModelServer,
) -> None:
    graph = build_mediator_graph(checkpointer=InMemorySaver(), store=InMemoryStore())
    context = MediatorContext(
        base_url=server.base_url, clarification_policy="never", single_task=True, max_tokens=256
    )
    session = MediatorSession(graph, context)
    for shard in SHARDS:
        result = await session.send("local-3", shard)
        assert result.usage is not None
        assert result.usage["fallback"] is None, result.usage["fallback"]
        nodes = [call["node"] for call in result.usage["calls"]]
        assert nodes == ["detect_intent", "execute"]
        assert all(call["prompt_tokens"] > 0 for call in result.usage["calls"])
        assert result.reply.strip()
        assert result.instruction.startswith("Task: ")
        assert result.intent is not None and result.intent["goal"]
    values = await session.state("local-3")
    assert values["turn"] == 3
    assert len(values["messages"]) == 6
    assert values["ledger"], "three informative turns left the ledger empty"


@pytest.mark.parametrize("mode", ["auto", "tool_call", "json_schema", "json_object"])
async def test_each_structured_output_mode_on_the_embedded_server(
    server: LocalModelServer, mode: StructuredOutput
) -> None:
    """auto and tool_call parse; json_schema is refused by llama.cpp; json_object may fall back."""
    context = MediatorContext(base_url=server.base_url, max_tokens=256, max_retries=0)
    model = build_chat_model(context, context.mediator_model, loop=asyncio.get_running_loop())
    prompt = [SystemMessage("Read the user's message into the schema."),
              HumanMessage("Convert 20 degrees Celsius to Fahrenheit.")]  # fmt: skip
    ask = aask_structured(model, MediatorReading, prompt, node="detect_intent",
                          base_url=server.base_url, mode=mode)  # fmt: skip
    if mode == "json_schema":
        with pytest.raises(ModelEndpointError, match="MEDIATOR_STRUCTURED_OUTPUT=tool_call"):
            await ask
        return
    parsed, calls, error = await ask
    if mode in ("auto", "tool_call"):
        assert parsed is not None and len(calls) == 1, error
    else:  # JSON mode constrains syntax only: the 135M model may echo the schema, then fall back
        assert (parsed is not None) == (error == "") and 1 <= len(calls) <= 2


def test_server_stops_and_frees_its_port() -> None:
    started = LocalModelServer(model_path=bundled_model_path()).start()
    port = started.port
    started.stop()
    assert not started.running
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_cli_demo_runs_end_to_end_on_the_embedded_model() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    done = subprocess.run(
        [sys.executable, "-m", "langgraph_mediator.cli", "demo"],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "embedded model ready" in out
    assert "turn 5" in out and "+R" in out
    assert "model calls" in out


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"


async def test_a_real_refine_run_completes_and_stores_a_valid_set(
    server: LocalModelServer,
) -> None:
    store = InMemoryStore()
    data = json.loads((EXAMPLES / "refine_pair.json").read_text())
    refiner = build_refiner_graph(store=store)
    patient = MediatorContext(base_url=server.base_url, request_timeout=600)  # a loaded machine
    out = await refiner.ainvoke(data, context=patient)
    assert 1 <= len(out["diagnoses"]) <= 6, "one pair: at least one misreading, at most six"
    assert {d["pair_id"] for d in out["diagnoses"]} == {"run-17|run-18"}
    assert len(out["guidelines"]) <= MAX_GUIDELINES
    for guideline in out["guidelines"]:
        assert guideline_problem(guideline["text"]) is None
        assert guideline["provenance"] == ["run-17|run-18"]
    current = await acurrent_version(store, "alice")
    if out["guidelines"]:
        assert current is not None and current["version"] == out["version"] == 1
        assert current["guidelines"] == out["guidelines"]
    else:
        assert current is None


def test_cli_refine_history_and_rollback(server: LocalModelServer, tmp_path: Path) -> None:
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "COLUMNS": "200"}
    db = str(tmp_path / "g.sqlite")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "langgraph_mediator.cli", *args, "--user", "alice", "--db", db],
            capture_output=True, text=True, timeout=300, env=env, check=False,
        )  # fmt: skip

    refined = cli("refine", "--runs", str(EXAMPLES / "runs.jsonl"))
    assert refined.returncode == 0, refined.stdout + refined.stderr
    assert "pairs: run-17|run-18" in refined.stdout
    history = cli("guidelines", "history")
    assert history.returncode == 0
    saved = "saved as version 1" in refined.stdout
    assert ("refine: run-17|run-18" in history.stdout) is saved
    if saved:
        rolled = cli("guidelines", "rollback")
        assert rolled.returncode == 0 and "now version 2 (rollback to v0" in rolled.stdout


SERVER_PARENT = """
from langgraph_mediator.models.local_server import ensure_local_server
server = ensure_local_server()
print(server._process.pid, flush=True)
import time; time.sleep(300)
"""


def test_the_embedded_server_dies_with_a_sigkilled_parent() -> None:
    """``kill -9`` runs no atexit hook: the orphan guard must end the server on its own."""
    parent = subprocess.Popen([sys.executable, "-c", SERVER_PARENT], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    assert parent.stdout is not None
    server_pid = int(parent.stdout.readline())
    cmdline = Path(f"/proc/{server_pid}/cmdline").read_bytes().split(b"\0")
    assert b"llama_cpp.server" in cmdline and b"--n_ctx" in cmdline
    assert cmdline[cmdline.index(b"--n_ctx") + 1] == b"0", "the model's whole context"
    assert cmdline[cmdline.index(b"--cache") + 1] == b"True", "prompt prefixes are kept"
    assert cmdline[cmdline.index(b"--cache_size") + 1] == str(256 << 20).encode()
    os.kill(parent.pid, 9)
    parent.wait(timeout=10)
    for _ in range(100):
        stat = Path(f"/proc/{server_pid}/stat")
        if not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return
        time.sleep(0.1)
    os.kill(server_pid, 9)
    pytest.fail("the embedded model server outlived its SIGKILLed parent")
