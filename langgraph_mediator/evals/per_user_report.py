"""The per-user report: per persona, P in each setting, the gain of OWN, the harm of OTHER.

Written to the run directory: ``per_user.md``, ``per_user.json`` and
``per_user.png``. Scores are 0-100; differences are paired (the same test
tasks, each drawn the same way for both settings) with 95% bootstrap
intervals, so a gain whose interval spans 0 is not a gain.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from langgraph_mediator.evals.conversation import ConversationResult
from langgraph_mediator.evals.metrics import (
    FidelitySummary,
    Interval,
    bootstrap_intervals,
    percentile,
    summarize,
)
from langgraph_mediator.evals.per_user import OTHER, OWN, POOLED, USER_SETTINGS, PerUserRun
from langgraph_mediator.evals.plotting import label_chart, pyplot, save_figure

MEDIATOR = USER_SETTINGS[0]


def _task_means(results: Sequence[ConversationResult], setting: str) -> dict[str, float]:
    by_task: dict[str, list[float]] = defaultdict(list)
    for r in results:
        if r.setting == setting:
            by_task[r.task_id].append(100 * r.score)
    return {t: sum(s) / len(s) for t, s in by_task.items()}


def paired_difference(
    results: Sequence[ConversationResult],
    setting: str,
    baseline: str,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, Interval] | None:
    """``setting`` minus ``baseline`` in points over their shared tasks, with a 95% interval.

    ``None`` when they share no task. Tasks are resampled, the same draw for both.
    """
    ours, theirs = _task_means(results, setting), _task_means(results, baseline)
    shared = sorted(set(ours) & set(theirs))
    if not shared:
        return None
    differences = [ours[t] - theirs[t] for t in shared]
    rng = random.Random(seed)
    draws = [sum(rng.choice(differences) for _ in shared) / len(shared) for _ in range(resamples)]
    return sum(differences) / len(shared), (percentile(draws, 2.5), percentile(draws, 97.5))


@dataclass(frozen=True)
class PersonaRow:
    """One persona's figures."""

    persona: str
    habit: str
    conversations: dict[str, int]
    performance: dict[str, float]
    intervals: dict[str, Interval]
    gain: tuple[float, Interval] | None
    """OWN - MEDIATOR."""
    harm: tuple[float, Interval] | None
    """OTHER - MEDIATOR (below 0: the other user's guidelines hurt)."""
    pooled: tuple[float, Interval] | None
    """POOLED - MEDIATOR."""
    fidelity: dict[str, FidelitySummary | None]


def persona_rows(run: PerUserRun) -> list[PersonaRow]:
    """The table's rows, one per persona."""
    rows = []
    for persona in run.personas:
        results = run.results(persona)
        by_setting = {s: [r for r in results if r.setting == s] for s in USER_SETTINGS}
        present = [s for s in USER_SETTINGS if by_setting[s]]
        summary = {s: summarize(s, by_setting[s]) for s in present}
        intervals = bootstrap_intervals(results, present).metrics
        rows.append(
            PersonaRow(
                persona=persona.name,
                habit=persona.habit,
                conversations={s: len(by_setting[s]) for s in present},
                performance={s: summary[s].performance for s in present},
                intervals={s: intervals[s]["P"] for s in present if s in intervals},
                gain=paired_difference(results, OWN, MEDIATOR),
                harm=paired_difference(results, OTHER, MEDIATOR),
                pooled=paired_difference(results, POOLED, MEDIATOR),
                fidelity={s: summary[s].fidelity for s in present},
            )
        )
    return rows


def _difference(value: tuple[float, Interval] | None) -> str:
    if value is None:
        return "-"
    mean, (low, high) = value
    return f"{mean:+.1f} [{low:+.1f}, {high:+.1f}]"


def _p(row: PersonaRow, setting: str) -> str:
    if setting not in row.performance:
        return "-"
    low, high = row.intervals.get(setting, (row.performance[setting],) * 2)
    return f"{row.performance[setting]:.1f} [{low:.0f}, {high:.0f}]"


def _fidelity(summary: FidelitySummary | None) -> str:
    if summary is None or summary.fact_recall is None:
        return "-"
    return (
        f"{100 * summary.fact_recall:.0f}% / {summary.stale_per_conversation:.1f} / "
        f"{summary.invented_per_conversation:.1f}"
    )


def persona_table(rows: Sequence[PersonaRow]) -> str:
    """P per setting with intervals, the three paired differences and OWN's fidelity."""
    head = (
        "| persona | P MEDIATOR | P OWN | P OTHER | P POOLED | gain (OWN-MED) | harm (OTHER-MED) "
        "| POOLED-MED | fidelity MED | fidelity OWN |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [
        f"| {r.persona} | {_p(r, MEDIATOR)} | {_p(r, OWN)} | {_p(r, OTHER)} | {_p(r, POOLED)} "
        f"| {_difference(r.gain)} | {_difference(r.harm)} | {_difference(r.pooled)} "
        f"| {_fidelity(r.fidelity.get(MEDIATOR))} | {_fidelity(r.fidelity.get(OWN))} |"
        for r in rows
    ]
    return "\n".join([head, *lines])


def refiner_table(run: PerUserRun) -> str:
    """The Refiner's cost per user: calls and tokens, in all and per learned guideline."""
    head = (
        "| user | trajectories | guidelines | refused | calls | tokens | calls/guideline "
        "| tokens/guideline | error |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = []
    for name, learned in run.learned.items():
        tokens = learned.prompt_tokens + learned.completion_tokens
        count = len(learned.guidelines)
        per = f"{learned.calls / count:.1f} | {tokens / count:.0f}" if count else "- | -"
        error = (learned.error or "").replace("|", "/")[:120]
        # A Refiner that stopped took its usage records with it: unknown, not zero.
        cost = "- | -" if learned.error else f"{learned.calls} | {tokens}"
        lines.append(
            f"| {name} | {learned.trajectories} | {count} | {learned.rejected} | "
            f"{cost} | {per} | {error} |"
        )
    note = "\n\nA Refiner that stopped (error) is not costed: its calls were lost with it."
    return "\n".join([head, *lines]) + (note if any(v.error for v in run.learned.values()) else "")


def hygiene_table(run: PerUserRun) -> str:
    """Each persona's rules on re-evaluation: paired gain, and kept or retired with why."""
    head = "| persona | rule | paired | gain (points) | verdict |\n|---|---|---|---|---|"
    lines = []
    for name, verdicts in run.hygiene.items():
        for v in verdicts:
            gain = "-" if v.gain is None else f"{100 * v.gain:+.1f}"
            verdict = f"retired: {v.retired}" if v.retired else "kept"
            text = v.text.replace("|", "/")[:100]
            lines.append(f"| {name} | {v.guideline_id}: {text} | {v.paired} | {gain} | {verdict} |")
    return "\n".join([head, *lines]) if lines else "(no persona had a rule to re-evaluate)"


def plot_personas(rows: Sequence[PersonaRow], path: Path) -> None:
    """P per persona, one bar per setting, with its 95% interval."""
    plt = pyplot()
    width = 0.8 / len(USER_SETTINGS)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 * len(rows)), 4))
    for i, setting in enumerate(USER_SETTINGS):
        xs = [x + i * width for x in range(len(rows))]
        values = [r.performance.get(setting, 0.0) for r in rows]
        spans = [r.intervals.get(setting, (v, v)) for r, v in zip(rows, values, strict=True)]
        errors = [
            [v - lo for v, (lo, _) in zip(values, spans, strict=True)],
            [hi - v for v, (_, hi) in zip(values, spans, strict=True)],
        ]
        ax.bar(xs, values, width, yerr=errors, capsize=2, label=setting)
    ax.set_xticks(
        [x + width * 1.5 for x in range(len(rows))],
        [r.persona for r in rows],
        fontsize=8,
        rotation=15,
    )
    label_chart(
        ax,
        ylabel="P (mean score, 0-100)",
        top=100,
        title="Per persona: no guidelines, its own, another's, pooled",
    )
    save_figure(fig, path)


def write_per_user_report(run: PerUserRun, header: dict[str, Any]) -> Path:
    """Write ``per_user.md``, ``per_user.json`` and ``per_user.png``; return the markdown's path."""
    rows = persona_rows(run)
    run.out_dir.mkdir(parents=True, exist_ok=True)
    plot_personas(rows, run.out_dir / "per_user.png")
    lines = ["# Per-user run", ""]
    lines += [f"- {k}: {v}" for k, v in header.items()]
    lines += [
        "",
        f"Training tasks: {len(run.train)}; test tasks: {len(run.test)}. P is the "
        "mean score (0-100) on the test split with its 95% bootstrap interval; "
        "differences are paired over the test tasks. Fidelity of the final instruction: "
        "fact recall / stale per conversation / invented per conversation.",
        "",
        persona_table(rows),
        "",
        "## Habits",
        "",
    ]
    lines += [f"- **{r.persona}**: {r.habit}" for r in rows]
    lines += ["", "## The Refiner's cost", "", refiner_table(run), "", "## Guidelines learned", ""]
    for name, learned in run.learned.items():
        lines.append(f"- **{name}**: " + ("; ".join(learned.guidelines) or "(none)"))
    if run.retire:
        lines += [
            "",
            "## Guideline hygiene",
            "",
            "Each rule against its set less that rule "
            "on the test split (paired by conversation); a rule without a gain above "
            f"{100 * run.min_gain:+.1f} points is retired as a new version.",
            "",
            hygiene_table(run),
        ]
    path = run.out_dir / "per_user.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = {
        "header": header,
        "train_tasks": [t.task_id for t in run.train],
        "test_tasks": [t.task_id for t in run.test],
        "personas": [asdict(r) for r in rows],
        "learned": {k: v.to_json() for k, v in run.learned.items()},
        "hygiene": {k: [asdict(v) for v in vs] for k, vs in run.hygiene.items()},
    }
    (run.out_dir / "per_user.json").write_text(json.dumps(data, indent=1) + "\n", "utf-8")
    return path
