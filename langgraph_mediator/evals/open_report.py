"""The open family's report: per setting and axis, needed facts carried and rubric passes.

Each figure is a mean over conversations (and runs) with its 95% bootstrap
interval; the draw resamples conversations, the same draw for every setting,
so settings compare paired. ``open.md``, ``open.json`` and ``open.png`` are
written next to the results.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from langgraph_mediator.evals.metrics import Interval, percentile
from langgraph_mediator.evals.open_family import OpenResult
from langgraph_mediator.evals.open_tasks import OPEN_AXES
from langgraph_mediator.evals.plotting import label_chart, pyplot, save_figure

ALL_AXES = "all"


@dataclass(frozen=True)
class OpenFigure:
    """One (setting, axis) cell of the report."""

    setting: str
    axis: str
    conversations: int
    carried: float
    """Mean share of needed strings the final input held (0-1)."""
    carried_interval: Interval
    all_carried: float
    """Share of conversations whose final input held every needed string."""
    stale: float
    """Mean count of stale strings the final input held."""
    judged: int
    passed: float | None
    """Share of judged answers that passed the rubric (``None``: none judged)."""
    passed_interval: Interval | None
    errors: int


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def bootstrap_mean(
    values_by_key: dict[str, list[float]], rng: random.Random, resamples: int
) -> Interval:
    """95% interval of the mean over keys (conversations), each key's values averaged."""
    keys = sorted(values_by_key)
    if not keys:
        return (0.0, 0.0)
    means = {k: _mean(values_by_key[k]) for k in keys}
    draws = [_mean([means[rng.choice(keys)] for _ in keys]) for _ in range(resamples)]
    return percentile(draws, 2.5), percentile(draws, 97.5)


def _per_conversation(
    results: Sequence[OpenResult], value: Callable[[OpenResult], float | None]
) -> dict[str, list[float]]:
    found: dict[str, list[float]] = defaultdict(list)
    for result in results:
        figure = value(result)
        if figure is not None:
            found[result.conversation_id].append(figure)
    return found


def open_figure(
    setting: str, axis: str, results: Sequence[OpenResult], *, resamples: int = 2000, seed: int = 0
) -> OpenFigure:
    """The figures of one setting over ``results`` (already filtered to one axis or all)."""
    scored = [r for r in results if r.outcome != "failed"]
    carried = _per_conversation(scored, lambda r: r.carried)
    passed = _per_conversation(scored, lambda r: None if r.passed is None else float(r.passed))
    judged = sum(len(v) for v in passed.values())
    return OpenFigure(
        setting=setting,
        axis=axis,
        conversations=len(carried),
        carried=_mean([_mean(v) for v in carried.values()]),
        carried_interval=bootstrap_mean(carried, random.Random(seed), resamples),
        all_carried=_mean([float(not r.missing) for r in scored]),
        stale=_mean([len(r.stale) for r in scored]),
        judged=judged,
        passed=_mean([_mean(v) for v in passed.values()]) if judged else None,
        passed_interval=bootstrap_mean(passed, random.Random(seed), resamples) if judged else None,
        errors=sum(r.error is not None for r in results),
    )


def open_figures(results: Sequence[OpenResult], settings: Sequence[str]) -> list[OpenFigure]:
    """Every setting over all axes, then over each axis that has results."""
    figures = []
    for axis in (ALL_AXES, *OPEN_AXES):
        for setting in settings:
            chosen = [r for r in results if r.setting == setting and axis in (ALL_AXES, r.axis)]
            if chosen:
                figures.append(open_figure(setting, axis, chosen))
    return figures


def _pct(value: float, interval: Interval | None = None) -> str:
    text = f"{100 * value:.0f}%"
    return f"{text} [{100 * interval[0]:.0f}, {100 * interval[1]:.0f}]" if interval else text


def open_table(figures: Sequence[OpenFigure]) -> str:
    """The report's table: one row per (axis, setting)."""
    lines = [
        "| axis | setting | conversations | needed carried [95% CI] | all carried | stale held "
        "| passed [95% CI] (judged) | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        passed = (
            f"{_pct(f.passed, f.passed_interval)} ({f.judged})" if f.passed is not None else "-"
        )
        lines.append(
            f"| {f.axis} | {f.setting} | {f.conversations} | {_pct(f.carried, f.carried_interval)} "
            f"| {_pct(f.all_carried)} | {f.stale:.2f} | {passed} | {f.errors} |"
        )
    return "\n".join(lines)


def plot_open(figures: Sequence[OpenFigure], settings: Sequence[str], path: Path) -> None:
    """Needed facts carried per axis, one bar per setting, with its 95% interval."""
    plt = pyplot()
    axes = list(dict.fromkeys(f.axis for f in figures))
    width = 0.8 / max(1, len(settings))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(axes)), 4))
    for i, setting in enumerate(settings):
        cells = {f.axis: f for f in figures if f.setting == setting}
        xs = [x + i * width for x, axis in enumerate(axes) if axis in cells]
        shown = [cells[a] for a in axes if a in cells]
        values = [100 * f.carried for f in shown]
        low = [v - 100 * f.carried_interval[0] for v, f in zip(values, shown, strict=True)]
        high = [100 * f.carried_interval[1] - v for v, f in zip(values, shown, strict=True)]
        errors = [low, high]
        ax.bar(xs, values, width, yerr=errors, capsize=2, label=setting)
    ax.set_xticks(
        [x + width * (len(settings) - 1) / 2 for x in range(len(axes))],
        axes,
        fontsize=8,
        rotation=15,
    )
    label_chart(
        ax,
        ylabel="needed facts in the final input (%)",
        top=105,
        title="Open conversations: what the last answer needs, reaching the Assistant",
    )
    save_figure(fig, path)


def write_open_report(
    out_dir: Path, results: Sequence[OpenResult], settings: Sequence[str], header: dict[str, Any]
) -> Path:
    """Write ``open.md``, ``open.json`` and ``open.png`` into ``out_dir``; return the markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = open_figures(results, settings)
    plot_open(figures, settings, out_dir / "open.png")
    lines = ["# Open conversations", ""]
    lines += [f"- {k}: {v}" for k, v in header.items()]
    lines += [
        "",
        "Needed carried: the share of each conversation's needed strings that the "
        "Assistant's final input holds (deterministic). Stale held: strings the user "
        "withdrew or rejected that it still states as the user's word (an old answer "
        "quoted whole is not). Passed: the judge's verdict on the rubric question, about "
        "the final answer. Means over conversations with 95% bootstrap intervals.",
        "",
        open_table(figures),
        "",
        "![open](open.png)",
    ]
    path = out_dir / "open.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = {"header": header, "figures": [asdict(f) for f in figures]}
    (out_dir / "open.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path
