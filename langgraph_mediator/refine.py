"""Closing the loop: from scored runs to a user's guidelines.

:func:`refine_from_runs` pairs each failed run with the best successful run of
the same task (or with the task's fully specified instruction, when given) and
runs the refiner graph on the pairs. Runs come from the evaluation harness as
trajectories, or from mediator threads with a score each
(:func:`trajectory_from_thread`). :func:`refine_from_threads` needs no score: it
mines a user's saved threads for the turns the user had to correct.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from langgraph_mediator.core import read_as, text_of
from langgraph_mediator.graphs.mediator import build_mediator_graph
from langgraph_mediator.graphs.refiner import build_refiner_graph
from langgraph_mediator.models import ModelChoice
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


MAX_THREADS = 200
"""Threads :func:`user_threads` returns at most, in the order the checkpointer lists them."""


async def user_threads(
    checkpointer: BaseCheckpointSaver[Any], user_id: str, *, limit: int = MAX_THREADS
) -> list[str]:
    """The ids of the threads ``user_id`` started, as the checkpointer holds them.

    A thread's owner is the ``user_id`` the Mediator wrote into its state
    (from the authenticated caller), never a value a client sets apart from it.
    """
    found: dict[str, None] = {}
    others: set[str] = set()
    async for item in checkpointer.alist(None):
        thread = str(item.config["configurable"].get("thread_id", ""))
        if not thread or thread in found or thread in others:
            continue
        owner = item.checkpoint["channel_values"].get("user_id")
        if owner is None:
            continue  # a checkpoint from before the first turn: a later one says
        if owner != user_id:
            others.add(thread)
            continue
        found[thread] = None
        if len(found) >= limit:
            break
    return list(found)


def was_corrected(turn: TurnRecord) -> bool:
    """Whether the user had to correct the reading before this turn."""
    return turn.feedback == "correction" or any(
        change in turn.ledger_change for change in ("superseded", "retracted")
    )


def corrected_pairs(trajectory: Trajectory) -> list[TrajectoryPair]:
    """A failure and a success per correction in a thread.

    The turn before a correction is a failure of the reading (the user had to
    say it again); the conversation up to the correction, which the Mediator
    then read, is what success looked like.
    """
    pairs = []
    for index, turn in enumerate(trajectory.turns[1:], 1):
        if not was_corrected(turn):
            continue
        task = f"{trajectory.task_id}#turn{index + 1}"
        before = trajectory.turns[:index]
        failed = Trajectory(id=f"{trajectory.id}@{index}", task_id=task, turns=before, score=0.0)
        fixed = Trajectory(
            id=f"{trajectory.id}@{index + 1}",
            task_id=task,
            turns=trajectory.turns[: index + 1],
            score=1.0,
        )
        pairs.append(TrajectoryPair(failed=failed, successful=fixed))
    return pairs


async def refine_from_threads(
    user_id: str,
    *,
    checkpointer: BaseCheckpointSaver[Any],
    store: BaseStore,
    model: ModelChoice = None,
    context: ModelSettings | None = None,
    max_pairs: int = 8,
) -> RefineReport:
    """Learn ``user_id``'s guidelines from the corrections in their saved mediator threads.

    Each correction gives a pair (:func:`corrected_pairs`); the first
    ``max_pairs`` go to the Refiner (the rest are reported as unpaired), with
    the same fencing and validation as scored runs. Threads that hold no correction give nothing.
    """
    graph = build_mediator_graph(checkpointer=checkpointer)
    pairs: list[TrajectoryPair] = []
    for thread_id in await user_threads(checkpointer, user_id):
        try:
            trajectory = await trajectory_from_thread(graph, thread_id, task_id=thread_id, score=0)
        except LookupError:
            continue
        pairs += corrected_pairs(trajectory)
    report = RefineReport(
        pairs=[p.id for p in pairs[:max_pairs]],
        unpaired_failures=[p.failed.id for p in pairs[max_pairs:]],
    )
    return await _refine(report, pairs[:max_pairs], user_id, store, model, context)


async def _refine(
    report: RefineReport,
    pairs: list[TrajectoryPair],
    user_id: str,
    store: BaseStore,
    model: ModelChoice,
    context: ModelSettings | None,
) -> RefineReport:
    """Run the refiner graph on ``pairs`` for ``user_id`` and fill ``report`` in."""
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


async def refine_from_runs(
    runs: Iterable[Trajectory | Mapping[str, Any]],
    user_id: str,
    *,
    store: BaseStore,
    model: ModelChoice = None,
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
        trajectories,
        success_threshold=success_threshold,
        reference_instructions=reference_instructions,
        max_pairs=max_pairs,
    )
    report = RefineReport(pairs=[p.id for p in pairs], unpaired_failures=unpaired)
    return await _refine(report, pairs, user_id, store, model, context)
