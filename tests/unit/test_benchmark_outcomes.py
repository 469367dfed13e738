"""Honest results: failed conversations are not done, overflow is its own outcome, and every
figure comes with a bootstrap interval (a recovery inside the noise is not measurable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, FlakyModel, scripted
from test_eval_harness import OverflowingModel, env_with, task

from langgraph_mediator.evals.benchmark import Benchmark, ResultsFile
from langgraph_mediator.evals.conversation import (
    ConversationResult,
    EvalEnvironment,
    Setting,
    run_conversation,
)
from langgraph_mediator.evals.metrics import bootstrap_intervals, runs_for_precision
from langgraph_mediator.evals.report import write_report
from langgraph_mediator.state import MediatorContext


def bench(tmp_path: Path, assistant: Any, tasks: int = 3, **env: Any) -> Benchmark:
    return Benchmark(env=env_with(assistant, **env), tasks=[task(task_id=f"t{i}") for i in
                     range(tasks)], settings=[Setting.FULL], runs=1, out_dir=tmp_path,
                     run_name="t", concurrency=1)  # fmt: skip


async def test_an_unreachable_endpoint_stops_the_run_and_records_nothing(tmp_path: Path) -> None:
    flaky = FlakyModel(messages=iter(["10 cans."] * 3), seen=[])
    down = bench(tmp_path, flaky)
    await down.run()
    assert down.unreachable is not None and "Connection" in down.unreachable
    assert len(down.failed) == 1, "the conversations after the first are not even tried"
    assert down.results.done == {} and not (tmp_path / "conversations.jsonl").exists()
    flaky.down = False
    up = bench(tmp_path, flaky)
    await up.run()
    assert sorted(r.score for r in up.results.done.values()) == [1.0, 1.0, 1.0]


def test_a_result_an_older_version_recorded_for_an_unreachable_endpoint_is_played_again(
    tmp_path: Path,
) -> None:
    stale = ConversationResult("FULL", "t0", "math", 0, error="ModelEndpointError: Cannot "
                               "reach the model endpoint http://x/v1.")  # fmt: skip
    path = tmp_path / "conversations.jsonl"
    path.write_text(json.dumps(stale.to_json()) + "\n")
    assert ResultsFile(path).done == {}


async def test_a_prompt_over_the_context_window_is_its_own_outcome_and_named_in_the_report(
    tmp_path: Path,
) -> None:
    result = await run_conversation(env_with(OverflowingModel(messages=iter([]), seen=[])),
                                    task(), Setting.FULL, 0)  # fmt: skip
    assert result.outcome == "context_overflow" and result.score == 0.0
    fine = ConversationResult("FULL", "other", "math", 0, score=1.0)
    text = write_report(tmp_path, [result, fine], ["FULL"], header={"run": "x"}).read_text()
    assert "| ctx overflow |" in text and "| FULL | 2 | 2 | 50.0 |" in text
    assert "did not fit the model's context" in text and "- FULL: paint" in text


def test_a_run_directory_refuses_conversations_of_another_model_or_endpoint(
    tmp_path: Path,
) -> None:
    assert env_with(scripted()).context.base_url == UNUSED_ENDPOINT
    bench(tmp_path, scripted())
    bench(tmp_path, scripted())  # the same models and endpoint: the run resumes
    elsewhere = MediatorContext(
        base_url="http://elsewhere.invalid/v1", clarification_policy="never"
    )
    env = EvalEnvironment(assistant=scripted(), context=elsewhere)
    with pytest.raises(ValueError, match="made with other settings.*endpoint.*--run"):
        Benchmark(env=env, tasks=[task()], settings=[Setting.FULL], runs=1, out_dir=tmp_path,
                  run_name="t")  # fmt: skip


def results(scores: dict[str, list[list[float]]]) -> list[ConversationResult]:
    """``{setting: [[run scores of task 0], [of task 1], ...]}`` as results."""
    return [ConversationResult(setting, f"t{t}", "math", run, score=score)
            for setting, tasks in scores.items() for t, runs in enumerate(tasks)
            for run, score in enumerate(runs)]  # fmt: skip


def test_a_gap_inside_the_noise_makes_the_recovery_not_measurable(tmp_path: Path) -> None:
    noisy = results({"FULL": [[1, 0], [0, 0], [0, 1]], "SHARDED": [[0, 1], [0, 0], [1, 0]],
                     "MEDIATOR": [[1, 1], [1, 0], [1, 1]]})  # fmt: skip
    intervals = bootstrap_intervals(noisy, ["FULL", "SHARDED", "MEDIATOR"], mediated=["MEDIATOR"])
    assert intervals.gap is not None and intervals.gap[0] < 0 < intervals.gap[1]
    assert intervals.recovery == {"MEDIATOR": None}
    text = write_report(tmp_path, noisy, ["FULL", "SHARDED", "MEDIATOR"],
                        header={"run": "x"}).read_text()  # fmt: skip
    assert "**not measurable**" in text and "Gap recovery:" not in text


def test_a_clear_gap_gives_a_recovery_interval_around_the_estimate() -> None:
    clear = results({"FULL": [[1, 1]] * 6, "SHARDED": [[0, 0]] * 6,
                     "MEDIATOR": [[1, 0]] * 3 + [[1, 1]] * 3})  # fmt: skip
    intervals = bootstrap_intervals(clear, ["FULL", "SHARDED", "MEDIATOR"], mediated=["MEDIATOR"])
    assert intervals.gap == (100.0, 100.0) and intervals.recovery_measurable()
    low, high = intervals.recovery["MEDIATOR"] or (0, 0)
    assert 0 < low < 0.75 < high <= 1.0
    assert intervals.metrics["SHARDED"]["P"] == (0.0, 0.0)
    again = bootstrap_intervals(clear, ["FULL", "SHARDED", "MEDIATOR"], mediated=["MEDIATOR"])
    assert again == intervals, "seeded: the same results give the same intervals"


def test_the_runs_a_precision_needs_grow_with_the_square_of_the_narrowing() -> None:
    assert runs_for_precision(20.0, 1, 5.0) == 16
    assert runs_for_precision(4.0, 10, 5.0) == 10
    with pytest.raises(ValueError):
        runs_for_precision(4.0, 10, 0)
