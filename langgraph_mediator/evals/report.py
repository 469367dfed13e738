"""The benchmark's report: a markdown table per setting and family, and PNG plots.

Written to the run directory: ``report.md``, ``summary.json``,
``score_by_family.png`` (P per setting per task family), ``metrics.png``
(P / A90 / U90_10 bars per setting) and ``recovery.png`` (how much of the
FULL-to-SHARDED gap each mediated setting wins back).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from langgraph_mediator.evals.conversation import MEDIATED, ConversationResult, Setting
from langgraph_mediator.evals.metrics import (
    Intervals,
    SettingSummary,
    bootstrap_intervals,
    gap_recovery,
    runs_for_precision,
    summarize,
)
from langgraph_mediator.evals.plotting import label_chart, pyplot, save_figure


def summaries(
    results: Sequence[ConversationResult], settings: Sequence[str], families: bool = False
) -> dict[str, dict[str, SettingSummary]]:
    """``{family or "all": {setting: summary}}`` over the results given."""
    groups: dict[str, dict[str, list[ConversationResult]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        groups["all"][result.setting].append(result)
        if families:
            groups[result.group][result.setting].append(result)
    return {
        group: {s: summarize(s, by[s]) for s in settings if by.get(s)}
        for group, by in groups.items()
    }


def recoveries(table: dict[str, SettingSummary]) -> dict[str, float | None]:
    """Gap recovery of every mediated setting present, against FULL and SHARDED."""
    full, sharded = table.get(Setting.FULL), table.get(Setting.SHARDED)
    if full is None or sharded is None:
        return {}
    return {
        s: gap_recovery(full.performance, sharded.performance, table[s].performance)
        for s in table
        if s in MEDIATED
    }


FIDELITY_NOTE = (
    "Facts are numbers, quantities, quoted strings, identifiers and proper names, extracted "
    "by rule (`langgraph_mediator.facts`). Recall: facts of the revealed shards the "
    "final instruction states, less the task's stale facts; stale: corrected or withdrawn "
    "values it still states; invented: facts no user message gave; re-asked: questions "
    "about the same thing as an earlier one."
)


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.0f}%" if pct else f"{value:.1f}"


def markdown_table(table: dict[str, SettingSummary]) -> str:
    """One row per setting: quality, reliability and cost."""
    head = (
        "| setting | tasks | conv. | P | A90 | U90_10 | calls/turn | prompt tok/turn "
        "| turns/conv. | clarif. rate | errors | ctx overflow | judged |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {s.setting} | {s.tasks} | {s.conversations} | {s.performance:.1f} | "
        f"{s.aptitude:.1f} | {s.unreliability:.1f} | {s.calls_per_turn:.2f} | "
        f"{s.prompt_tokens_per_turn:.0f} | {s.turns_per_conversation:.1f} | "
        f"{100 * s.clarification_rate:.0f}% | {s.errors} | {s.context_overflows} | {s.judged} |"
        for s in table.values()
    ]
    return "\n".join([head, *rows])


def family_table(groups: dict[str, dict[str, SettingSummary]], settings: Sequence[str]) -> str:
    """P per task family (rows) and setting (columns)."""
    families = sorted(g for g in groups if g != "all")
    lines = ["| family | " + " | ".join(settings) + " |", "|---" * (len(settings) + 1) + "|"]
    for family in families:
        cells = [
            _fmt(groups[family][s].performance) if s in groups[family] else "-" for s in settings
        ]
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_family_scores(
    groups: dict[str, dict[str, SettingSummary]], settings: Sequence[str], path: Path
) -> None:
    """Grouped bars: P per family, one bar per setting."""
    plt = pyplot()
    families = sorted(g for g in groups if g != "all") or ["all"]
    width = 0.8 / max(len(settings), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(families)), 4))
    for i, setting in enumerate(settings):
        values = [groups[f][setting].performance if setting in groups[f] else 0 for f in families]
        ax.bar([x + i * width for x in range(len(families))], values, width, label=setting)
    ax.set_xticks([x + width * (len(settings) - 1) / 2 for x in range(len(families))], families)
    label_chart(
        ax, ylabel="P (mean score, 0-100)", top=100, title="Score per task family and setting"
    )
    save_figure(fig, path)


def plot_metrics(table: dict[str, SettingSummary], path: Path) -> None:
    """P, A90 and U90_10 per setting."""
    plt = pyplot()
    names = list(table)
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(names)), 4))
    for i, (label, attr) in enumerate(
        (("P", "performance"), ("A90", "aptitude"), ("U90_10", "unreliability"))
    ):
        values = [getattr(table[n], attr) for n in names]
        ax.bar([x + i * 0.27 for x in range(len(names))], values, 0.27, label=label)
    ax.set_xticks([x + 0.27 for x in range(len(names))], names, fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_title("Performance, aptitude and unreliability")
    ax.legend()
    save_figure(fig, path)


def plot_recovery(recovered: dict[str, float | None], path: Path) -> None:
    """Share of the FULL-SHARDED gap recovered by each mediated setting."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    names = list(recovered) or ["(needs FULL, SHARDED, MEDIATOR)"]
    values = [100 * (recovered.get(n) or 0.0) for n in names]
    ax.bar(names, values, color="tab:green")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("gap recovered (%)")
    ax.set_title("(MEDIATOR - SHARDED) / (FULL - SHARDED)")
    save_figure(fig, path)


def fidelity_table(groups: dict[str, dict[str, SettingSummary]]) -> str:
    """Instruction fidelity of each mediated setting, over all tasks and per family."""
    head = (
        "| family | setting | conv. | fact recall | stale/conv. | invented/conv. "
        "| questions/conv. | re-asked/conv. | no instruction |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for group, table in groups.items():
        for setting, summary in table.items():
            f = summary.fidelity
            if f is None:
                continue
            rows.append(
                f"| {group} | {setting} | {f.conversations} | {_fmt(f.fact_recall, pct=True)} "
                f"| {f.stale_per_conversation:.2f} | {f.invented_per_conversation:.2f} "
                f"| {f.questions_per_conversation:.2f} | {f.reasked_per_conversation:.2f} "
                f"| {f.without_instruction} |"
            )
    return head + "\n".join(rows) if rows else ""


def _span(interval: tuple[float, float], pct: bool = False) -> str:
    low, high = interval
    return f"[{_fmt(low, pct)}, {_fmt(high, pct)}]"


def interval_lines(intervals: Intervals, table: dict[str, SettingSummary], runs: int) -> list[str]:
    """The intervals table, the recovery with its interval or why it is not measurable.

    Also how many runs per task a P within +-5 points would take, when it is wider.
    """
    lines = ["| setting | P | A90 | U90_10 |", "|---|---|---|---|"]
    lines += [
        f"| {s} | " + " | ".join(_span(m[f]) for f in ("P", "A90", "U90_10")) + " |"
        for s, m in intervals.metrics.items()
    ]
    lines.append("")
    if intervals.gap is not None:
        gap = f"FULL - SHARDED = {_span(intervals.gap)} points"
        if intervals.recovery_measurable():
            lines.append(
                f"{gap}. Gap recovery: "
                + ", ".join(
                    f"{s} {_fmt(recoveries(table).get(s), pct=True)} {_span(iv, pct=True)}"
                    for s, iv in intervals.recovery.items()
                    if iv is not None
                )
                + "."
            )
        else:
            lines.append(
                f"{gap}: the gap is not clearly above zero, so a recovery is "
                "**not measurable** here: more tasks or runs are needed."
            )
    widths = [(m["P"][1] - m["P"][0]) / 2 for m in intervals.metrics.values()]
    if widths and max(widths) > 5:
        needed = runs_for_precision(max(widths), runs, 5.0)
        lines.append(
            f"P's widest interval is +-{max(widths):.1f} points with {runs} run(s) "
            f"per task; +-5 points would take about {needed} runs per task (or as many "
            "times more tasks, where the tasks are what varies)."
        )
    return [*lines, ""]


def overflow_lines(results: Sequence[ConversationResult]) -> list[str]:
    """Which tasks did not fit the model's context, per setting (nothing when all fit)."""
    by_setting: dict[str, set[str]] = defaultdict(set)
    for result in results:
        if result.outcome == "context_overflow":
            by_setting[result.setting].add(result.task_id)
    if not by_setting:
        return []
    lines = ["## Tasks that did not fit the model's context", ""]
    lines += [f"- {s}: {', '.join(sorted(ids))}" for s, ids in sorted(by_setting.items())]
    return [*lines, "", "They count as failures in P; a model with a longer context may pass.", ""]


def summary_markdown(
    results: Sequence[ConversationResult],
    settings: Sequence[str],
    header: dict[str, Any],
    *,
    title: str = "",
) -> str:
    """The report's head: the run's header, the all-tasks table and the gap recovery.

    What ``mediator eval`` prints when a run ends; :func:`write_report` opens
    ``report.md`` with the same text.
    """
    overall = summaries(results, settings).get("all", {})
    intervals = bootstrap_intervals(
        results, settings, mediated=[s for s in settings if s in MEDIATED]
    )
    runs = max((r.run for r in results), default=0) + 1
    lines = [f"# Sharded-conversation benchmark: {header.get('run', title)}", ""]
    lines += [f"- **{k}**: {v}" for k, v in header.items()]
    lines += ["", "## All tasks", "", markdown_table(overall), ""]
    lines += [f"## 95% intervals (bootstrap over tasks and runs, {intervals.resamples} draws)", ""]
    lines += interval_lines(intervals, overall, runs)
    return "\n".join(lines)


def write_report(
    out_dir: Path,
    results: Sequence[ConversationResult],
    settings: Sequence[str],
    *,
    header: dict[str, Any],
    extra_sections: Sequence[str] = (),
) -> Path:
    """Write report.md, summary.json and the plots; return the report's path."""
    groups = summaries(results, settings, families=True)
    overall = groups.get("all", {})
    recovered = recoveries(overall)
    plot_family_scores(groups, list(overall), out_dir / "score_by_family.png")
    plot_metrics(overall, out_dir / "metrics.png")
    plot_recovery(recovered, out_dir / "recovery.png")
    lines = [summary_markdown(results, settings, header, title=out_dir.name)]
    lines += overflow_lines(results)
    lines += ["## P per task family", "", family_table(groups, list(overall)), ""]
    fidelity = fidelity_table(groups)
    if fidelity:
        lines += ["## Instruction fidelity (final instruction vs the shards)", "", fidelity, ""]
        lines += [FIDELITY_NOTE, ""]
    lines += [*extra_sections]
    lines += [
        "",
        "![score by family](score_by_family.png)",
        "![metrics](metrics.png)",
        "![recovery](recovery.png)",
        "",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    summary = {g: {s: asdict(v) for s, v in t.items()} for g, t in groups.items()}
    (out_dir / "summary.json").write_text(
        json.dumps({"header": header, "summary": summary, "recovery": recovered}, indent=1)
    )
    return path
