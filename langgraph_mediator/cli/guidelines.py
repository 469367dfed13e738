"""The ``mediator refine`` and ``mediator guidelines`` commands.

``refine --user ID --runs FILE`` reads scored runs (JSON Lines): each line a
trajectory ``{"id", "task_id", "turns": [{"user", "instruction", "answer"}],
"score"}`` or a thread reference ``{"thread_id", "task_id", "score"}`` read
from ``--db``. ``refine --user ID --from-threads --db DB`` needs no scores: it learns
from the turns the user had to correct in their saved threads.
``guidelines show|history|rollback --user ID`` inspect and undo;
``guidelines retire --user ID --id G2 --reason WHY`` takes a rule out as a new version.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore
from rich.console import Console
from rich.table import Table
from rich.text import Text

from langgraph_mediator.cli.common import Command, db_help
from langgraph_mediator.graphs import build_mediator_graph
from langgraph_mediator.guidelines import (
    GuidelineVersion,
    acurrent_version,
    alist_versions,
    aretire_guidelines,
    arollback,
)
from langgraph_mediator.jsonl import read_jsonl
from langgraph_mediator.persistence import Persistence, open_persistence
from langgraph_mediator.refine import (
    RefineReport,
    refine_from_runs,
    refine_from_threads,
    trajectory_from_thread,
)
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import Guideline, Trajectory


def add_refine_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``mediator refine``."""
    parser.add_argument("--user", required=True, help="whose guidelines to refine")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--runs", type=Path, help="JSON Lines of scored runs")
    source.add_argument(
        "--from-threads",
        action="store_true",
        help="learn from the corrections in the user's threads (--db)",
    )
    parser.add_argument("--db", help=db_help())
    parser.add_argument(
        "--success-threshold",
        type=float,
        default=1.0,
        help="score at or above which a run counts as successful",
    )


def add_guidelines_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``mediator guidelines``."""
    parser.add_argument("action", choices=["show", "history", "rollback", "retire"])
    parser.add_argument("--user", required=True)
    parser.add_argument("--db", help=db_help())
    parser.add_argument("--to", type=int, help="version to restore (default: the previous)")
    parser.add_argument(
        "--id",
        action="append",
        dest="ids",
        metavar="ID",
        help="retire: the rule to take out (repeatable)",
    )
    parser.add_argument("--reason", help="retire: why, kept in the new version")


def read_runs(path: Path) -> list[dict[str, Any]]:
    """Parse the runs file; errors name the line."""
    if not path.is_file():
        raise ValueError(f"--runs {path}: no such file")
    runs = [record for _where, record in read_jsonl(path)]
    if not runs:
        raise ValueError(f"{path}: no runs")
    return runs


async def load_trajectories(
    runs: list[dict[str, Any]], persistence: Persistence
) -> list[Trajectory]:
    """Trajectories as given, or rebuilt from the threads the runs name."""
    graph = build_mediator_graph(checkpointer=persistence.checkpointer)
    loaded = []
    for run in runs:
        if "thread_id" in run:
            loaded.append(
                await trajectory_from_thread(
                    graph, run["thread_id"], task_id=run["task_id"], score=float(run["score"])
                )
            )
        else:
            loaded.append(Trajectory.model_validate(run))
    return loaded


def guideline_table(guidelines: list[Guideline], title: str) -> Table:
    """Guidelines with their provenance."""
    table = Table(title=Text(title), show_lines=False)
    table.add_column("id", style="bold")
    table.add_column("guideline")
    table.add_column("from", style="dim")
    for g in guidelines:
        table.add_row(Text(g["id"]), Text(g["text"]), Text(", ".join(g["provenance"])))
    return table


async def refine_report(args: argparse.Namespace, console: Console) -> RefineReport:
    """Run the Refiner on the runs file, or on the user's threads (``--from-threads``)."""
    runs = None if args.from_threads else read_runs(args.runs)
    async with open_persistence(args.db) as persistence:
        if runs is None:
            with console.status(f"Refining guidelines from the threads of {args.user}..."):
                return await refine_from_threads(
                    args.user,
                    checkpointer=persistence.checkpointer,
                    store=persistence.store,
                    context=RefinerContext(),
                )
        trajectories = await load_trajectories(runs, persistence)
        with console.status("Refining guidelines..."):
            return await refine_from_runs(
                trajectories,
                args.user,
                store=persistence.store,
                context=RefinerContext(),
                success_threshold=args.success_threshold,
            )


async def run_refine(args: argparse.Namespace, console: Console) -> int:
    """Pair the runs (or mine the threads), run the Refiner, print the new set."""
    report = await refine_report(args, console)
    if args.from_threads and not report.pairs:
        console.print(
            Text(f"no corrections in the threads of {args.user}: nothing to learn", style="yellow")
        )
    console.print(f"pairs: {', '.join(report.pairs) or 'none'}", markup=False)
    if report.unpaired_failures:
        unpaired = ", ".join(report.unpaired_failures)
        console.print(Text(f"failures without a success to compare: {unpaired}", style="yellow"))
    for rejection in report.rejected:
        console.print(Text(f"rejected: {rejection['text']!r} ({rejection['reason']})", style="dim"))
    saved = f"saved as version {report.version}" if report.version else "unchanged, not saved"
    console.print(guideline_table(report.guidelines, f"guidelines of {args.user}: {saved}"))
    return 0


def history_table(user: str, versions: list[GuidelineVersion]) -> Table:
    """One row per version: when, from what, how many rules, and what it retired."""
    table = Table(title=Text(f"guideline versions of {user}"))
    for column in ("version", "created", "source", "rules", "retired"):
        table.add_column(column)
    for v in versions:
        retired = "; ".join(f"{r['id']} ({r['reason']})" for r in v.get("retired", []))
        cells = (v["version"], v["created_at"], v["source"], len(v["guidelines"]), retired)
        table.add_row(*(Text(str(cell)) for cell in cells))
    return table


async def retire(args: argparse.Namespace, store: BaseStore, console: Console) -> None:
    """Take ``--id`` rules out of the user's set, as a new version with ``--reason``."""
    if not args.ids or not args.reason or not args.reason.strip():
        raise ValueError("guidelines retire needs --id (one per rule) and --reason")
    reason = " ".join(args.reason.split())[:300]
    version = await aretire_guidelines(
        store, args.user, dict.fromkeys(args.ids, reason), source="manual"
    )
    assert version is not None  # --id is not empty
    console.print(f"now version {version['version']} ({version['source']})", markup=False)
    console.print(guideline_table(version["guidelines"], f"guidelines of {args.user}"))


async def run_guidelines(args: argparse.Namespace, console: Console) -> int:
    """``show``, ``history``, ``rollback`` or ``retire`` one user's guidelines."""
    async with open_persistence(args.db) as persistence:
        store = persistence.store
        if args.action == "rollback":
            restored = await arollback(store, args.user, args.to)
            console.print(f"now version {restored['version']} ({restored['source']})", markup=False)
            console.print(guideline_table(restored["guidelines"], f"guidelines of {args.user}"))
        elif args.action == "retire":
            await retire(args, store, console)
        elif args.action == "history":
            console.print(history_table(args.user, await alist_versions(store, args.user)))
        else:
            current = await acurrent_version(store, args.user)
            title = f"guidelines of {args.user}, version {current['version'] if current else 0}"
            console.print(guideline_table(current["guidelines"] if current else [], title))
    return 0


REFINE = Command(
    name="refine",
    help="learn a user's guidelines from scored runs",
    add_arguments=add_refine_arguments,
    run=run_refine,
)
GUIDELINES = Command(
    name="guidelines",
    help="show, list, roll back or retire guidelines",
    add_arguments=add_guidelines_arguments,
    run=run_guidelines,
)
