"""``mediator bench``: the instant baseline, each measurement, the report and the command."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from langgraph_mediator.cli import main
from langgraph_mediator.evals.bench.graphs import Overhead, measure_growth, measure_overhead
from langgraph_mediator.evals.bench.instant import (
    InstantChatModel,
    build_bare_graph,
    build_shape_graph,
)
from langgraph_mediator.evals.bench.models import TurnCost, turn_costs
from langgraph_mediator.evals.bench.prompts import measure_prompt_ratio
from langgraph_mediator.evals.bench.report import (
    SERVING_BEGIN,
    SERVING_END,
    BenchResults,
    marked_block,
    targets_table,
    with_marked_block,
    write_benchmarks,
)
from langgraph_mediator.models import aask_structured
from langgraph_mediator.state import MediatorReading


async def test_instant_model_reads_the_new_message_into_a_reading() -> None:
    prompt = [SystemMessage("rules"), HumanMessage("NEW USER MESSAGE: <<<Use 5 cans.>>>")]
    reading, calls, error = await aask_structured(
        InstantChatModel(), MediatorReading, prompt, node="detect_intent", base_url=None
    )
    assert error == "" and reading is not None
    assert reading.new_requirements == ["Use 5 cans."]
    assert calls[0]["prompt_tokens"] > 0 and calls[0]["completion_tokens"] > 0


async def test_bare_graph_sends_the_whole_history() -> None:
    graph = build_bare_graph(InstantChatModel(answer="ok"))
    out = await graph.ainvoke({"messages": [HumanMessage("a"), HumanMessage("b")]})
    assert [m.content for m in out["messages"]] == ["a", "b", "ok"]


async def test_overhead_times_both_graphs_on_the_same_backend() -> None:
    overhead = await measure_overhead("memory", None, threads=2, turns=3)
    assert len(overhead.mediator) == len(overhead.bare) == len(overhead.shape) == 6
    assert overhead.floor_ratio == pytest.approx(
        statistics.median(overhead.shape) / statistics.median(overhead.bare)
    )
    assert all(seconds > 0 for seconds in overhead.mediator + overhead.bare)
    medians = statistics.median(overhead.mediator), statistics.median(overhead.bare)
    assert overhead.ratio == pytest.approx(medians[0] / medians[1])


async def test_the_mediator_shape_makes_the_mediator_turn_model_calls_and_nothing_else() -> None:
    calls: list[int] = []

    class Counting(InstantChatModel):
        def _reply(self, messages: list[Any]) -> Any:
            calls.append(len(messages))
            return super()._reply(messages)

    graph = build_shape_graph(Counting(answer="ok"))
    out = await graph.ainvoke({"messages": [HumanMessage("a")]})
    assert [m.content for m in out["messages"]] == ["a", "ok"] and len(calls) == 2
    assert set(graph.nodes) - {"__start__"} == {"detect_intent", "classify_feedback", "execute"}


async def test_growth_reports_every_turn_with_the_ledger_growing_by_one() -> None:
    points = await measure_growth("sqlite", None, turns=6, repeats=1)
    assert [p.turn for p in points] == [1, 2, 3, 4, 5, 6]
    assert [p.ledger_size for p in points] == [1, 2, 3, 4, 5, 6]
    assert points[-1].bare_prompt_tokens > points[0].bare_prompt_tokens, "bare sends history"


async def test_postgres_backend_needs_a_url() -> None:
    with pytest.raises(ValueError, match="--db"):
        await measure_overhead("postgres", None, threads=1, turns=1)


def write_results(path: Path) -> Path:
    def row(setting: str, task: str, turns: list[tuple[int, int, int]], error: str | None = None):
        keys = ("calls", "prompt_tokens", "completion_tokens")
        return {"setting": setting, "task_id": task, "error": error,
                "turns": [dict(zip(keys, t, strict=True)) for t in turns]}  # fmt: skip

    rows = [
        row("SHARDED", "a", [(1, 100, 10), (1, 300, 30)]),
        row("MEDIATOR", "a", [(2, 300, 20), (2, 500, 40)]),
        row("SHARDED", "b", [(1, 9999, 9)], error="boom"),  # failed: b is left out
        row("MEDIATOR", "b", [(2, 1, 1)]),
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


def test_turn_costs_compare_settings_on_the_tasks_both_finished(tmp_path: Path) -> None:
    sharded, mediator = turn_costs(write_results(tmp_path / "c.jsonl"))
    assert (sharded.conversations, sharded.turns, sharded.calls_per_turn) == (1, 2, 1.0)
    assert (sharded.prompt_tokens_per_turn, sharded.completion_tokens_per_turn) == (200, 20)
    assert (mediator.calls_per_turn, mediator.prompt_tokens_per_turn) == (2.0, 400)


def test_turn_costs_without_a_setting_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"setting": "FULL", "task_id": "a", "turns": []}))
    with pytest.raises(ValueError, match="no finished SHARDED"):
        turn_costs(path)


async def test_long_answers_grow_the_bare_prompt_but_not_the_mediators() -> None:
    short, long = await measure_prompt_ratio(10, turns=6), await measure_prompt_ratio(600, turns=6)
    assert long.bare_prompt_tokens > 4 * short.bare_prompt_tokens, "the bare resends answers"
    assert long.mediator_prompt_tokens < 2 * short.mediator_prompt_tokens, "capped last answer"
    assert short.ratio > 1 > long.ratio


def test_targets_say_missed_when_a_figure_is_over() -> None:
    results = BenchResults(
        overhead=[Overhead("memory", mediator=[4.0, 4.0], bare=[1.0, 1.0])],
        costs=[TurnCost("SHARDED", 1, 2, 1.0, 100, 10), TurnCost("MEDIATOR", 1, 2, 2.5, 120, 9)],
    )
    table = "\n".join(targets_table(results))
    assert "| 2.50 | **missed** |" in table, "2.5 calls per turn is over 2.0"
    assert "| 1.20x | met |" in table, "1.2x the prompt tokens is within 1.5x"
    assert "| 4.00x | **missed** |" in table


def test_report_and_plots_are_written(tmp_path: Path) -> None:
    results = BenchResults(overhead=[Overhead("memory", [2.0, 3.0, 2.5], [1.0, 1.1, 0.9])])
    write_benchmarks(results, tmp_path / "BENCHMARKS.md", tmp_path / "plots")
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert "## Targets" in text and "![overhead](plots/overhead.png)" in text
    assert (tmp_path / "plots" / "overhead.png").stat().st_size > 1000
    assert json.loads((tmp_path / "plots" / "results.json").read_text())["overhead_ratios"]


def test_a_rewrite_keeps_the_serving_section_and_a_new_one_replaces_it(tmp_path: Path) -> None:
    markdown = tmp_path / "BENCHMARKS.md"
    first = f"{SERVING_BEGIN}\n## Serving\n\n1 instance: 9.0 turns/s\n{SERVING_END}"
    markdown.write_text(with_marked_block("# Benchmarks\n\nold figures\n", first))
    write_benchmarks(BenchResults(), markdown, tmp_path / "plots")
    rewritten = markdown.read_text()
    assert "old figures" not in rewritten and "1 instance: 9.0 turns/s" in rewritten
    second = first.replace("9.0", "12.5")
    updated = with_marked_block(rewritten, second)
    assert "12.5" in updated and "9.0" not in updated and updated.count(SERVING_BEGIN) == 1
    assert marked_block("# no section here\n") == ""


def test_bench_command_writes_the_report(tmp_path: Path) -> None:
    out, plots = tmp_path / "B.md", tmp_path / "plots"
    code = main(["bench", "--threads", "1", "--turns", "2", "--growth-turns", "20",
                 "--first-token-repeats", "0",
                 "--no-embedded", "--eval-results", str(write_results(tmp_path / "c.jsonl")),
                 "--out", str(out), "--plots", str(plots)])  # fmt: skip
    text = out.read_text()
    assert code == 0
    assert "graph overhead <= 1.5x bare (memory)" in text and "(sqlite)" in text
    assert "flat cost over 20 turns" in text
    assert "| MEDIATOR | 1 | 2 | 2.00 | 400 | 30 |" in text
    assert "## Prompt tokens per turn as answers get longer" in text
    assert (plots / "growth.png").exists()


def test_bench_rejects_a_non_postgres_db() -> None:
    assert main(["bench", "--db", "threads.sqlite", "--no-embedded"]) != 0
