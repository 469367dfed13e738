"""Run the fault and load suite and write RELIABILITY.md (``python scripts/reliability.py``).

It runs ``tests/reliability`` (marker ``reliability``), ``tests/server``
(marker ``server``: guideline isolation, poisoning and the attacks of one
user on another end to end through ``langgraph dev`` with auth on) and
``tests/multi_instance`` (two langhost instances on Postgres and Redis: load,
and SIGKILL of the instance running a turn) with
``RELIABILITY_FIGURES`` pointing at a scratch file,
then writes one row per case: what was done, whether it held, and the figures
the test measured (threads, errors, lost items, throughput, recovery time).
The multi-instance rows (those naming an ``engine``) also become the serving
section of BENCHMARKS.md, which ``mediator bench`` carries over when it
rewrites the rest of that file.
Needs Postgres (``MEDIATOR_TEST_POSTGRES_URL``, default the local ``test``
database). Exits with pytest's code, so a failing case fails the script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

from langgraph_mediator.evals.bench.report import SERVING_BEGIN, SERVING_END, with_marked_block

ROOT = Path(__file__).resolve().parents[1]
SUITES = ["tests/reliability", "tests/server", "tests/multi_instance"]


def run_suite(figures: Path, junit: Path, extra: list[str]) -> int:
    """Run the suites; return pytest's exit code."""
    env = {**os.environ, "RELIABILITY_FIGURES": str(figures)}
    markers = "reliability or server or multi_instance"
    # One command line, as it would be typed: off the formatter, each flag beside its value.
    command = [sys.executable, "-m", "pytest", "-q", "-m", markers,
               f"--junitxml={junit}", *SUITES, *extra]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def outcomes(junit: Path) -> dict[str, tuple[str, float]]:
    """Test node id -> (passed / failed / skipped, seconds), from pytest's JUnit XML."""
    results: dict[str, tuple[str, float]] = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        path = case.get("classname", "").replace(".", "/")
        node = f"{path}.py::{case.get('name')}"
        failed = case.find("failure") is not None or case.find("error") is not None
        status = "failed" if failed else "skipped" if case.find("skipped") is not None else "passed"
        results[node] = (status, float(case.get("time", 0.0)))
    return results


def figure_cells(row: dict[str, Any]) -> str:
    """One case's figures as ``name = value`` pairs."""
    shown = {k: v for k, v in row.items() if k not in {"case", "test", "at"}}
    return ", ".join(f"{k.replace('_', ' ')} = {v}" for k, v in shown.items())


def attack_lines(attacks: list[dict[str, Any]], results: dict[str, tuple[str, float]]) -> list[str]:
    """The attack table: each attack against the server, and the totals (the target is 0)."""
    tried = sum(int(row.get("tried", 1)) for row in attacks)
    succeeded = sum(int(row.get("succeeded", 0)) for row in attacks)
    lines = [
        "## Attacks on the server (`langgraph dev` and the Postgres-backed instances, auth on)",
        "",
        f"**attacks tried: {tried}; attacks that succeeded: {succeeded}** (the target is 0). "
        "Each row is one test of `tests/server` (`test_server_security.py`, and "
        "`test_door_attacks.py`: the attacks of `tests/door_attacks.py` on `langgraph dev`) or "
        "`tests/multi_instance` (the same attacks on each engine); an attack that succeeded "
        "fails its test.",
        "",
        "| attack | result | tried | succeeded | figures |",
        "|---|---|---|---|---|",
    ]
    for row in attacks:
        status = results.get(row["test"], ("not run", 0.0))[0]
        rest = {k: v for k, v in row.items() if k not in {"attack", "tried", "succeeded"}}
        counts = f"{row.get('tried', 1)} | {row.get('succeeded', 0)}"
        name = row["case"].removeprefix("attack: ")
        lines.append(f"| {name} | {status} | {counts} | {figure_cells(rest)} |")
    return [*lines, ""]


def render(
    figures: list[dict[str, Any]], results: dict[str, tuple[str, float]], code: int, minutes: float
) -> str:
    """The markdown of RELIABILITY.md."""
    attacks = [row for row in figures if row.get("attack")]
    figures = [row for row in figures if not row.get("attack")]
    lines = [
        "# Reliability: the fault and load suite",
        "",
        "Written by `.venv/bin/python scripts/reliability.py` (it runs `tests/reliability`, "
        "`tests/server` and `tests/multi_instance`; CI runs the same tests through the "
        "README's test command).",
        "",
        f"- **when**: {when_and_where()}",
        f"- **pytest exit code**: {code}; **run time**: {minutes:.1f} min",
        "",
        *attack_lines(attacks, results),
        "## Cases and what was measured",
        "",
        "| case | result | figures |",
        "|---|---|---|",
    ]
    for row in figures:
        status = results.get(row["test"], ("not run", 0.0))[0]
        lines.append(f"| {row['case']} | {status} | {figure_cells(row)} |")
    lines += ["", "## Every test", "", "| test | result | seconds |", "|---|---|---|"]
    for node, (status, seconds) in sorted(results.items()):
        lines.append(f"| `{node}` | {status} | {seconds:.2f} |")
    return "\n".join(lines) + "\n"


def when_and_where() -> str:
    """The time of writing and the machine, as the reports say them."""
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()})"
    )


def figure(rows: list[dict[str, Any]], case_starts: str, key: str) -> Any:
    """``key`` of the first row whose case starts with ``case_starts`` ("-" when none)."""
    return next((r[key] for r in rows if r["case"].startswith(case_starts) and key in r), "-")


def serving_summary(rows: list[dict[str, Any]]) -> list[str]:
    """One row per engine: throughput with 1 and 2 instances, recovery, lost and duplicated."""
    lines = [
        "| engine | turns/s, 1 instance | turns/s, 2 instances | scaling ratio | recovery after "
        "SIGKILL mid Mediator call (s) | mid Assistant call (s) | lost / duplicated turns |",
        "|---|---|---|---|---|---|---|",
    ]
    for engine in dict.fromkeys(row["engine"] for row in rows):
        mine = [row for row in rows if row["engine"] == engine]
        kills = [row for row in mine if row["case"].startswith("SIGKILL")]
        lost = sum(int(row.get("lost_turns", 0)) for row in kills)
        duplicated = sum(int(row.get("duplicated_turns", 0)) for row in kills)
        lines.append(
            f"| {engine} | {figure(mine, 'throughput', 'one_instance_turns_per_second')} "
            f"| {figure(mine, 'throughput', 'two_instances_turns_per_second')} "
            f"| {figure(mine, 'throughput', 'scaling_ratio')} "
            f"| {figure(mine, 'SIGKILL of the instance mid mediator', 'recovery_seconds')} "
            f"| {figure(mine, 'SIGKILL of the instance mid assistant', 'recovery_seconds')} "
            f"| {lost} / {duplicated} |"
        )
    return lines


def serving_section(figures: list[dict[str, Any]], results: dict[str, tuple[str, float]]) -> str:
    """BENCHMARKS.md's serving section: the multi-instance figures, each row naming its engine."""
    rows = [row for row in figures if row.get("engine") and not row.get("attack")]
    lines = [
        SERVING_BEGIN,
        "## Serving on Postgres and Redis (several instances, scripted stub model)",
        "",
        f"Written by `.venv/bin/python scripts/reliability.py` on {when_and_where()} from "
        "`tests/multi_instance`: each instance is a server process on one shared Postgres "
        "database and Redis; the model is the instant scripted stub, so the figures time "
        "the server, the queue and the graphs on this machine's 2 cores, which the "
        "instances, Postgres, Redis and the test client share. Recovery is from SIGKILL "
        "of the instance to the run's completion on the survivor; the settings that "
        "govern it are in each SIGKILL row below (docs/deployment.md explains them).",
        "",
        *serving_summary(rows),
        "",
        "| engine | case | result | figures |",
        "|---|---|---|---|",
    ]
    for row in rows:
        status = results.get(row["test"], ("not run", 0.0))[0]
        rest = {k: v for k, v in row.items() if k != "engine"}
        lines.append(f"| {row['engine']} | {row['case']} | {status} | {figure_cells(rest)} |")
    if not rows:
        lines.append("| - | no multi-instance case ran | - | - |")
    return "\n".join([*lines, SERVING_END])


def main(argv: list[str] | None = None) -> int:
    """Run the suites, write the report, return pytest's exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "RELIABILITY.md")
    parser.add_argument(
        "--benchmarks",
        type=Path,
        default=ROOT / "BENCHMARKS.md",
        help="the file whose serving section is rewritten",
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        figures_path, junit = Path(scratch) / "figures.jsonl", Path(scratch) / "junit.xml"
        began = time.monotonic()
        code = run_suite(figures_path, junit, args.pytest_args)
        minutes = (time.monotonic() - began) / 60
        figures = (
            [json.loads(line) for line in figures_path.read_text().splitlines() if line.strip()]
            if figures_path.exists()
            else []
        )
        results = outcomes(junit) if junit.exists() else {}
    args.out.write_text(render(figures, results, code, minutes), encoding="utf-8")
    if any(row.get("engine") for row in figures):
        old = args.benchmarks.read_text(encoding="utf-8") if args.benchmarks.exists() else ""
        new = with_marked_block(old, serving_section(figures, results))
        args.benchmarks.write_text(new, encoding="utf-8")
    print(f"wrote {args.out} ({len(figures)} measured cases, pytest exit code {code})")
    return code


if __name__ == "__main__":
    sys.exit(main())
