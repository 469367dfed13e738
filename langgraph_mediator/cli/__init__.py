"""The ``mediator`` command: chat, demo, refine, guidelines, eval, bench and token.

Each subcommand is a :class:`~langgraph_mediator.cli.common.Command` in its own
module, registered in :data:`COMMANDS` and dispatched the same way: its model
settings are validated first, the embedded model server is started here (and
only here) when a command needs a model and no endpoint is set, then the
command runs. Errors end with one clear message and a non-zero exit code; the
thread is left intact.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from rich.markup import escape

from langgraph_mediator.cli import bench, chat, demo, evaluate, guidelines, tokens
from langgraph_mediator.cli.common import (
    EXIT_ERROR,
    Command,
    check_database_flag,
    console,
    start_model_server,
)
from langgraph_mediator.errors import MediatorError

DESCRIPTION = (
    "Keep a multi-turn conversation aligned with what the user means: chat through the "
    "Mediator, replay a demo, learn and manage per-user guidelines, and measure it all."
)

COMMANDS: tuple[Command, ...] = (
    chat.COMMAND,
    demo.COMMAND,
    guidelines.REFINE,
    guidelines.GUIDELINES,
    evaluate.COMMAND,
    bench.COMMAND,
    tokens.COMMAND,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mediator``, one subparser per registered command."""
    parser = argparse.ArgumentParser(prog="mediator", description=DESCRIPTION)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name,
            help=command.help,
            description=command.description or command.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
    return parser


async def dispatch(command: Command, args: argparse.Namespace) -> int:
    """Check what the command needs, validate its settings, start its model server, run it."""
    await check_database_flag(args)
    if command.preflight is not None:
        command.preflight()
    if command.settings is not None:
        start_model_server(command.settings(args))
    return await command.run(args, console)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mediator`` console script."""
    args = build_parser().parse_args(argv)
    command = next(c for c in COMMANDS if c.name == args.command)
    try:
        return asyncio.run(dispatch(command, args))
    except (MediatorError, ValueError, LookupError) as exc:
        console.print(f"[bold red]error:[/bold red] {escape(str(exc))}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
