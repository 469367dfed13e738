"""``mediator chat``: talk to the mediator graph, one resumable thread at a time."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import uuid
from typing import Any

from rich.console import Console
from rich.markup import escape

from langgraph_mediator.cli.common import (
    EXIT_ERROR,
    Command,
    add_conversation_options,
    context_from,
    db_help,
)
from langgraph_mediator.cli.render import LiveTurn, print_turn
from langgraph_mediator.errors import InvalidMessageError
from langgraph_mediator.graphs import build_mediator_graph
from langgraph_mediator.persistence import open_persistence
from langgraph_mediator.session import MediatorSession
from langgraph_mediator.text import redact_secrets


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``mediator chat``."""
    parser.add_argument("--thread", help="id of a saved thread to resume (default: a new thread)")
    parser.add_argument(
        "--new", action="store_true", help="start a new thread under the --thread id"
    )
    parser.add_argument("--db", help=db_help())
    add_conversation_options(parser)


async def run(args: argparse.Namespace, console: Console) -> int:
    """Interactive loop; ``/quit`` or end of input leaves, ``/thread`` shows the id."""
    context = context_from(args)
    thread_id = args.thread or uuid.uuid4().hex[:12]
    async with open_persistence(args.db) as persistence:
        graph = build_mediator_graph(checkpointer=persistence.checkpointer, store=persistence.store)
        session = MediatorSession(graph, context)
        resuming = args.thread and not args.new
        known = await (session.require_thread if resuming else session.state)(thread_id)
        verb = f"resuming ({len(known.get('messages', []))} messages)" if known else "new"
        where = escape(redact_secrets(persistence.location))
        console.print(f"thread [bold]{escape(thread_id)}[/bold] {verb}, saved in {where}")
        print_recent(console, known.get("messages", []))
        if await session.unfinished_turn(thread_id):
            console.print("[dim]completing the turn that was cut off:[/dim]")
            with LiveTurn(console) as live:
                finished = await session.finish_turn(thread_id, live.on_event)
            if finished:
                print_turn(console, finished, answer_shown=live.streamed)
        console.print("[dim]/quit to leave; --thread to come back later[/dim]")
        if isinstance(sys.stdin, io.TextIOWrapper):
            # Undecodable bytes reach validate_user_message (a clear error) instead of crashing.
            sys.stdin.reconfigure(errors="surrogateescape")
        return await _converse(session, thread_id, console)


async def _converse(session: MediatorSession, thread_id: str, console: Console) -> int:
    """Read the user's lines until ``/quit`` or end of input, one turn each.

    Piped input that is rejected ends the chat with a non-zero exit: a script
    must not read "exit 0" as "every message was sent", nor send the lines
    after a rejected one out of their context. At a terminal the user retypes.
    """
    interactive = sys.stdin.isatty()
    while True:
        try:
            text = console.input("[bold]you> [/bold]")
        except EOFError:
            return 0
        if text.strip() in {"/quit", "/exit"}:
            return 0
        if text.strip() == "/thread":
            console.print(thread_id, markup=False)
            continue
        try:
            with LiveTurn(console) as live:
                result = await session.send(thread_id, text, live.on_event)
            print_turn(console, result, answer_shown=live.streamed)
        except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels the turn, then exits 130
            console.print(
                f"\n[yellow]turn cut off[/yellow]: your message is kept. Resume with "
                f"`mediator chat --thread {escape(thread_id)}` and the same --db; the turn "
                "completes first."
            )
            raise
        except InvalidMessageError as exc:
            console.print(f"[red]{escape(str(exc))}[/red] (nothing was saved)")
            if not interactive:
                return EXIT_ERROR


RECENT_TURNS = 3
"""How many earlier exchanges a resumed thread shows."""


def print_recent(console: Console, messages: list[Any], turns: int = RECENT_TURNS) -> None:
    """The last ``turns`` exchanges of a resumed thread, so the user sees where it stands."""
    starts = [i for i, m in enumerate(messages) if getattr(m, "type", "") == "human"]
    if not starts:
        return
    shown = messages[starts[-turns] if len(starts) >= turns else 0 :]
    if len(starts) > turns:
        console.print(f"[dim]... {len(starts) - turns} earlier exchange(s)[/dim]")
    for message in shown:
        speaker = "you" if message.type == "human" else "assistant"
        text = str(message.content)
        clipped = text if len(text) <= 500 else text[:500] + " [...]"
        console.print(f"[dim]{speaker}> {escape(clipped)}[/dim]")


COMMAND = Command(
    name="chat",
    help="talk to the mediator graph (resumable threads)",
    add_arguments=add_arguments,
    run=run,
    settings=context_from,
)
