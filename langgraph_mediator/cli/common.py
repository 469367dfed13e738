"""What every ``mediator`` command shares: the console, the run context, the model server."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape

from langgraph_mediator.models.local_server import ensure_local_server, local_server_running
from langgraph_mediator.persistence import check_database, default_db_path
from langgraph_mediator.state import MediatorContext, ModelSettings
from langgraph_mediator.text import redact_secrets

console = Console()
EXIT_ERROR = 2

Runner = Callable[[argparse.Namespace, Console], Awaitable[int]]


@dataclass(frozen=True)
class Command:
    """One ``mediator`` subcommand: its name, its arguments and what it runs.

    Before the command runs, the dispatcher checks its ``--db`` (if it has
    one), calls ``preflight`` (a check that fails fast, e.g. a missing extra),
    then ``settings``, which builds and validates the command's model settings
    (a bad ``MEDIATOR_*`` value is a clear error before anything starts), and
    then starts the embedded model server if those settings name no endpoint;
    no command starts it on its own.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Runner
    settings: Callable[[argparse.Namespace], ModelSettings] | None = None
    preflight: Callable[[], None] | None = None
    description: str | None = None


async def check_database_flag(args: argparse.Namespace) -> None:
    """Check the command's ``--db`` before anything starts (the model server included).

    A bad value is one clear line, not a traceback after the model loaded, and
    nothing is created: a folder that does not exist stays so, and resuming a
    ``--thread`` from a database that does not exist creates no empty one.
    """
    if not hasattr(args, "db"):
        return
    resuming = bool(getattr(args, "thread", None)) and not getattr(args, "new", False)
    await check_database(args.db, must_exist=resuming)


def db_help() -> str:
    """The ``--db`` help text, naming the default database."""
    return f"SQLite path or postgresql:// URL (default {default_db_path()})"


def add_conversation_options(parser: argparse.ArgumentParser) -> None:
    """The Mediator's policy flags that ``chat`` and ``demo`` share."""
    parser.add_argument("--user", help="user id whose guidelines apply (MEDIATOR_USER_ID)")
    parser.add_argument(
        "--policy",
        choices=["never", "when_missing", "always"],
        help="clarification policy (MEDIATOR_CLARIFY_POLICY)",
    )
    parser.add_argument(
        "--clarification-mode",
        choices=["end_turn", "interrupt"],
        help="end the turn with a question, or pause the run on it (MEDIATOR_CLARIFICATION_MODE)",
    )
    parser.add_argument(
        "--max-questions", type=int, help="questions per task (MEDIATOR_MAX_QUESTIONS)"
    )
    parser.add_argument(
        "--single-task",
        action="store_true",
        default=None,
        help="treat the thread as one task: a message read as a new task keeps the "
        "requirements so far (MEDIATOR_SINGLE_TASK)",
    )


def context_from(args: argparse.Namespace, **overrides: object) -> MediatorContext:
    """The run context: environment defaults, then command-line flags."""
    flags = {
        "user_id": args.user,
        "clarification_policy": args.policy,
        "clarification_mode": args.clarification_mode,
        "max_questions_per_task": args.max_questions,
        "single_task": getattr(args, "single_task", None),
        **overrides,
    }
    return MediatorContext(**{k: v for k, v in flags.items() if v is not None})


def start_model_server(settings: ModelSettings) -> None:
    """Start the embedded model with a progress indicator when no endpoint is set."""
    if settings.base_url:
        console.print(f"[dim]model endpoint: {escape(redact_secrets(settings.base_url))}[/dim]")
        return
    if local_server_running():
        return
    with console.status("Starting the embedded model server (SmolLM2-135M, llama.cpp)..."):
        server = ensure_local_server()
    console.print(
        f"[dim]embedded model ready at {server.base_url} in {server.started_in:.1f}s[/dim]"
    )
