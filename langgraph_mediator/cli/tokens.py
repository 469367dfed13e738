"""``mediator token USER --file tokens.json``: give a user a bearer token for the server's auth.

The new token is printed once; the file keeps only its SHA-256 (mode 0600),
so point the server's ``MEDIATOR_AUTH_TOKENS_FILE`` at it and hand the token
to the user. A user may hold several tokens; remove a line from the file to
revoke one (the server re-reads the file when it changes).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console

from langgraph_mediator.auth.verifiers import InvalidToken, add_token
from langgraph_mediator.cli.common import EXIT_ERROR, Command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``USER`` and ``--file``."""
    parser.add_argument("user", help="the identity the token proves (letters, digits, ._@+-)")
    parser.add_argument(
        "--file",
        type=Path,
        default=Path(os.environ.get("MEDIATOR_AUTH_TOKENS_FILE", "tokens.json")),
        help="the token file (default MEDIATOR_AUTH_TOKENS_FILE, else ./tokens.json)",
    )


async def run(args: argparse.Namespace, console: Console) -> int:
    """Add a token for ``args.user`` and print it."""
    try:
        token = add_token(args.file, args.user)
    except InvalidToken as exc:
        console.print(f"error: {exc}: {args.user!r}", markup=False)
        return EXIT_ERROR
    console.print(f"token for {args.user} (shown once; {args.file} keeps its hash):", markup=False)
    print(token)
    return 0


COMMAND = Command(
    name="token",
    help="give a user a bearer token for LangGraph Server's auth",
    description=__doc__,
    add_arguments=add_arguments,
    run=run,
)
