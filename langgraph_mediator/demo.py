"""The scripted sharded conversation behind ``mediator demo``.

A task revealed one requirement per turn, with a fragmentary correction in the
middle, the pattern that makes assistants get lost. When the Mediator asks a
question, the scripted user answers with the next shard, as in the
sharded-conversation protocol.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from langgraph_mediator.session import MediatorSession, TurnResult

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
