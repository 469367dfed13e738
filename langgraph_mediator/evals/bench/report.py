"""BENCHMARKS.md, its plots and results.json from one benchmark run, with the targets."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langgraph_mediator.evals.bench.graphs import GrowthPoint, LoadPoint, Overhead
from langgraph_mediator.evals.bench.instant import InstantChatModel
from langgraph_mediator.evals.bench.latency import (
    FirstToken,
    MediatorTime,
    floor_ratio,
    summary_rows,
)
from langgraph_mediator.evals.bench.models import EmbeddedSpeed, TurnCost
from langgraph_mediator.evals.bench.prompts import PromptRatio
from langgraph_mediator.evals.plotting import pyplot, save_figure
from langgraph_mediator.graphs.mediator import build_mediator_builder

MAX_CALLS_PER_TURN = 2.0
MAX_PROMPT_RATIO = 1.5
MAX_OVERHEAD_RATIO = 1.5
MAX_GROWTH_RATIO = 1.5
"""The last 10 turns of the long thread may cost at most this multiple of the first 10."""
MAX_FIRST_TOKEN_RATIO = 1.5
"""Time to the answer's first token, mediated, at most this multiple of the bare assistant's."""


@dataclass
class BenchResults:
    """Everything one ``mediator bench`` run measured."""

    overhead: list[Overhead] = field(default_factory=list)
    growth: list[GrowthPoint] = field(default_factory=list)
    growth_backend: str = ""
    load: list[LoadPoint] = field(default_factory=list)
    load_backend: str = ""
    costs: list[TurnCost] = field(default_factory=list)
    costs_source: str = ""
    embedded: EmbeddedSpeed | None = None
    prompt_ratios: list[PromptRatio] = field(default_factory=list)
    first_token: list[FirstToken] = field(default_factory=list)
    seconds: float = 0.0

    def growth_ratio(self, kind: str = "mediator") -> float | None:
        """Median turn time of the last 10 turns over the first 10 (``None`` under 20 turns)."""
        times: list[float] = [
            getattr(p, f"{kind}_seconds") for p in sorted(self.growth, key=lambda p: p.turn)
        ]
        if len(times) < 20:
            return None
        return statistics.median(times[-10:]) / statistics.median(times[:10])

    def cost(self, setting: str) -> TurnCost | None:
        """The per-turn cost measured for ``setting``, if any."""
        return next((c for c in self.costs if c.setting == setting), None)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A markdown table, one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def targets_table(results: BenchResults) -> list[str]:
    """The targets of the issue, each beside the figure measured."""
    rows: list[tuple[str, str, str]] = []
    mediator, bare = results.cost("MEDIATOR"), results.cost("SHARDED")
    if mediator and bare:
        ratio = mediator.prompt_tokens_per_turn / bare.prompt_tokens_per_turn
        rows.append(
            (
                f"model calls per turn <= {MAX_CALLS_PER_TURN}",
                f"{mediator.calls_per_turn:.2f}",
                _verdict(mediator.calls_per_turn <= MAX_CALLS_PER_TURN),
            )
        )
        rows.append(
            (
                f"prompt tokens <= {MAX_PROMPT_RATIO}x the bare assistant's",
                f"{ratio:.2f}x",
                _verdict(ratio <= MAX_PROMPT_RATIO),
            )
        )
    for o in results.overhead:
        rows.append(
            (
                f"graph overhead <= {MAX_OVERHEAD_RATIO}x bare ({o.backend})",
                f"{o.ratio:.2f}x",
                _verdict(o.ratio <= MAX_OVERHEAD_RATIO),
            )
        )
    growth = results.growth_ratio()
    if growth is not None:
        rows.append(
            (
                f"flat cost over {len(results.growth)} turns (last 10 <= "
                f"{MAX_GROWTH_RATIO}x first 10, {results.growth_backend})",
                f"{growth:.2f}x",
                _verdict(growth <= MAX_GROWTH_RATIO),
            )
        )
    for r in results.first_token:
        target = f"time to first token <= {MAX_FIRST_TOKEN_RATIO}x bare ({r.source})"
        verdict = _verdict(r.ratio() <= MAX_FIRST_TOKEN_RATIO)
        rows.append((target, f"{r.ratio():.2f}x", verdict if r.mediator_time else "reported"))
    return table(("target", "measured", ""), rows)


def overhead_table(results: BenchResults) -> list[str]:
    """Median and p90 turn times of both graphs per checkpointer."""

    def row(o: Overhead) -> tuple[object, ...]:
        p90 = [statistics.quantiles(x, n=10)[-1] for x in (o.mediator, o.bare)]
        shape = _ms(statistics.median(o.shape)) if o.shape else "-"
        floor = f"{o.floor_ratio:.2f}x" if o.floor_ratio is not None else "-"
        return (
            o.backend,
            _ms(statistics.median(o.mediator)),
            _ms(statistics.median(o.bare)),
            _ms(p90[0]),
            _ms(p90[1]),
            f"{o.ratio:.2f}x",
            shape,
            floor,
            len(o.mediator),
        )

    header = (
        "checkpointer",
        "mediator median ms",
        "bare median ms",
        "mediator p90 ms",
        "bare p90 ms",
        "ratio",
        "shape median ms",
        "shape ratio",
        "turns each",
    )
    return table(header, (row(o) for o in results.overhead))


def growth_table(results: BenchResults) -> list[str]:
    """Turn cost at turns 1, 5, 10, 25 and 50 of one conversation."""
    header = (
        "turn",
        "mediator ms",
        "bare ms",
        "Mediator prompt tokens",
        "bare prompt tokens",
        "ledger size",
    )
    return table(
        header,
        (
            (
                p.turn,
                _ms(p.mediator_seconds),
                _ms(p.bare_seconds),
                p.mediator_prompt_tokens,
                p.bare_prompt_tokens,
                p.ledger_size,
            )
            for p in results.growth
            if p.turn in (1, 5, 10, 25, 50)
        ),
    )


def load_table(results: BenchResults) -> list[str]:
    """Concurrent conversations: throughput, errors and memory."""
    header = (
        "concurrent threads",
        "turns each",
        "seconds",
        "conversations/s",
        "turns/s",
        "errors",
        "RSS MB",
    )
    return table(
        header,
        (
            (
                p.threads,
                p.turns,
                f"{p.seconds:.2f}",
                f"{p.conversations_per_second:.1f}",
                f"{p.turns_per_second:.1f}",
                p.errors,
                f"{p.rss_mb:.0f}",
            )
            for p in results.load
        ),
    )


def cost_table(results: BenchResults) -> list[str]:
    """Calls and tokens per turn from the real requests of an eval run."""
    header = (
        "setting",
        "conversations",
        "turns",
        "calls/turn",
        "prompt tokens/turn",
        "completion tokens/turn",
    )
    return table(
        header,
        (
            (
                c.setting,
                c.conversations,
                c.turns,
                f"{c.calls_per_turn:.2f}",
                f"{c.prompt_tokens_per_turn:.0f}",
                f"{c.completion_tokens_per_turn:.0f}",
            )
            for c in results.costs
        ),
    )


def prompt_ratio_table(results: BenchResults) -> list[str]:
    """Prompt tokens per turn of both graphs as the answers get longer."""
    header = (
        "answer tokens",
        "turns",
        "mediator prompt tokens/turn (both calls)",
        "bare prompt tokens/turn",
        "ratio",
    )
    return table(
        header,
        (
            (
                p.answer_tokens,
                p.turns,
                f"{p.mediator_prompt_tokens:.0f}",
                f"{p.bare_prompt_tokens:.0f}",
                f"{p.ratio:.2f}x",
            )
            for p in results.prompt_ratios
        ),
    )


def embedded_table(speed: EmbeddedSpeed) -> list[str]:
    """Start time, per-turn latency and generation speed of the embedded model."""
    turns = ", ".join(f"{s:.2f}" for s in speed.turn_seconds)
    header = ("server start s", "seconds per turn (5 mediated turns)", "median s", "tokens/s")
    row = (
        f"{speed.start_seconds:.2f}",
        turns,
        f"{statistics.median(speed.turn_seconds):.2f}",
        f"{speed.tokens_per_second:.1f}",
    )
    return table(header, [row])


def first_token_table(results: BenchResults) -> list[str]:
    """Medians and p90 of first token and turn end, mediated and bare, per source."""
    header = (
        "source",
        "turns each",
        "first token median s, mediated",
        "bare",
        "p90 mediated",
        "p90 bare",
        "ratio",
        "turn end median s, mediated",
        "bare",
        "ratio",
    )
    return table(header, summary_rows(results.first_token))


def mediator_time_table(timing: MediatorTime) -> list[str]:
    """Where the Mediator's call spends the wait: prompt parts, reading, modelled seconds."""
    rows: list[tuple[object, ...]] = [
        (f"prompt: {name}", f"{tokens:.0f} tokens", "")
        for name, tokens in timing.prompt_tokens.items()
    ]
    rows.append(("reading (completion)", f"{timing.completion_tokens:.0f} tokens", ""))
    rows += [(name, "", f"{seconds * 1000:.2f} ms") for name, seconds in timing.seconds().items()]
    return table(("part", "size per call", "time per call"), rows)


def plot_first_token(results: BenchResults, path: Path) -> None:
    """Median time to first token turn by turn, mediated beside bare, one panel per source."""
    plt = pyplot()
    count = len(results.first_token)
    fig, axes = plt.subplots(1, count, figsize=(5 * count, 3.5), squeeze=False)
    for ax, r in zip(axes[0], results.first_token, strict=True):
        for kind in ("mediator", "bare"):
            values = r.per_turn(kind)
            ax.plot(range(1, len(values) + 1), values, marker="o", label=kind)
        ax.set_title(r.source)
        ax.set_xlabel("turn")
        ax.set_ylabel("seconds to first answer token")
        ax.set_ylim(bottom=0)
        ax.legend()
    save_figure(fig, path)


def plot_overhead(results: BenchResults, path: Path) -> None:
    """Median turn time per checkpointer, mediator beside bare."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    backends = [o.backend for o in results.overhead]
    xs = range(len(backends))
    for offset, kind in ((-0.27, "mediator"), (0.0, "shape"), (0.27, "bare")):
        values = [statistics.median(getattr(o, kind) or [0.0]) * 1000 for o in results.overhead]
        ax.bar([x + offset for x in xs], values, width=0.27, label=kind)
    ax.set_xticks(list(xs), backends)
    ax.set_ylabel("median ms per turn (instant model)")
    ax.legend()
    save_figure(fig, path)


def plot_growth(results: BenchResults, path: Path) -> None:
    """Turn time and prompt tokens over a 50-turn conversation."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    turns = [p.turn for p in results.growth]
    left.plot(turns, [p.mediator_seconds * 1000 for p in results.growth], label="mediator")
    left.plot(turns, [p.bare_seconds * 1000 for p in results.growth], label="bare")
    left.set_xlabel("turn")
    left.set_ylabel("ms per turn")
    left.legend()
    right.plot(turns, [p.mediator_prompt_tokens for p in results.growth], label="Mediator prompt")
    right.plot(turns, [p.bare_prompt_tokens for p in results.growth], label="bare prompt")
    right.set_xlabel("turn")
    right.set_ylabel("prompt tokens")
    right.legend()
    save_figure(fig, path)


def _json_ready(results: BenchResults) -> dict[str, Any]:
    data = asdict(results)
    data["overhead_ratios"] = {o.backend: o.ratio for o in results.overhead}
    data["growth_ratio"] = results.growth_ratio()
    return data


SERVING_BEGIN = "<!-- serving: written by scripts/reliability.py -->"
SERVING_END = "<!-- /serving -->"


def marked_block(text: str) -> str:
    """The serving section of a BENCHMARKS.md, markers included ("" when it has none)."""
    start, end = text.find(SERVING_BEGIN), text.find(SERVING_END)
    return text[start : end + len(SERVING_END)] if 0 <= start < end else ""


def with_marked_block(text: str, block: str) -> str:
    """``text`` with its serving section replaced by ``block`` (appended when it has none)."""
    old = marked_block(text)
    return text.replace(old, block) if old else text.rstrip("\n") + "\n\n" + block + "\n"


def write_benchmarks(results: BenchResults, markdown: Path, plots: Path) -> None:
    """Write ``markdown`` (BENCHMARKS.md), and plots plus results.json under ``plots``.

    The serving section, which ``scripts/reliability.py`` measures on real
    server instances, is carried over from the file being replaced.
    """
    serving = marked_block(markdown.read_text(encoding="utf-8")) if markdown.exists() else ""
    plots.mkdir(parents=True, exist_ok=True)
    (plots / "results.json").write_text(json.dumps(_json_ready(results), indent=1) + "\n")
    lines = [
        "# Benchmarks",
        "",
        f"Written by `mediator bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"({platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {_cpu_count()} CPUs), in {results.seconds:.0f} s. "
        "The instant model answers at once, so graph figures time LangGraph, the "
        "checkpointer and the mediator's own code.",
        "",
        "## Targets",
        "",
        *targets_table(results),
        "",
    ]
    rel = plots.relative_to(markdown.parent) if plots.is_relative_to(markdown.parent) else plots
    for section in (
        _first_token_section,
        _overhead_section,
        _growth_section,
        _cost_section,
        _prompt_section,
        _load_section,
        _embedded_section,
    ):
        lines += section(results, plots, rel)
    if serving:
        lines += [serving, ""]
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _mediator_node_count() -> int:
    """How many nodes the mediator graph has, read off its wiring."""
    return len(build_mediator_builder(InstantChatModel(), mediator_model=InstantChatModel()).nodes)


def _section(heading: str, *parts: str | list[str]) -> list[str]:
    """A report section: its heading, then each paragraph or table, blank-line separated."""
    lines = [heading, ""]
    for part in parts:
        lines += [*part, ""] if isinstance(part, list) else [part, ""]
    return lines


def _first_token_section(results: BenchResults, plots: Path, rel: Path) -> list[str]:
    if not results.first_token:
        return []
    plot_first_token(results, plots / "first_token.png")
    notes = "; ".join(f"{r.source}: {r.note}" for r in results.first_token)
    timed_run = next((r for r in results.first_token if r.mediator_time), None)
    timed = timed_run.mediator_time if timed_run else None
    parts: list[str | list[str]] = [
        "What a user waits for: from sending a turn to the first token of the answer, "
        "the same 10-turn conversation through the mediator graph and the bare one-node "
        f"graph, several repeats ({notes}). The Mediator's call is read whole, so all of "
        "it comes before the first token.",
        first_token_table(results),
        f"![first token]({rel}/first_token.png)",
    ]
    if timed_run is not None and timed is not None:
        parts += [
            f"Where the Mediator's call spends the wait ({timed.calls} calls, means; "
            "tokens are characters / 4; times from the latency model):",
            mediator_time_table(timed),
        ]
        floor = floor_ratio(timed_run.median("bare"), timed)
        parts.append(
            f"No Mediator that reads the turn before the Assistant starts can do better than "
            f"{floor:.2f}x on this latency model: its request and prefill wait before the "
            f"Assistant's, however short the reading. "
            + (
                f"The {MAX_FIRST_TOKEN_RATIO}x target is out of reach for this design here; "
                if floor > MAX_FIRST_TOKEN_RATIO
                else ""
            )
            + "what is left to cut is the reading's own tokens."
        )
    return _section("## Time to first token, mediated vs bare", *parts)


def _overhead_section(results: BenchResults, plots: Path, rel: Path) -> list[str]:
    if not results.overhead:
        return []
    plot_overhead(results, plots / "overhead.png")
    return _section(
        "## Graph overhead per turn",
        f"The mediator graph ({_mediator_node_count()} nodes, ledger, "
        "usage records) and a bare one-node chat graph on the same checkpointer. The "
        "shape is the mediator's state and three steps of a common turn making the same "
        "two model calls, with none of the Mediator's work: its ratio is what LangGraph "
        "itself charges for that shape, and the mediator's time above it is the package's "
        "own code.",
        overhead_table(results),
        f"![overhead]({rel}/overhead.png)",
    )


def _growth_section(results: BenchResults, plots: Path, rel: Path) -> list[str]:
    if not results.growth:
        return []
    plot_growth(results, plots / "growth.png")
    return _section(
        f"## Growth over one {len(results.growth)}-turn conversation ({results.growth_backend})",
        growth_table(results),
        f"![growth]({rel}/growth.png)",
    )


def _cost_section(results: BenchResults, plots: Path, rel: Path) -> list[str]:
    return (
        _section(
            f"## Model calls and tokens per turn ({results.costs_source})",
            "Counted from the usage of every real response, on the tasks both settings finished.",
            cost_table(results),
        )
        if results.costs
        else []
    )


def _prompt_section(results: BenchResults, plots: Path, rel: Path) -> list[str]:
    return (
        _section(
            "## Prompt tokens per turn as answers get longer (instant model)",
            "The same conversation through both graphs, the instant model answering with "
            "the given number of tokens; tokens are its estimate (characters / 4) of the "
            "prompts the graphs build. The bare assistant resends every answer; the "
            "Mediator pays a fixed system prompt, the ledger and the last answer (capped).",
            prompt_ratio_table(results),
        )
        if results.prompt_ratios
        else []
    )


def _load_section(results: BenchResults, plots: Path, rel: Path) -> list[str]:
    return (
        _section(
            f"## Concurrent conversations ({results.load_backend}, instant model)",
            load_table(results),
        )
        if results.load
        else []
    )


def _embedded_section(results: BenchResults, plots: Path, rel: Path) -> list[str]:
    return (
        _section(
            "## The embedded model (SmolLM2-135M, llama.cpp, CPU)",
            embedded_table(results.embedded),
        )
        if results.embedded
        else []
    )


def _cpu_count() -> int:
    return os.cpu_count() or 1
