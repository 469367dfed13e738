"""The paper's metrics over N runs of each task, and the package's cost figures.

Per task and setting, over the runs' scores on a 0-100 scale:

* P (performance): the mean;
* A90 (aptitude): the 90th percentile;
* U90_10 (unreliability): the 90th percentile minus the 10th.

A setting's figure is the mean of its tasks' figures. Gap recovery is
``(MEDIATOR - SHARDED) / (FULL - SHARDED)``: the share of the points lost to
sharding that the mediator wins back (undefined when FULL does not beat SHARDED).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from langgraph_mediator.evals.conversation import ConversationResult
from langgraph_mediator.evals.fidelity import Fidelity


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation, as numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class TaskMetrics:
    """P, A90 and U90_10 of one task in one setting."""

    performance: float
    aptitude: float
    unreliability: float
    runs: int


def task_metrics(scores: Sequence[float]) -> TaskMetrics:
    """Metrics of one task's run scores (0-1 each), reported on 0-100."""
    points = [100 * s for s in scores]
    return TaskMetrics(
        performance=sum(points) / len(points),
        aptitude=percentile(points, 90),
        unreliability=percentile(points, 90) - percentile(points, 10),
        runs=len(points),
    )


@dataclass(frozen=True)
class SettingSummary:
    """One setting's figures over its tasks, and its cost per turn."""

    setting: str
    tasks: int
    conversations: int
    performance: float
    aptitude: float
    unreliability: float
    calls_per_turn: float
    prompt_tokens_per_turn: float
    completion_tokens_per_turn: float
    turns_per_conversation: float
    clarification_rate: float
    """Share of turns that asked the user a question."""
    errors: int
    judged: int
    fidelity: FidelitySummary | None = None
    """Of the final instructions (mediated settings only)."""
    context_overflows: int = 0
    """Conversations a prompt of which did not fit the model's context (scored as failures)."""


@dataclass(frozen=True)
class FidelitySummary:
    """Instruction fidelity over a setting's conversations."""

    conversations: int
    fact_recall: float | None
    """Facts carried over facts expected, pooled over the conversations."""
    stale_per_conversation: float
    invented_per_conversation: float
    questions_per_conversation: float
    reasked_per_conversation: float
    without_instruction: int
    """Conversations that ended with no instruction at all (every turn a question)."""


def summarize_fidelity(results: Sequence[ConversationResult]) -> FidelitySummary | None:
    """Pool the fidelity records of ``results`` (``None`` when none has one)."""
    records = [Fidelity.from_json(r.fidelity) for r in results if r.fidelity is not None]
    if not records:
        return None
    facts = sum(f.facts for f in records)
    return FidelitySummary(
        conversations=len(records),
        fact_recall=sum(f.carried for f in records) / facts if facts else None,
        stale_per_conversation=_mean(len(f.stale) for f in records),
        invented_per_conversation=_mean(len(f.invented) for f in records),
        questions_per_conversation=_mean(f.questions for f in records),
        reasked_per_conversation=_mean(f.reasked for f in records),
        without_instruction=sum(not f.has_instruction for f in records),
    )


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def summarize(setting: str, results: Sequence[ConversationResult]) -> SettingSummary:
    """Aggregate one setting's conversations (any mix of tasks and runs)."""
    by_task: dict[str, list[float]] = defaultdict(list)
    for result in results:
        by_task[result.task_id].append(result.score)
    per_task = [task_metrics(scores) for scores in by_task.values()]
    turns = [t for r in results for t in r.turns]
    return SettingSummary(
        setting=setting,
        tasks=len(by_task),
        conversations=len(results),
        performance=_mean(m.performance for m in per_task),
        aptitude=_mean(m.aptitude for m in per_task),
        unreliability=_mean(m.unreliability for m in per_task),
        calls_per_turn=_mean(t.calls for t in turns),
        prompt_tokens_per_turn=_mean(t.prompt_tokens for t in turns),
        completion_tokens_per_turn=_mean(t.completion_tokens for t in turns),
        turns_per_conversation=len(turns) / len(results) if results else 0.0,
        clarification_rate=_mean(float(t.strategy == "clarification") for t in turns),
        errors=sum(r.error is not None and r.outcome != "context_overflow" for r in results),
        context_overflows=sum(r.outcome == "context_overflow" for r in results),
        judged=sum(r.judged for r in results),
        fidelity=summarize_fidelity(results),
    )


def gap_recovery(full: float, sharded: float, mediated: float) -> float | None:
    """``(mediated - sharded) / (full - sharded)``; ``None`` when FULL does not beat SHARDED."""
    if full - sharded <= 0:
        return None
    return (mediated - sharded) / (full - sharded)


Interval = tuple[float, float]
"""A 95% confidence interval ``(low, high)``."""
FIGURES = ("P", "A90", "U90_10")


@dataclass(frozen=True)
class Intervals:
    """95% bootstrap intervals of a run's figures, and whether each recovery is measurable."""

    metrics: dict[str, dict[str, Interval]]
    """``{setting: {"P" | "A90" | "U90_10": (low, high)}}``."""
    gap: Interval | None
    """FULL - SHARDED in points (``None`` without both settings)."""
    recovery: dict[str, Interval | None]
    """Per mediated setting; ``None`` when the gap is not clearly above zero (not measurable)."""
    resamples: int

    def recovery_measurable(self) -> bool:
        """Whether the FULL - SHARDED gap is clearly above zero (its interval excludes 0)."""
        return self.gap is not None and self.gap[0] > 0


def _setting_figures(
    by_task: dict[str, list[float]], tasks: Sequence[str], rng: random.Random
) -> tuple[float, float, float]:
    """P, A90, U90_10 of one bootstrap draw: ``tasks`` drawn, each task's runs redrawn."""
    figures = [
        task_metrics([rng.choice(by_task[t]) for _ in by_task[t]]) for t in tasks if t in by_task
    ]
    return (
        _mean(m.performance for m in figures),
        _mean(m.aptitude for m in figures),
        _mean(m.unreliability for m in figures),
    )


def _interval(values: list[float]) -> Interval:
    return percentile(values, 2.5), percentile(values, 97.5)


def bootstrap_intervals(
    results: Sequence[ConversationResult],
    settings: Sequence[str],
    *,
    mediated: Sequence[str] = (),
    resamples: int = 2000,
    seed: int = 0,
) -> Intervals:
    """Bootstrap P, A90, U90_10, the FULL - SHARDED gap and each mediated recovery.

    Each draw resamples the tasks (the same draw for every setting, so the
    comparison stays paired) and, within each task, its runs. Seeded: the same
    results give the same intervals.
    """
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        scores[result.setting][result.task_id].append(result.score)
    present = [s for s in settings if s in scores]
    task_ids = sorted({t for s in present for t in scores[s]})
    rng = random.Random(seed)
    draws: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for _ in range(resamples if task_ids else 0):
        tasks = [rng.choice(task_ids) for _ in task_ids]
        for setting in present:
            draws[setting].append(_setting_figures(scores[setting], tasks, rng))
    metrics = {
        s: {name: _interval([d[i] for d in draws[s]]) for i, name in enumerate(FIGURES)}
        for s in present
        if draws[s]
    }
    return _with_recoveries(metrics, draws, [m for m in mediated if m in draws], resamples)


def _with_recoveries(
    metrics: dict[str, dict[str, Interval]],
    draws: dict[str, list[tuple[float, float, float]]],
    mediated: Sequence[str],
    resamples: int,
) -> Intervals:
    full, sharded = draws.get("FULL"), draws.get("SHARDED")
    if not full or not sharded:
        return Intervals(metrics, None, {}, resamples)
    gaps = [f[0] - s[0] for f, s in zip(full, sharded, strict=True)]
    gap = _interval(gaps)
    recovery: dict[str, Interval | None] = {}
    for setting in mediated:
        ratios = [
            (m[0] - s[0]) / g
            for m, s, g in zip(draws[setting], sharded, gaps, strict=True)
            if g > 0
        ]
        recovery[setting] = _interval(ratios) if gap[0] > 0 and ratios else None
    return Intervals(metrics, gap, recovery, resamples)


def runs_for_precision(half_width: float, runs: int, target: float) -> int:
    """Runs per task to bring a half-width of ``half_width`` points down to ``target``.

    ``half_width`` was measured with ``runs`` runs; the interval narrows as
    1/sqrt(runs), as long as the runs (not the tasks) are what varies most.
    """
    if target <= 0:
        raise ValueError("the target half-width must be above 0 points")
    return max(runs, math.ceil(runs * (half_width / target) ** 2))
