r"""``mediator eval``: the sharded-conversation benchmark, the open family, the component evals.

    mediator eval --settings FULL,SHARDED,MEDIATOR --runs 10
    mediator eval --tasks corrections --personas all --runs 3   # the per-user protocol
    mediator eval --tasks open --runs 1                         # open conversations

Results go to ``<out>/<run>/`` (``--out``, default ``$MEDIATOR_RESULTS_DIR``,
else ``~/.local/share/langgraph-mediator/results``, whatever the current
folder): ``conversations.jsonl`` (one line per finished conversation; a rerun
with the same run name skips them), ``report.md``, ``summary.json`` and PNG
plots. Model responses are cached by request in ``<out>/.cache.sqlite``, so a
rerun costs no model calls.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from langgraph_mediator.cli.common import EXIT_ERROR, Command
from langgraph_mediator.cli.eval_setup import (
    Prepared,
    eval_context,
    experiments_line,
    prepared,
    print_report,
    report_header,
    run_fields,
)
from langgraph_mediator.cli.evaluate_open import run_open
from langgraph_mediator.evals.benchmark import Benchmark, split_tasks
from langgraph_mediator.evals.component import COMPONENTS, run_components
from langgraph_mediator.evals.conversation import ConversationResult, Setting
from langgraph_mediator.evals.datasets import AUTHORED_TASKS, CORRECTIONS_TASKS
from langgraph_mediator.evals.open_family import OpenSetting
from langgraph_mediator.evals.per_user import PerUserRun
from langgraph_mediator.evals.per_user_report import write_per_user_report
from langgraph_mediator.evals.personas import PERSONAS, Persona, parse_personas
from langgraph_mediator.evals.plotting import require_plotting
from langgraph_mediator.evals.report import summary_markdown, write_report
from langgraph_mediator.evals.tasks import ShardedTask, load_tasks
from langgraph_mediator.persistence import default_results_dir
from langgraph_mediator.text import redact_secrets

DEFAULT_TASKS = AUTHORED_TASKS
AUTHORED = "authored"
"""The ``--tasks`` value that names :data:`DEFAULT_TASKS`, wherever the package is installed."""
NAMED_TASKS = {AUTHORED: AUTHORED_TASKS, "corrections": CORRECTIONS_TASKS}
"""``--tasks`` values that name a task file shipped with the package."""
OPEN = "open"
"""The ``--tasks`` value that runs the open-conversation family (:mod:`..evals.open_family`)."""
SHARDED_DEFAULT = "FULL,SHARDED,MEDIATOR"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``mediator eval``: what to run, then the models, then where results go."""
    add = parser.add_argument
    add(
        "--tasks",
        action="append",
        help="task JSONL file or directory, repeatable; 'authored' and 'corrections' name "
        "the sharded sets shipped with the package (default: authored); 'open' runs the "
        "open-conversation family instead",
    )
    add(
        "--settings",
        help="comma list of " + ",".join(s.value for s in Setting) + f" (default {SHARDED_DEFAULT})"
        "; with --tasks open: " + ",".join(s.value for s in OpenSetting) + " (default all)",
    )
    add("--runs", type=int, default=10, help="runs per task and setting")
    add("--families", help="only these task families (comma list); with --tasks open, axes")
    add("--limit", type=int, help="only the first N tasks (smoke runs)")
    add(
        "--components",
        default=",".join(COMPONENTS),
        help="component evals to run too: " + ",".join(COMPONENTS) + " or none",
    )
    add(
        "--personas",
        help="run the per-user protocol instead of --settings: 'all' or a comma list of "
        + ",".join(PERSONAS)
        + " (each plays MEDIATOR, MEDIATOR+OWN, MEDIATOR+OTHER, MEDIATOR+POOLED)",
    )
    add(
        "--train-fraction",
        type=float,
        default=0.5,
        help="share of the tasks the per-user Refiner learns on (default 0.5)",
    )
    add(
        "--no-retire",
        dest="retire",
        action="store_false",
        help="per-user: keep every learned rule (skip the leave-one-out re-evaluation)",
    )
    add(
        "--min-gain",
        type=float,
        default=0.0,
        help="per-user: keep a rule only above this mean paired gain, 0-1 (default 0)",
    )
    _add_model_arguments(parser)
    _add_output_arguments(parser)


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--model", help="Assistant model (MEDIATOR_ASSISTANT_MODEL)")
    add("--mediator-model", help="Mediator model (MEDIATOR_MODEL)")
    add("--judge-model", help="LLM judge of data2text/summary (default: --model)")
    add(
        "--temperature",
        type=float,
        default=1.0,
        help="sampling temperature of every call (the paper's 1.0)",
    )
    add("--concurrency", type=int, default=2, help="conversations at once")
    add(
        "--simulator",
        choices=["rule", "llm"],
        default="rule",
        help="rule: shards verbatim; llm: rephrased by the Assistant model",
    )


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--run", help="run name: its directory under --out (default: from the config)")
    add(
        "--out",
        type=Path,
        default=default_results_dir(),
        help="results root (default $MEDIATOR_RESULTS_DIR, else %(default)s)",
    )
    add("--cache", type=Path, help="response cache (default OUT/.cache.sqlite)")
    add(
        "--db",
        help="where MEDIATOR threads and MEDIATOR+REFINER guidelines are kept: "
        "SQLite path or postgresql:// URL (default: in memory)",
    )
    add(
        "--offline",
        action="store_true",
        help="never upload to LangSmith, even with LANGSMITH_API_KEY set",
    )


def parse_settings(text: str | None) -> list[Setting]:
    """``FULL,SHARDED`` -> settings; a clear error naming the valid ones otherwise."""
    chosen = []
    for name in (n.strip().upper() for n in (text or SHARDED_DEFAULT).split(",") if n.strip()):
        try:
            chosen.append(Setting(name))
        except ValueError:
            valid = ", ".join(s.value for s in Setting)
            raise SystemExit(f"unknown setting {name!r}; choose from {valid}") from None
    return chosen


def progress_bars(console: Console, bench: Benchmark) -> Progress:
    """A bar per setting (conversations) and one per setting's tasks (all runs done)."""
    progress = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    bars: dict[str, Any] = {}
    finished: dict[str, dict[str, int]] = {}
    for setting in bench.settings:
        count = len(bench.tasks_for(setting))
        bars[setting] = progress.add_task(f"{setting} conversations", total=count * bench.runs)
        bars[f"{setting}/tasks"] = progress.add_task(f"{setting} tasks", total=count)
        finished[setting] = {}
    if Setting.MEDIATOR_REFINER in bench.settings and Setting.MEDIATOR not in bench.settings:
        train = split_tasks(bench.tasks, bench.train_fraction)[0]
        bars[Setting.MEDIATOR] = progress.add_task(
            "MEDIATOR (train split)", total=len(train) * bench.runs
        )
        finished[Setting.MEDIATOR] = {}

    def on_result(setting: str, result: ConversationResult) -> None:
        progress.advance(bars[setting])
        count = finished[setting].get(result.task_id, 0) + 1
        finished[setting][result.task_id] = count
        if count == bench.runs and f"{setting}/tasks" in bars:
            progress.advance(bars[f"{setting}/tasks"])

    bench.on_result = on_result
    return progress


def select_tasks(args: argparse.Namespace) -> list[ShardedTask]:
    """The tasks ``--tasks``, ``--families`` and ``--limit`` choose; a clear exit if none."""
    families = args.families.split(",") if args.families else None
    try:
        paths = [NAMED_TASKS.get(t, t) for t in args.tasks or [AUTHORED]]
        tasks = load_tasks(paths, families=families, limit=args.limit)
    except FileNotFoundError as exc:
        raise SystemExit(f"{exc}; pass --tasks FILE (a sharded-task JSONL)") from None
    if not tasks:
        raise SystemExit("no tasks selected")
    return tasks


async def run_eval(args: argparse.Namespace, console: Console) -> int:
    """Run the benchmark (and component evals), then write the report; return an exit code."""
    if args.personas:
        return await run_personas(args, console)
    if args.tasks == [OPEN]:
        return await run_open(args, console)
    settings = parse_settings(args.settings)
    tasks = select_tasks(args)
    async with prepared(args, [t.task_id for t in tasks]) as ready:
        bench = Benchmark(**run_fields(args, ready, tasks), settings=settings)
        console.print(
            f"[bold]{len(tasks)} tasks x {args.runs} runs[/] · settings "
            f"{', '.join(settings)} · model {escape(ready.model)} · results in "
            f"{escape(str(bench.out_dir))}"
        )
        with progress_bars(console, bench):
            await bench.run(ready.refiner)
        if bench.unreachable is not None:
            error = unreachable_message(bench, ready.endpoint)
            console.print(f"[bold red]error:[/] {escape(error)}")
            return EXIT_ERROR
        sections = await run_components(
            args.components, ready.env, bench.out_dir, console, bench.upload
        )
    header = sharded_header(args, ready, bench)
    results = [r for r in bench.results.done.values() if r.setting in settings]
    names = [str(s) for s in settings]
    path = write_report(bench.out_dir, results, names, header=header, extra_sections=sections)
    console.print(summary_markdown(results, names, header), markup=False)
    console.print(f"[green]report:[/] {escape(str(path))}")
    return failure_exit(bench, console)


async def run_personas(args: argparse.Namespace, console: Console) -> int:
    """The per-user protocol over ``--personas``, then its report; return an exit code."""
    try:
        personas = parse_personas(args.personas)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    tasks = select_tasks(args)
    async with prepared(args, [t.task_id for t in tasks], prefix="personas-") as ready:
        run = per_user_run(args, ready, tasks, personas, console)
        console.print(
            f"[bold]per-user protocol[/]: {len(personas)} personas x {len(tasks)} tasks "
            f"({len(run.train)} train, {len(run.test)} test) x {args.runs} runs · model "
            f"{escape(ready.model)} · results in {escape(str(run.out_dir))}"
        )
        await run.run(ready.refiner)
    if run.unreachable is not None:
        console.print(f"[bold red]error:[/] {escape(run.unreachable)}")
        return EXIT_ERROR
    played = {"personas": ", ".join(p.name for p in personas)}
    header = report_header(args, ready, played, {"simulator": args.simulator})
    print_report(console, write_per_user_report(run, header))
    return 1 if run.failed else 0


def per_user_run(
    args: argparse.Namespace,
    ready: Prepared,
    tasks: list[ShardedTask],
    personas: list[Persona],
    console: Console,
) -> PerUserRun:
    """The per-user run the flags describe; it prints each conversation's score as it ends."""

    def print_score(key: str, result: ConversationResult) -> None:
        console.print(
            f"  {escape(key)} {escape(result.task_id)} run {result.run}: {result.score:.2f}",
            highlight=False,
        )

    try:
        return PerUserRun(
            **run_fields(args, ready, tasks),
            personas=personas,
            train_fraction=args.train_fraction,
            retire=args.retire,
            min_gain=args.min_gain,
            on_result=print_score,
        )
    except ValueError as exc:  # fewer than two personas, or too few tasks to split
        raise SystemExit(str(exc)) from None


def unreachable_message(bench: Benchmark, endpoint: str) -> str:
    """One line for a run whose first conversations could not reach the endpoint."""
    error = bench.unreachable or ""
    if "Cannot reach" not in error:
        where = redact_secrets(endpoint) if endpoint != "embedded" else "the embedded model"
        error = (
            f"Cannot reach the model endpoint {where} ({error[:200]}). Check "
            "OPENAI_BASE_URL (unset it to use the embedded local model)."
        )
    return f"{error} No conversation reached it; nothing was recorded."


def failure_exit(bench: Benchmark, console: Console) -> int:
    """0 when every conversation was played; else say which failed at the endpoint.

    Those are not recorded, so rerunning the same command plays them again.
    """
    if not bench.failed:
        return 0
    first = bench.failed[0].error or "no detail"
    console.print(
        f"[bold red]{len(bench.failed)} conversation(s) failed at the model endpoint[/] and "
        f"were not recorded (first: {escape(first[:300])}); rerun the same command to play "
        "them again."
    )
    return 1


def sharded_header(args: argparse.Namespace, ready: Prepared, bench: Benchmark) -> dict[str, Any]:
    """The report's header, with what the Refiner learned and what failed at the endpoint."""
    played = {"tasks": len(bench.tasks)}
    details = {"simulator": args.simulator, "experiments": experiments_line(bench.experiments)}
    header = report_header(args, ready, played, details)
    if bench.refine_report is not None:
        header["guidelines learned"] = len(bench.refine_report.guidelines)
    if bench.failed:
        header["failed at the endpoint (not recorded)"] = len(bench.failed)
    return header


COMMAND = Command(
    name="eval",
    help="run the sharded-conversation benchmark",
    description=__doc__,
    add_arguments=add_arguments,
    run=run_eval,
    preflight=require_plotting,
    settings=eval_context,
)
