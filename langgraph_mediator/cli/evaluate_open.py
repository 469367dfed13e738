"""``mediator eval --tasks open``: the open-conversation family, and its report.

    mediator eval --tasks open --runs 1 --offline
    mediator eval --tasks open --settings BARE,MEDIATOR --families user_fact --limit 5

Plays every conversation of the open family (:mod:`langgraph_mediator.evals.open_family`)
in each setting, each setting a LangSmith experiment (offline unless
``LANGSMITH_API_KEY`` is set and ``--offline`` is not given), then writes
``<out>/<run>/conversations.jsonl`` (one line per played conversation),
``open.md``, ``open.json`` and ``open.png``. Model responses are cached by
request, as for the sharded benchmark.
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape

from langgraph_mediator.cli.common import EXIT_ERROR
from langgraph_mediator.cli.eval_setup import (
    experiments_line,
    prepared,
    print_report,
    report_header,
)
from langgraph_mediator.evals.benchmark import langsmith_upload_enabled
from langgraph_mediator.evals.conversation import is_unreachable
from langgraph_mediator.evals.open_experiments import OpenExperiments
from langgraph_mediator.evals.open_family import OpenResult, OpenSetting
from langgraph_mediator.evals.open_report import write_open_report
from langgraph_mediator.evals.open_tasks import OPEN_AXES, OpenConversation, load_open_conversations


def parse_open_settings(text: str | None) -> list[OpenSetting]:
    """``BARE,MEDIATOR`` -> settings (default: all); a clear exit naming the valid ones."""
    if not text:
        return list(OpenSetting)
    chosen = []
    for name in (n.strip().upper() for n in text.split(",") if n.strip()):
        try:
            chosen.append(OpenSetting(name))
        except ValueError:
            valid = ", ".join(s.value for s in OpenSetting)
            raise SystemExit(
                f"unknown setting {name!r} for --tasks open; choose from {valid}"
            ) from None
    return chosen


def select_conversations(args: argparse.Namespace) -> list[OpenConversation]:
    """The conversations ``--families`` (axes) and ``--limit`` choose; a clear exit if none."""
    axes = [a.strip() for a in args.families.split(",")] if args.families else None
    unknown = sorted(set(axes or []) - set(OPEN_AXES))
    if unknown:
        raise SystemExit(f"unknown axis {', '.join(unknown)}; choose from {', '.join(OPEN_AXES)}")
    conversations = load_open_conversations(axes=axes, limit=args.limit)
    if not conversations:
        raise SystemExit("no open conversations selected")
    return conversations


def _line(result: OpenResult) -> str:
    verdict = "-" if result.passed is None else ("pass" if result.passed else "fail")
    carried = f"{len(result.needed) - len(result.missing)}/{len(result.needed)}"
    error = f" error: {result.error[:120]}" if result.error else ""
    return f"  {result.setting} {result.conversation_id}: needed {carried}, judge {verdict}{error}"


async def run_open(args: argparse.Namespace, console: Console) -> int:
    """Play the open family, write its report; return an exit code.

    Each conversation is written to ``conversations.jsonl`` as it finishes, so
    a run stopped halfway keeps what it played (a rerun replays it from the
    response cache).
    """
    settings = parse_open_settings(args.settings)
    conversations = select_conversations(args)
    ids = [c.conversation_id for c in conversations]
    async with prepared(args, ids, prefix="open-") as ready:
        out_dir = args.out / ready.run_name
        out_dir.mkdir(parents=True, exist_ok=True)
        console.print(
            f"[bold]open family[/]: {len(conversations)} conversations x {args.runs} runs · "
            f"settings {', '.join(settings)} · model {escape(ready.model)} · results in "
            f"{escape(str(out_dir))}"
        )
        with (out_dir / "conversations.jsonl").open("w", encoding="utf-8") as lines:

            def record(result: OpenResult) -> None:
                lines.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
                lines.flush()
                console.print(escape(_line(result)), highlight=False)

            experiments = OpenExperiments(
                ready.env,
                conversations,
                settings,
                args.runs,
                ready.run_name,
                concurrency=args.concurrency,
                upload=langsmith_upload_enabled(args.offline),
                on_result=record,
            )
            results = await experiments.run()
    if results and all(is_unreachable(r.error) for r in results):
        console.print(f"[bold red]error:[/] {escape(results[0].error or '')}")
        return EXIT_ERROR
    played = {"endpoint": ready.endpoint, "conversations": len(conversations)}
    details = {
        "judge": args.judge_model or ready.model,
        "experiments": experiments_line(experiments.experiments),
    }
    header = report_header(args, ready, played, details)
    print_report(console, write_open_report(out_dir, results, [str(s) for s in settings], header))
    failed = [r for r in results if r.outcome == "failed"]
    if failed:
        console.print(f"[bold red]{len(failed)} conversation(s) failed at the model endpoint[/]")
    return 1 if failed else 0
