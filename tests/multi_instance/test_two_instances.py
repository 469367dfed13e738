"""The graphs served by two Postgres-backed instances: one conversation across both, and load.

Turns alternate between the instances, so each turn runs wherever the shared
queue puts it and reads the thread only from Postgres: nothing may live in one
instance's memory.
"""

from __future__ import annotations

import asyncio
import subprocess

from langgraph_dev import ALICE, ASSISTANT_REPLY, QUESTION, connect, contents, new_thread, turn

Instances = list[tuple[str, subprocess.Popen[bytes]]]


async def test_a_conversation_with_a_question_and_a_correction_alternates_instances(
    instances: Instances, mi_tokens: dict[str, str]
) -> None:
    first, second = (connect(url, mi_tokens[ALICE]) for url, _ in instances)
    alice = {"user_id": ALICE}
    try:
        thread = await new_thread(first)
        asked = await turn(first, thread, "Convert 20 degrees.", alice)
        assert contents(asked)[-1] == QUESTION
        answered = await turn(second, thread, "Celsius.", alice)
        assert contents(answered)[-1] == ASSISTANT_REPLY
        await turn(first, thread, "no, in Kelvin", alice)
        values = (await second.threads.get_state(thread))["values"]
    finally:
        await first.aclose()
        await second.aclose()
    ledger = {r["text"]: r["status"] for r in values["ledger"]}
    assert ledger == {"Convert 20 degrees.": "active", "The input is in Celsius.": "superseded",
                      "The input is in Kelvin.": "active"}  # fmt: skip
    assert "Kelvin" in values["instruction"] and "Celsius" not in values["instruction"]
    assert values["turn"] == 3 and len(values["messages"]) == 6


async def test_a_hundred_concurrent_threads_over_both_instances_keep_to_themselves(
    instances: Instances, mi_tokens: dict[str, str]
) -> None:
    clients = [connect(url, mi_tokens[ALICE]) for url, _ in instances]
    alice = {"user_id": ALICE}

    async def conversation(i: int) -> dict[str, object]:
        lg, other = clients[i % 2], clients[(i + 1) % 2]
        thread = await new_thread(lg)
        await turn(lg, thread, f"Convert {i} degrees.", alice)
        await turn(other, thread, "Celsius.", alice)
        return dict((await lg.threads.get_state(thread))["values"])

    try:
        results = await asyncio.gather(*(conversation(i) for i in range(100)),
                                       return_exceptions=True)  # fmt: skip
    finally:
        for lg in clients:
            await lg.aclose()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], errors[:3]
    for i, values in enumerate(results):
        assert isinstance(values, dict)
        texts = [r["text"] for r in values["ledger"]]  # type: ignore[index]
        assert texts == [f"Convert {i} degrees.", "The input is in Celsius."], (i, texts)
        assert contents(values)[0] == f"Convert {i} degrees."
        assert contents(values)[-1] == ASSISTANT_REPLY
