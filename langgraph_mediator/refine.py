"""Closing the loop: from scored runs to a user's guidelines.

:func:`refine_from_runs` pairs each failed run with the best successful run of
the same task (or with the task's fully specified instruction, when given) and
runs the refiner graph on the pairs. Runs come from the evaluation harness as
trajectories, or from mediator threads with a score each
(:func:`trajectory_from_thread`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from langgraph_mediator.core import read_as, text_of
from langgraph_mediator.graphs.refiner import build_refiner_graph
from langgraph_mediator.state import ModelCall, ModelSettings, RefinerContext
from langgraph_mediator.state.refiner import (
    Guideline,
    Rejection,
    Trajectory,
    TrajectoryPair,
    TurnRecord,
)


@dataclass
class RefineReport:
    """What a refine run did."""

    pairs: list[str]
    unpaired_failures: list[str]
    version: int | None = None
    guidelines: list[Guideline] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    usage: list[ModelCall] = field(default_factory=list)
    """Every model call of the Refiner's run."""


def pair_runs(
    runs: Iterable[Trajectory],
    *,
    success_threshold: float = 1.0,
    reference_instructions: Mapping[str, str] | None = None,
    max_pairs: int = 8,
) -> tuple[list[TrajectoryPair], list[str]]:
    """Pair failures with the best success of their task; return pairs and unpaired failure ids.

    A run succeeded when ``score >= success_threshold``. A failure whose task
    has no success is paired with ``reference_instructions[task_id]`` if given.
    """
    by_task: dict[str, list[Trajectory]] = defaultdict(list)
    for run in runs:
        by_task[run.task_id].append(run)
    references = reference_instructions or {}
    pairs: list[TrajectoryPair] = []
    unpaired: list[str] = []
    for task_id, task_runs in by_task.items():
        successes = sorted(
            (r for r in task_runs if r.score >= success_threshold), key=lambda r: -r.score
        )
        for failed in (r for r in task_runs if r.score < success_threshold):
            if successes:
                pairs.append(TrajectoryPair(failed=failed, successful=successes[0]))
            elif references.get(task_id, "").strip():
                pairs.append(
                    TrajectoryPair(failed=failed, reference_instruction=references[task_id])
                )
            else:
                unpaired.append(failed.id)
    return pairs[:max_pairs], unpaired + [p.failed.id for p in pairs[max_pairs:]]


async def trajectory_from_thread(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    thread_id: str,
    *,
    task_id: str,
    score: float,
) -> Trajectory:
    """Rebuild a thread's trajectory (user turns, instructions, replies) from checkpoints."""
    config = {"configurable": {"thread_id": thread_id}}
    turn_ends: dict[int, dict[str, Any]] = {}
    async for snapshot in graph.aget_state_history(config):  # type: ignore[arg-type]
        values = snapshot.values
        if not snapshot.next and values.get("turn") and values["turn"] not in turn_ends:
            turn_ends[values["turn"]] = values
    if not turn_ends:
        raise LookupError(f"thread {thread_id!r} has no completed turn")
    turns = [turn_record(turn_ends[n]) for n in sorted(turn_ends)]
    return Trajectory(id=thread_id, task_id=task_id, turns=turns, score=score)


def turn_record(values: Mapping[str, Any]) -> TurnRecord:
    """One turn from the state that ended it."""
    messages = list(values["messages"])
    reply = messages.pop() if messages and isinstance(messages[-1], AIMessage) else None
    said: list[str] = []
    while messages and isinstance(messages[-1], HumanMessage):
        said.insert(0, text_of(messages.pop()))
    asked = bool(values.get("should_clarify"))
    feedback, change = read_as(values)
    return TurnRecord(
        user="\n".join(said),
        instruction="(the Mediator asked a question)" if asked else values.get("instruction", ""),
        answer=text_of(reply) if reply else "",
        feedback=feedback,
        ledger_change=change,
    )


async def refine_from_runs(
    runs: Iterable[Trajectory | Mapping[str, Any]],
    user_id: str,
    *,
    store: BaseStore,
    model: BaseChatModel | None = None,
    context: ModelSettings | None = None,
    success_threshold: float = 1.0,
    reference_instructions: Mapping[str, str] | None = None,
    max_pairs: int = 8,
) -> RefineReport:
    """Pair scored runs and run the Refiner for ``user_id``; guidelines land in ``store``.

    ``context`` gives the endpoint and the Refiner's model: a ``RefinerContext``,
    or any context sharing its settings (a ``MediatorContext``); ``None`` reads
    them from the environment.
    """
    trajectories = [r if isinstance(r, Trajectory) else Trajectory.model_validate(r) for r in runs]
    pairs, unpaired = pair_runs(
        trajectories, success_threshold=success_threshold,
        reference_instructions=reference_instructions, max_pairs=max_pairs,
    )  # fmt: skip
    report = RefineReport(pairs=[p.id for p in pairs], unpaired_failures=unpaired)
    if not pairs:
        return report
    refiner = build_refiner_graph(model, store=store)
    result = await refiner.ainvoke(
        {"user_id": user_id, "pairs": [p.model_dump() for p in pairs]},
        context=RefinerContext.from_runtime(context),
    )
    report.version = result.get("version")
    report.guidelines = result.get("guidelines", [])
    report.rejected = result.get("rejected", [])
    report.usage = result.get("usage", [])
    return report
