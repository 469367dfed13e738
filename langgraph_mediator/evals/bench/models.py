"""Model-side measurements: calls and tokens per turn, and the embedded model's speed.

Calls and tokens come from real requests: the per-turn usage that ``mediator
eval`` reads off every response (``conversations.jsonl``), compared between
MEDIATOR and the bare SHARDED assistant on the same tasks. The embedded model
is timed live: server start, a mediated conversation's turns, tokens/second.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from langgraph_mediator.graphs.mediator import build_mediator_graph
from langgraph_mediator.jsonl import read_jsonl
from langgraph_mediator.models.local_server import LocalModelServer, bundled_model_path
from langgraph_mediator.state import MediatorContext


@dataclass(frozen=True)
class TurnCost:
    """Mean cost of one turn in one setting, over the conversations read."""

    setting: str
    conversations: int
    turns: int
    calls_per_turn: float
    prompt_tokens_per_turn: float
    completion_tokens_per_turn: float


def turn_costs(
    results: Path, settings: tuple[str, ...] = ("SHARDED", "MEDIATOR")
) -> list[TurnCost]:
    """Per-turn cost of each setting, over the tasks every setting finished without error."""
    rows = [r for _, r in read_jsonl(results) if r["setting"] in settings and not r.get("error")]
    shared = set.intersection(
        *({r["task_id"] for r in rows if r["setting"] == s} for s in settings)
    )
    costs = []
    for setting in settings:
        mine = [r for r in rows if r["setting"] == setting and r["task_id"] in shared]
        turns = [t for r in mine for t in r["turns"]]
        if not turns:
            raise ValueError(f"{results} has no finished {setting} conversation to compare")
        costs.append(
            TurnCost(
                setting,
                len(mine),
                len(turns),
                statistics.fmean(t["calls"] for t in turns),
                statistics.fmean(t["prompt_tokens"] for t in turns),
                statistics.fmean(t["completion_tokens"] for t in turns),
            )
        )
    return costs


@dataclass(frozen=True)
class EmbeddedSpeed:
    """The embedded model on this machine."""

    start_seconds: float
    turn_seconds: list[float]
    completion_tokens: int
    model_seconds: float

    @property
    def tokens_per_second(self) -> float:
        """Completion tokens per second of model time."""
        return self.completion_tokens / self.model_seconds if self.model_seconds else 0.0


EMBEDDED_TURNS = (
    "I need to know how many cans of paint to buy for my bedroom.",
    "The walls add up to 36 square metres.",
    "I want two coats.",
    "One can covers 12 square metres.",
    "no, make that three coats",
)


async def measure_embedded(max_tokens: int = 256) -> EmbeddedSpeed:
    """Start the embedded server, play :data:`EMBEDDED_TURNS` through the mediator, stop."""
    server = LocalModelServer(model_path=bundled_model_path()).start()
    start_seconds = server.started_in
    try:
        context = MediatorContext(
            base_url=server.base_url,
            api_key="local",
            max_tokens=max_tokens,
            clarification_policy="never",
            single_task=True,
        )
        graph = build_mediator_graph(checkpointer=InMemorySaver(), store=InMemoryStore())
        config: Any = {"configurable": {"thread_id": "bench-embedded"}}
        turn_seconds, completion, model_seconds = [], 0, 0.0
        for text in EMBEDDED_TURNS:
            began = time.perf_counter()
            out = await graph.ainvoke({"messages": [HumanMessage(text)]}, config, context=context)
            turn_seconds.append(time.perf_counter() - began)
            for call in out["turn_usage"]["calls"]:
                completion += call["completion_tokens"]
                model_seconds += call["seconds"]
    finally:
        server.stop()
    return EmbeddedSpeed(start_seconds, turn_seconds, completion, model_seconds)
