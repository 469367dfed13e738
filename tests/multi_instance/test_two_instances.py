"""The graphs served by two Postgres-backed instances: one conversation across both, and load.

Turns alternate between the instances, so each turn runs wherever the shared
queue puts it and reads the thread only from Postgres: nothing may live in one
instance's memory.
"""

from __future__ import annotations

from collections.abc import Callable

from langgraph_dev import ALICE, ASSISTANT_REPLY, QUESTION, connect, contents, new_thread, turn
from serving_engines import Engine, Instance, check_threads, play_threads


async def test_a_conversation_with_a_question_and_a_correction_alternates_instances(
    instances: list[Instance], mi_tokens: dict[str, str]
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
    engine: Engine, instances: list[Instance], mi_tokens: dict[str, str],
    record: Callable[..., None],
) -> None:  # fmt: skip
    clients = [connect(url, mi_tokens[ALICE]) for url, _ in instances]
    try:
        results, seconds = await play_threads(clients, 100)
    finally:
        for lg in clients:
            await lg.aclose()
    check_threads(results)
    record("100 threads x 2 turns over 2 instances", engine=engine.name, threads=100, errors=0,
           cross_talk=0, turns_per_second=round(200 / seconds, 1))  # fmt: skip
