"""``mediator bench`` on a real Postgres: concurrent threads, overhead, the full command."""

from __future__ import annotations

from pathlib import Path

import pytest

from langgraph_mediator.cli import main
from langgraph_mediator.evals.bench.graphs import measure_load, measure_overhead

pytestmark = pytest.mark.integration


async def test_concurrent_threads_on_postgres_finish_without_errors(postgres_url: str) -> None:
    points = await measure_load("postgres", postgres_url, levels=(1, 20), turns=2)
    assert [(p.threads, p.errors) for p in points] == [(1, 0), (20, 0)]
    assert all(p.conversations_per_second > 0 and p.rss_mb > 0 for p in points)


async def test_overhead_on_postgres_uses_one_checkpointer_for_both(postgres_url: str) -> None:
    overhead = await measure_overhead("postgres", postgres_url, threads=1, turns=2)
    assert overhead.backend == "postgres" and len(overhead.mediator) == 2


def test_bench_command_with_postgres_reports_load(postgres_url: str, tmp_path: Path) -> None:
    out = tmp_path / "B.md"
    code = main(["bench", "--db", postgres_url, "--threads", "1", "--turns", "2",
                 "--growth-turns", "3", "--load", "1,3", "--no-embedded",
                 "--first-token-repeats", "0",
                 "--out", str(out), "--plots", str(tmp_path / "plots")])  # fmt: skip
    text = out.read_text()
    assert code == 0
    assert "## Concurrent conversations (postgres, instant model)" in text
    assert "graph overhead <= 1.5x bare (postgres)" in text
