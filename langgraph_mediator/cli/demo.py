"""``mediator demo``: a scripted sharded conversation, turn by turn.

A task revealed one requirement per turn, with a fragmentary correction in the
middle, the pattern that makes assistants get lost. When the Mediator asks a
question, the scripted user answers with the next shard, as in the
sharded-conversation protocol.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Awaitable, Callable

from rich.console import Console
from rich.markup import escape

from langgraph_mediator.cli.common import Command, add_conversation_options, context_from
from langgraph_mediator.cli.render import print_turn
from langgraph_mediator.graphs import build_mediator_graph
from langgraph_mediator.persistence import MEMORY, open_persistence
from langgraph_mediator.session import MediatorSession, TurnResult
from langgraph_mediator.state import MediatorContext

DEMO_SHARDS: tuple[str, ...] = (
    "I need to work out how many cans of paint to buy for my bedroom.",
    "The room has four walls, each 4 m wide and 2.5 m high.",
    "One can of paint covers 10 square metres.",
    "Oh wait, the walls are 5 m wide, not 4.",
    "And I want two coats.",
)
"""Fully specified: 4 walls x 5 m x 2.5 m x 2 coats = 100 m^2, i.e. 10 cans."""


async def play_demo(
    session: MediatorSession,
    thread_id: str,
    on_turn: Callable[[int, str, TurnResult], Awaitable[None] | None],
    shards: tuple[str, ...] = DEMO_SHARDS,
) -> list[TurnResult]:
    """Reveal ``shards`` one per turn on ``thread_id``; call ``on_turn`` after each."""
    results = []
    for number, shard in enumerate(shards, 1):
        result = await session.send(thread_id, shard)
        results.append(result)
        shown = on_turn(number, shard, result)
        if shown is not None:
            await shown
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``mediator demo``."""
    parser.add_argument("--db", default=MEMORY, help="SQLite path or postgresql:// URL")
    parser.add_argument("--thread", default=None, help="thread id (default: a new one)")
    add_conversation_options(parser)


def demo_context(args: argparse.Namespace) -> MediatorContext:
    """The demo's context: the flags, and one task for the whole thread."""
    return context_from(args, single_task=True)


async def run(args: argparse.Namespace, console: Console) -> int:
    """Play the scripted conversation and show each turn."""
    context = demo_context(args)
    thread_id = args.thread or f"demo-{uuid.uuid4().hex[:8]}"
    async with open_persistence(args.db) as persistence:
        graph = build_mediator_graph(checkpointer=persistence.checkpointer, store=persistence.store)

        def show(number: int, shard: str, result: TurnResult) -> None:
            console.rule(f"turn {number}")
            console.print(f"[bold]user>[/bold] {escape(shard)}")
            print_turn(console, result)

        results = await play_demo(MediatorSession(graph, context), thread_id, show)
    calls = [c for r in results if r.usage for c in r.usage["calls"]]
    console.rule("done")
    console.print(f"{len(results)} turns, {len(calls)} model calls "
                  f"({len(calls) / len(results):.1f} per turn), thread {thread_id}")  # fmt: skip
    return 0


COMMAND = Command(
    name="demo",
    help="play a scripted sharded conversation",
    add_arguments=add_arguments,
    run=run,
    settings=demo_context,
)
