"""Graph-side measurements with the instant model: overhead, growth, concurrency.

Each measurement builds the mediator graph and the bare one-node graph on the
*same* checkpointer (memory, SQLite or Postgres) and times whole turns
(``ainvoke`` on a thread, checkpoint writes included), so the ratio isolates
what the mediator's extra nodes, state and ledger cost.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage

from langgraph_mediator.evals.bench.instant import (
    InstantChatModel,
    build_bare_graph,
    build_shape_graph,
)
from langgraph_mediator.graphs.mediator import build_mediator_graph
from langgraph_mediator.persistence import MEMORY, Persistence, open_persistence
from langgraph_mediator.state import MediatorContext


def bench_context() -> MediatorContext:
    """The Mediator's context in the benchmark; no endpoint is ever called.

    Built per run rather than at import so a bad ``MEDIATOR_*`` variable is
    reported by the CLI as a configuration error, not as an import crash.
    """
    return MediatorContext(base_url="http://instant.invalid/v1", single_task=True)


def user_text(thread: str, turn: int) -> str:
    """A requirement-like user message unique to its thread and turn."""
    return f"Requirement {turn} of {thread}: keep value {turn * 7} in the answer."


@dataclass
class Graphs:
    """The graphs under test, sharing one checkpointer: the mediator, bare, the mediator's shape."""

    mediator: Any
    bare: Any
    backend: str
    shape: Any = None
    context: MediatorContext = field(default_factory=bench_context)

    async def turn(self, kind: str, thread: str, turn: int) -> tuple[float, dict[str, Any]]:
        """Run one turn of ``kind`` ("mediator", "bare" or "shape"); its seconds and output."""
        graph = {"mediator": self.mediator, "bare": self.bare, "shape": self.shape}[kind]
        config: Any = {"configurable": {"thread_id": f"{kind}:{thread}"}}
        extra = {"context": self.context} if kind == "mediator" else {}
        began = time.perf_counter()
        out = await graph.ainvoke(
            {"messages": [HumanMessage(user_text(thread, turn))]}, config, **extra
        )
        return time.perf_counter() - began, out


@asynccontextmanager
async def open_graphs(
    backend: str, postgres_url: str | None, *, answer: str | None = None
) -> AsyncIterator[Graphs]:
    """Both graphs on a fresh ``backend`` ("memory", "sqlite" or "postgres").

    ``answer`` replaces the instant model's short reply (to model longer answers).
    """
    with tempfile.TemporaryDirectory() as tmp:
        target = {
            "memory": MEMORY,
            "sqlite": str(Path(tmp) / "bench.sqlite"),
            "postgres": postgres_url,
        }[backend]
        if target is None:
            raise ValueError("the postgres backend needs --db postgresql://...")
        async with open_persistence(target) as db:
            yield _graphs(db, backend, answer)


def _graphs(db: Persistence, backend: str, answer: str | None) -> Graphs:
    model = InstantChatModel(answer=answer) if answer is not None else InstantChatModel()
    mediator = build_mediator_graph(
        model, mediator_model=model, checkpointer=db.checkpointer, store=db.store
    )
    bare, shape = (
        build_bare_graph(model, db.checkpointer),
        build_shape_graph(model, db.checkpointer),
    )
    return Graphs(mediator, bare, backend, shape)


def prompt_tokens(kind: str, out: dict[str, Any]) -> int:
    """Prompt tokens of one turn's model calls, from a ``Graphs.turn`` output of ``kind``."""
    if kind == "mediator":
        return sum(c["prompt_tokens"] for c in out["turn_usage"]["calls"])
    usage = out["messages"][-1].usage_metadata or {"input_tokens": 0}
    return int(usage["input_tokens"])


@dataclass
class Overhead:
    """Per-turn seconds of each graph on one backend (``shape``: the mediator's, no work)."""

    backend: str
    mediator: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    shape: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Median mediator turn over median bare turn."""
        return statistics.median(self.mediator) / statistics.median(self.bare)

    @property
    def floor_ratio(self) -> float | None:
        """Median shape turn over median bare turn: the least this graph shape could cost."""
        if not self.shape:
            return None
        return statistics.median(self.shape) / statistics.median(self.bare)


OVERHEAD_GRAPHS = ("mediator", "bare", "shape")


async def measure_overhead(
    backend: str, postgres_url: str | None, *, threads: int = 5, turns: int = 10
) -> Overhead:
    """Median turn time of each graph over ``threads`` x ``turns`` turns (after a warm-up).

    Besides the mediator and the bare graph, the mediator's shape with none of
    its work (:func:`~.instant.build_shape_graph`) splits the overhead into
    LangGraph's own cost of three steps and the package's code.
    """
    result = Overhead(backend)
    async with open_graphs(backend, postgres_url) as graphs:
        for kind in OVERHEAD_GRAPHS:
            await graphs.turn(kind, f"warmup-{uuid.uuid4().hex[:6]}", 1)
        for t in range(threads):
            thread = f"overhead-{uuid.uuid4().hex[:8]}-{t}"
            for turn in range(1, turns + 1):
                # Alternate so drift on the machine hits every graph alike.
                for kind in OVERHEAD_GRAPHS:
                    seconds, _ = await graphs.turn(kind, thread, turn)
                    getattr(result, kind).append(seconds)
    return result


@dataclass
class GrowthPoint:
    """One turn of the long conversation."""

    turn: int
    mediator_seconds: float
    bare_seconds: float
    mediator_prompt_tokens: int
    bare_prompt_tokens: int
    ledger_size: int


async def measure_growth(
    backend: str, postgres_url: str | None, *, turns: int = 50, repeats: int = 3
) -> list[GrowthPoint]:
    """Turn cost at every turn of ``turns``-turn conversations (median of ``repeats``)."""
    samples: dict[int, list[tuple[float, float, int, int, int]]] = {}
    async with open_graphs(backend, postgres_url) as graphs:
        for _ in range(repeats):
            thread = f"growth-{uuid.uuid4().hex[:8]}"
            for turn in range(1, turns + 1):
                m_seconds, m_out = await graphs.turn("mediator", thread, turn)
                b_seconds, b_out = await graphs.turn("bare", thread, turn)
                samples.setdefault(turn, []).append(
                    (
                        m_seconds,
                        b_seconds,
                        prompt_tokens("mediator", m_out),
                        prompt_tokens("bare", b_out),
                        len(m_out["ledger"]),
                    )
                )
    return [
        GrowthPoint(
            turn,
            statistics.median(s[0] for s in rows),
            statistics.median(s[1] for s in rows),
            rows[0][2],
            rows[0][3],
            rows[0][4],
        )
        for turn, rows in sorted(samples.items())
    ]


def rss_mb() -> float:
    """The process's resident memory now, in MB (Linux /proc; peak RSS elsewhere)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class LoadPoint:
    """Concurrent conversations on one backend."""

    threads: int
    turns: int
    seconds: float
    errors: int
    rss_mb: float

    @property
    def conversations_per_second(self) -> float:
        """Whole conversations finished per second."""
        return self.threads / self.seconds

    @property
    def turns_per_second(self) -> float:
        """Turns finished per second, across all threads."""
        return self.threads * self.turns / self.seconds


async def measure_load(
    backend: str,
    postgres_url: str | None,
    *,
    levels: tuple[int, ...] = (1, 10, 100),
    turns: int = 3,
) -> list[LoadPoint]:
    """Run ``n`` mediator conversations of ``turns`` turns at once, for each ``n``."""
    points = []
    async with open_graphs(backend, postgres_url) as graphs:
        await graphs.turn("mediator", f"warmup-{uuid.uuid4().hex[:6]}", 1)
        for n in levels:
            prefix = f"load-{uuid.uuid4().hex[:8]}"

            async def conversation(i: int, prefix: str = prefix) -> None:
                for turn in range(1, turns + 1):
                    await graphs.turn("mediator", f"{prefix}-{i}", turn)

            began = time.perf_counter()
            outcomes = await asyncio.gather(
                *(conversation(i) for i in range(n)), return_exceptions=True
            )
            seconds = time.perf_counter() - began
            errors = sum(isinstance(o, BaseException) for o in outcomes)
            points.append(LoadPoint(n, turns, seconds, errors, rss_mb()))
    return points
