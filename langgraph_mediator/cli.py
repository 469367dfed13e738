"""The ``mediator`` command: ``chat``, ``demo``, ``refine``, ``guidelines`` and ``eval``.

Each turn prints what the Mediator did (intent, feedback kind, ledger change,
explicit instruction) before the reply. Errors end with one clear message and a
non-zero exit code; the thread is left intact.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import uuid
from collections.abc import Sequence

from rich.console import Console

from langgraph_mediator.cli_bench import add_bench_command, run_bench
from langgraph_mediator.cli_eval import add_eval_command, run_eval
from langgraph_mediator.cli_guidelines import add_commands, run_guidelines, run_refine
from langgraph_mediator.demo import play_demo
from langgraph_mediator.errors import InvalidMessageError, MediatorError
from langgraph_mediator.graphs import build_mediator_graph
from langgraph_mediator.local_server import ensure_local_server, local_server_running
from langgraph_mediator.persistence import MEMORY, default_db_path, open_persistence
from langgraph_mediator.render import print_turn
from langgraph_mediator.session import MediatorSession, TurnResult
from langgraph_mediator.state import MediatorContext

console = Console()
EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mediator``."""
    parser = argparse.ArgumentParser(prog="mediator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", help="talk to the mediator graph (resumable threads)")
    chat.add_argument("--thread", help="id of a saved thread to resume (default: a new thread)")
    chat.add_argument("--new", action="store_true", help="start a new thread under the --thread id")
    chat.add_argument(
        "--db", help=f"SQLite path or postgresql:// URL (default {default_db_path()})"
    )
    demo = commands.add_parser("demo", help="play a scripted sharded conversation")
    demo.add_argument("--db", default=MEMORY, help="SQLite path or postgresql:// URL")
    demo.add_argument("--thread", default=None, help="thread id (default: a new one)")
    add_commands(commands)
    add_eval_command(commands)
    add_bench_command(commands)
    for sub in (chat, demo):
        sub.add_argument("--user", help="user id whose guidelines apply (MEDIATOR_USER_ID)")
        sub.add_argument("--policy", choices=["never", "when_missing", "always"],
                         help="clarification policy (MEDIATOR_CLARIFY_POLICY)")  # fmt: skip
        sub.add_argument("--clarification-mode", choices=["end_turn", "interrupt"],
                         help="end the turn with a question, or pause the run on it "
                              "(MEDIATOR_CLARIFICATION_MODE)")  # fmt: skip
        sub.add_argument(
            "--max-questions", type=int, help="questions per task (MEDIATOR_MAX_QUESTIONS)"
        )
    return parser


def context_from(args: argparse.Namespace, **overrides: object) -> MediatorContext:
    """The run context: environment defaults, then command-line flags."""
    flags = {"user_id": args.user, "clarification_policy": args.policy,
             "clarification_mode": args.clarification_mode,
             "max_questions_per_task": args.max_questions, **overrides}  # fmt: skip
    return MediatorContext(**{k: v for k, v in flags.items() if v is not None})


def start_model_server(context: MediatorContext) -> None:
    """Start the embedded model with a progress indicator when no endpoint is set."""
    if context.base_url:
        console.print(f"[dim]model endpoint: {context.base_url}[/dim]")
        return
    if local_server_running():
        return
    with console.status("Starting the embedded model server (SmolLM2-135M, llama.cpp)..."):
        server = ensure_local_server()
    console.print(
        f"[dim]embedded model ready at {server.base_url} in {server.started_in:.1f}s[/dim]"
    )


async def run_chat(args: argparse.Namespace) -> int:
    """Interactive loop; ``/quit`` or end of input leaves, ``/thread`` shows the id."""
    context = context_from(args)
    thread_id = args.thread or uuid.uuid4().hex[:12]
    start_model_server(context)
    async with open_persistence(args.db) as persistence:
        graph = build_mediator_graph(checkpointer=persistence.checkpointer, store=persistence.store)
        session = MediatorSession(graph, context)
        resuming = args.thread and not args.new
        known = await (session.require_thread if resuming else session.state)(thread_id)
        verb = f"resuming ({len(known.get('messages', []))} messages)" if known else "new"
        console.print(f"thread [bold]{thread_id}[/bold] {verb}, saved in {persistence.location}")
        if finished := await session.finish_turn(thread_id):
            console.print("[dim]completed the turn that was cut off:[/dim]")
            print_turn(console, finished)
        console.print("[dim]/quit to leave; --thread to come back later[/dim]")
        if isinstance(sys.stdin, io.TextIOWrapper):
            # Undecodable bytes reach validate_user_message (a clear error) instead of crashing.
            sys.stdin.reconfigure(errors="surrogateescape")
        while True:
            try:
                text = console.input("[bold]you> [/bold]")
            except EOFError:
                return 0
            if text.strip() in {"/quit", "/exit"}:
                return 0
            if text.strip() == "/thread":
                console.print(thread_id)
                continue
            try:
                print_turn(console, await session.send(thread_id, text))
            except InvalidMessageError as exc:
                console.print(f"[red]{exc}[/red] (nothing was saved)")


async def run_demo(args: argparse.Namespace) -> int:
    """Play the scripted conversation and show each turn."""
    context = context_from(args, single_task=True)
    start_model_server(context)
    thread_id = args.thread or f"demo-{uuid.uuid4().hex[:8]}"
    async with open_persistence(args.db) as persistence:
        graph = build_mediator_graph(checkpointer=persistence.checkpointer, store=persistence.store)

        def show(number: int, shard: str, result: TurnResult) -> None:
            console.rule(f"turn {number}")
            console.print(f"[bold]user>[/bold] {shard}")
            print_turn(console, result)

        results = await play_demo(MediatorSession(graph, context), thread_id, show)
    calls = [c for r in results if r.usage for c in r.usage["calls"]]
    console.rule("done")
    console.print(f"{len(results)} turns, {len(calls)} model calls "
                  f"({len(calls) / len(results):.1f} per turn), thread {thread_id}")  # fmt: skip
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mediator`` console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "refine":
            return asyncio.run(run_refine(args, console))
        if args.command == "guidelines":
            return asyncio.run(run_guidelines(args, console))
        if args.command == "bench":
            return asyncio.run(run_bench(args, console))
        if args.command == "eval":
            start_model_server(MediatorContext())
            return asyncio.run(run_eval(args, console))
        return asyncio.run({"chat": run_chat, "demo": run_demo}[args.command](args))
    except (MediatorError, ValueError, LookupError) as exc:
        console.print(f"[bold red]error:[/bold red] {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
