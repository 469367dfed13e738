"""SIGKILL of the instance running a turn, in the middle of a model call: the survivor finishes it.

The stub holds the turn's Mediator call (or its Assistant call) until the test
has found, from the call's client port and the process table, the instance
that made it, and killed it with SIGKILL. The run's heartbeat (langhost) or
lease (Aegra) then lapses and the other instance takes the run over. The turn
must complete exactly once: one user message, one reply, one ledger entry
each. A fresh instance replaces the dead one afterwards, so the session keeps
its pair.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph_dev import ALICE, ASSISTANT_REPLY, QUESTION, connect, contents, new_thread, turn
from langgraph_sdk.client import LangGraphClient
from openai_stub import OpenAIStub, last_user_text, tool_name
from serving_engines import Engine, HoldFirst, Instance, process_with_local_port, replace_stopped

MARK = "Convert 451 degrees."
ALICE_CONTEXT = {"user_id": ALICE}
RECOVERY_LIMIT = 120.0
"""Seconds the survivor may take to finish a dead instance's run (as tuned: ~10-25 s)."""


def mediator_call(body: dict[str, Any]) -> bool:
    return tool_name(body) == "MediatorReading" and MARK in last_user_text(body)


def assistant_call(body: dict[str, Any]) -> bool:
    return tool_name(body) is None and MARK in last_user_text(body)


def kill_the_caller(stub: OpenAIStub, hold: HoldFirst, instances: list[Instance]) -> int:
    """SIGKILL the instance whose model call the stub holds; return its index.

    The caller may be a child of the started process (``aegra serve`` runs
    uvicorn as one), so the instance is found by process group and the whole
    group is killed.
    """
    assert hold.entered.wait(30), "the held call never reached the stub"
    peer = next(p for p, b in zip(stub.peers, stub.requests, strict=True) if b is hold.held)
    caller = process_with_local_port(peer[1])
    assert caller is not None, f"no process holds local port {peer[1]}"
    group = os.getpgid(caller)
    index = next(i for i, (_, process) in enumerate(instances) if process.pid == group)
    os.killpg(group, signal.SIGKILL)
    instances[index][1].wait(timeout=10)
    hold.release.set()
    return index


async def held_turn(
    clients: list[LangGraphClient],
    thread: str,
    text: str,
    hold: HoldFirst,
    stub: OpenAIStub,
    instances: list[Instance],
) -> tuple[dict[str, Any], float]:
    """Send ``text``; kill the instance making the held call; join the run on the survivor."""
    run = await clients[0].runs.create(
        thread, "mediator", input={"messages": [{"role": "user", "content": text}]},
        context=ALICE_CONTEXT,
    )  # fmt: skip
    dead = kill_the_caller(stub, hold, instances)
    killed_at = time.monotonic()
    survivor = clients[1 - dead]
    while time.monotonic() - killed_at < RECOVERY_LIMIT:
        finished = await survivor.runs.get(thread, run["run_id"])
        if finished["status"] not in ("pending", "running"):
            return finished, time.monotonic() - killed_at
        await asyncio.sleep(0.5)
    raise AssertionError(f"the run was not taken over within {RECOVERY_LIMIT} s: {finished}")


@pytest.mark.parametrize("held", [mediator_call, assistant_call], ids=["mediator", "assistant"])
async def test_a_turn_survives_sigkill_of_its_instance_mid_call(
    held: Callable[[dict[str, Any]], bool], engine: Engine, instances: list[Instance],
    hold: HoldFirst,
    mi_stub: OpenAIStub, mi_tokens: dict[str, str], mi_env: dict[str, str],
    tmp_path: Path, record: Callable[..., None],
) -> None:  # fmt: skip
    clients = [connect(url, mi_tokens[ALICE]) for url, _ in instances]
    try:
        thread = await new_thread(clients[0])
        if held is assistant_call:  # the question turn first: the answer turn calls the Assistant
            await turn(clients[0], thread, MARK, ALICE_CONTEXT)
            hold.arm(held)
            finished, recovered = await held_turn(clients, thread, "Celsius.", hold, mi_stub,
                                                  instances)  # fmt: skip
        else:
            hold.arm(held)
            finished, recovered = await held_turn(clients, thread, MARK, hold, mi_stub, instances)
        values = (await clients[0 if instances[0][1].poll() is None else 1].threads.get_state(
            thread))["values"]  # fmt: skip
    finally:
        hold.release.set()
        for lg in clients:
            await lg.aclose()
        replace_stopped(engine, instances, mi_env, tmp_path)
    assert finished["status"] == "success", finished
    expected = [MARK, QUESTION] + (["Celsius.", ASSISTANT_REPLY] if held is assistant_call else [])
    assert contents(values) == expected, "each turn answered exactly once, nothing lost"
    texts = [r["text"] for r in values["ledger"]]
    assert len(texts) == len(set(texts)) and MARK in texts
    settings = {name.lower(): value for name, value in engine.recovery.items()}
    record(f"SIGKILL of the instance mid {held.__name__.replace('_', ' ')}", engine=engine.name,
           recovery_seconds=round(recovered, 1), **settings, lost_turns=0,
           duplicated_turns=0)  # fmt: skip
