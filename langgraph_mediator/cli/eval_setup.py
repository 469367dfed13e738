"""What every ``mediator eval`` family sets up first, and the header its report opens with.

The sharded benchmark and the per-user protocol (:mod:`.evaluate`) and the open
family (:mod:`.evaluate_open`) all build on this module, so neither of those
two imports the other.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.store.memory import InMemoryStore
from rich.console import Console
from rich.markup import escape

from langgraph_mediator.evals.benchmark import langsmith_upload_enabled
from langgraph_mediator.evals.cache import ResponseCache
from langgraph_mediator.evals.conversation import EvalEnvironment
from langgraph_mediator.evals.simulator import LLMSimulator, RuleBasedSimulator
from langgraph_mediator.evals.tasks import ShardedTask
from langgraph_mediator.models import abuild_chat_model
from langgraph_mediator.persistence import open_persistence
from langgraph_mediator.state import MediatorContext, RefinerContext


def eval_context(args: argparse.Namespace) -> MediatorContext:
    """The models and sampling of the run: the environment, then the flags."""
    overrides = {
        "temperature": args.temperature,
        "mediator_model": args.mediator_model,
        "assistant_model": args.model,
    }
    return MediatorContext(**{k: v for k, v in overrides.items() if v is not None})


def default_run_name(
    args: argparse.Namespace, task_ids: Sequence[str], model: str, endpoint: str = "embedded"
) -> str:
    """The same name for the same tasks, runs, model, endpoint and sampling (reruns resume)."""
    parts = [*task_ids, str(args.runs), model, str(args.temperature), args.simulator]
    if endpoint != "embedded":  # names made before the endpoint was part of them still resume
        parts.append(endpoint)
    key = "|".join(parts)
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", model).strip("-")[:40]
    return f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


async def build_environment(
    args: argparse.Namespace, cache: ResponseCache, store: Any
) -> EvalEnvironment:
    """Models (each behind the response cache), simulator and store of the run."""
    context = eval_context(args)

    async def cached(name: str) -> Any:
        model = await abuild_chat_model(context, name)
        return model.model_copy(update={"cache": cache})

    assistant = await cached(context.assistant_model)
    simulator = (
        LLMSimulator(assistant, base_url=context.base_url)
        if args.simulator == "llm"
        else RuleBasedSimulator()
    )
    return EvalEnvironment(
        assistant=assistant,
        mediator=await cached(context.mediator_model),
        judge=await cached(args.judge_model or context.assistant_model),
        simulator=simulator,
        context=context,
        store=store,
    )


@dataclass(frozen=True)
class Prepared:
    """What every ``mediator eval`` run sets up first."""

    env: EvalEnvironment
    cache: ResponseCache
    model: str
    """The Assistant model's name."""
    endpoint: str
    """The model endpoint (``OPENAI_BASE_URL``), or ``"embedded"`` for the embedded model."""
    refiner: Any
    """The Refiner's model, behind the response cache too (a rerun repeats no Refiner call)."""
    run_name: str
    """``--run``, else a name derived from what runs (so a rerun resumes)."""
    began: float
    """When the setup started (``time.perf_counter``), for the report's minutes."""


@asynccontextmanager
async def prepared(
    args: argparse.Namespace, ids: Sequence[str], prefix: str = ""
) -> AsyncIterator[Prepared]:
    """The cache, the store and checkpointer (``--db`` or in memory), the models and the name.

    ``ids`` (the tasks or conversations played) and ``prefix`` (the family's)
    make the default run name.
    """
    began = time.perf_counter()
    cache = ResponseCache(args.cache or args.out / ".cache.sqlite")
    async with open_persistence(args.db or ":memory:") as persistence:
        store = persistence.store if args.db else InMemoryStore()
        env = await build_environment(args, cache, store)
        env.checkpointer = persistence.checkpointer if args.db else None
        model = str(getattr(env.assistant, "model_name", "model"))
        endpoint = env.context.base_url or "embedded"
        refining = RefinerContext.from_runtime(env.context)
        refiner = await abuild_chat_model(refining, refining.refiner_model)
        yield Prepared(
            env=env,
            cache=cache,
            model=model,
            endpoint=endpoint,
            refiner=refiner.model_copy(update={"cache": cache}),
            run_name=args.run or prefix + default_run_name(args, ids, model, endpoint),
            began=began,
        )


def run_fields(
    args: argparse.Namespace, ready: Prepared, tasks: list[ShardedTask]
) -> dict[str, Any]:
    """The fields every harness run shares (:class:`~langgraph_mediator.evals.benchmark.EvalRun`).

    Keyword arguments, not an instance: the sharded and the per-user run are
    different classes, each adding its own fields in the same call.
    """
    return {
        "env": ready.env,
        "tasks": tasks,
        "runs": args.runs,
        "out_dir": args.out / ready.run_name,
        "run_name": ready.run_name,
        "concurrency": args.concurrency,
        "upload": langsmith_upload_enabled(args.offline),
    }


def report_header(
    args: argparse.Namespace, ready: Prepared, played: dict[str, Any], details: dict[str, Any]
) -> dict[str, Any]:
    """The report's header: what ran, on which model, how long, and what the cache saved.

    ``played`` (what was played: tasks, personas, conversations) follows the
    model; ``details`` (simulator, judge, experiments) follows the sampling.
    """
    return {
        "run": ready.run_name,
        "model": ready.model,
        **played,
        "runs": args.runs,
        "temperature": args.temperature,
        **details,
        "minutes": round((time.perf_counter() - ready.began) / 60, 1),
        "cache": f"{ready.cache.hits} hits, {ready.cache.misses} misses",
    }


def experiments_line(experiments: dict[str, str]) -> str:
    """The header's ``experiments`` value: each setting and its experiment's name."""
    return ", ".join(f"{k}: {v}" for k, v in experiments.items())


def print_report(console: Console, path: Path) -> None:
    """Show the report written to ``path``, then where it is."""
    console.print(path.read_text(encoding="utf-8"), markup=False)
    console.print(f"[green]report:[/] {escape(str(path))}")
