"""Turns per second with one instance and with two, on the same stub and the same load.

With one instance the other is stopped, so a single process takes every run
from the shared queue; then a fresh second instance joins. Both batches are
the same conversations, checked for errors and cross-talk like the load
test. The figures go to RELIABILITY.md and BENCHMARKS.md through
``scripts/reliability.py``; nothing here asserts a speed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from langgraph_dev import ALICE, connect, stop_server
from serving_engines import Engine, Instance, check_threads, play_threads, replace_stopped

THREADS = 60
WARM_UP = 4


async def turns_per_second(urls: list[str], token: str) -> float:
    """Play ``THREADS`` two-turn conversations over ``urls`` after a warm-up; turns per second."""
    clients = [connect(url, token) for url in urls]
    try:
        await play_threads(clients, WARM_UP)
        results, seconds = await play_threads(clients, THREADS)
    finally:
        for lg in clients:
            await lg.aclose()
    check_threads(results)
    return 2 * THREADS / seconds


async def test_turns_per_second_with_one_instance_and_with_two(
    engine: Engine, instances: list[Instance], mi_tokens: dict[str, str], mi_env: dict[str, str],
    tmp_path: Path, record: Callable[..., None],
) -> None:  # fmt: skip
    stop_server(instances[1][1])
    try:
        one = await turns_per_second([instances[0][0]], mi_tokens[ALICE])
    finally:
        replace_stopped(engine, instances, mi_env, tmp_path)
    two = await turns_per_second([url for url, _ in instances], mi_tokens[ALICE])
    record(f"throughput: {THREADS} threads x 2 turns, 1 vs 2 instances", engine=engine.name,
           threads=THREADS,
           errors=0, one_instance_turns_per_second=round(one, 1),
           two_instances_turns_per_second=round(two, 1),
           scaling_ratio=round(two / one, 2))  # fmt: skip
