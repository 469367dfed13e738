"""``mediator bench``: cost per turn against a bare assistant, written to BENCHMARKS.md.

    mediator bench --db postgresql://postgres@127.0.0.1:5432/test

Measures in one run: time to the answer's first token, mediated vs bare (on
a latency-modelled stub and the embedded model), graph overhead per turn
(mediator vs a bare one-node chat graph, same checkpointer: memory, SQLite,
Postgres), growth over a 50-turn conversation, throughput and memory for
1/10/100 concurrent threads on Postgres, calls and tokens per turn from an
eval run's real requests, and the embedded model's start time, latency and
tokens per second. Without ``--db`` the Postgres parts are skipped.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from langgraph_mediator.cli.common import Command
from langgraph_mediator.evals.bench.graphs import measure_growth, measure_load, measure_overhead
from langgraph_mediator.evals.bench.latency import (
    measure_first_token_embedded,
    measure_first_token_timed,
)
from langgraph_mediator.evals.bench.models import measure_embedded, turn_costs
from langgraph_mediator.evals.bench.prompts import measure_prompt_ratio
from langgraph_mediator.evals.bench.report import BenchResults, write_benchmarks
from langgraph_mediator.evals.plotting import require_plotting
from langgraph_mediator.persistence import default_results_dir, is_postgres_url

CHECKOUT_RESULTS = Path("evals/results")
"""Where a checkout of this repository keeps the eval runs its README quotes."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``mediator bench``."""
    parser.add_argument("--db", help="postgresql:// URL for the Postgres parts (else skipped)")
    parser.add_argument("--threads", type=int, default=5, help="threads per overhead backend")
    parser.add_argument("--turns", type=int, default=10, help="turns per overhead thread")
    parser.add_argument("--growth-turns", type=int, default=50, help="turns of the long thread")
    parser.add_argument("--load", default="1,10,100", help="concurrency levels (comma list)")
    parser.add_argument(
        "--eval-results",
        type=Path,
        help="an eval run's conversations.jsonl with SHARDED and MEDIATOR "
        "(default: the newest under the eval results folder, "
        "then ./evals/results)",
    )
    parser.add_argument(
        "--first-token-repeats",
        type=int,
        default=3,
        metavar="N",
        help="repeats of the 10-turn time-to-first-token conversation, per "
        "graph and source (0 skips it)",
    )
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded model")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="the report")
    parser.add_argument("--plots", type=Path, default=Path("benchmarks"), help="plots directory")


def newest_eval_results(roots: Sequence[Path] | None = None) -> Path | None:
    """The newest ``conversations.jsonl`` comparing SHARDED and MEDIATOR, first root first.

    The roots default to ``mediator eval``'s results folder, then a
    checkout's ``evals/results``.
    """
    for root in roots if roots is not None else (default_results_dir(), CHECKOUT_RESULTS):
        for path in sorted(root.glob("*/conversations.jsonl"), key=lambda p: -p.stat().st_mtime):
            try:
                turn_costs(path)
            except (ValueError, KeyError, TypeError):
                continue
            return path
    return None


async def measure_first_tokens(
    args: argparse.Namespace, console: Console, results: BenchResults
) -> None:
    """Time to first token on the latency-modelled stub, then on the embedded model."""
    repeats = args.first_token_repeats
    if repeats <= 0:
        return
    with console.status(f"time to first token, hosted-endpoint latency model, {repeats}x..."):
        results.first_token.append(await measure_first_token_timed(repeats=repeats))
    if not args.no_embedded:
        with console.status(f"time to first token on the embedded model, {repeats}x..."):
            results.first_token.append(await measure_first_token_embedded(repeats=repeats))


async def run_bench(args: argparse.Namespace, console: Console) -> int:
    """Run every measurement, then write the report."""
    if args.db and not is_postgres_url(args.db):
        raise ValueError(f"--db must be a postgresql:// URL, got {args.db!r}")
    began, results = time.perf_counter(), BenchResults()
    backends = ["memory", "sqlite"] + (["postgres"] if args.db else [])
    for backend in backends:
        with console.status(f"graph overhead on {backend}..."):
            results.overhead.append(
                await measure_overhead(backend, args.db, threads=args.threads, turns=args.turns)
            )
    results.growth_backend = "postgres" if args.db else "sqlite"
    with console.status(f"{args.growth_turns}-turn growth on {results.growth_backend}..."):
        results.growth = await measure_growth(
            results.growth_backend, args.db, turns=args.growth_turns
        )
    if args.db:
        levels = tuple(int(n) for n in args.load.split(","))
        results.load_backend = "postgres"
        with console.status(f"concurrent threads {levels} on Postgres..."):
            results.load = await measure_load("postgres", args.db, levels=levels)
    source = args.eval_results or newest_eval_results()
    if source is not None:
        results.costs, results.costs_source = turn_costs(source), str(source)
    else:
        console.print(
            "[yellow]no eval run with SHARDED and MEDIATOR found: run `mediator "
            "eval --settings SHARDED,MEDIATOR` first for calls and tokens[/yellow]"
        )
    with console.status("prompt tokens as answers get longer..."):
        results.prompt_ratios = [await measure_prompt_ratio(n) for n in (25, 100, 300, 600)]
    if not args.no_embedded:
        with console.status("embedded model: start, 5 mediated turns..."):
            results.embedded = await measure_embedded()
    await measure_first_tokens(args, console, results)
    results.seconds = time.perf_counter() - began
    write_benchmarks(results, args.out, args.plots)
    console.print(f"wrote {args.out} and {args.plots}/ in {results.seconds:.0f}s", markup=False)
    return 0


COMMAND = Command(
    name="bench",
    help="measure cost per turn against a bare assistant",
    description=__doc__,
    add_arguments=add_arguments,
    run=run_bench,
    preflight=require_plotting,
)
