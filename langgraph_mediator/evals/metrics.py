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
        errors=sum(r.error is not None for r in results),
        judged=sum(r.judged for r in results),
        fidelity=summarize_fidelity(results),
    )


def gap_recovery(full: float, sharded: float, mediated: float) -> float | None:
    """``(mediated - sharded) / (full - sharded)``; ``None`` when FULL does not beat SHARDED."""
    if full - sharded <= 0:
        return None
    return (mediated - sharded) / (full - sharded)
