"""Rich rendering of a turn for the CLI: what the Mediator did, then the reply."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from langgraph_mediator.session import TurnResult

_FEEDBACK_STYLE = {
    "new_task": "bold cyan",
    "new_information": "green",
    "correction": "bold yellow",
    "confirmation": "blue",
}


def ledger_change(result: TurnResult) -> Text:
    """``+R3 R1->R3 -R2`` style summary of the turn's ledger delta."""
    delta = result.delta
    if delta is None:
        return Text("-")
    text = Text()
    for req_id in delta["added"]:
        text.append(f"+{req_id} ", style="green")
    for req_id in delta["superseded"]:
        text.append(f"{req_id} superseded ", style="yellow")
    for req_id in delta["retracted"]:
        text.append(f"{req_id} retracted ", style="red")
    for req_id in delta["ignored"]:
        text.append(f"(unknown {req_id} ignored) ", style="dim")
    if not text.plain:
        text.append("unchanged", style="dim")
    return text


def turn_table(result: TurnResult) -> Table:
    """The Mediator's decisions of one turn as a two-column table."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    intent = result.intent
    feedback = result.delta["feedback"] if result.delta else "-"
    if intent:
        table.add_row("intent", Text(f"[{intent['task_type']}] {intent['goal']}"))
    if intent and intent["missing_information"]:
        table.add_row("missing", Text("; ".join(intent["missing_information"])))
    table.add_row("feedback", Text(feedback, style=_FEEDBACK_STYLE.get(feedback, "")))
    table.add_row("ledger", ledger_change(result))
    for requirement in result.requirements:
        table.add_row("", Text(f"[{requirement['id']}] {requirement['text']}", style="dim"))
    for note in result.notes:
        table.add_row("guard", Text(note, style="dim italic"))
    if result.kind == "answer":
        table.add_row("instruction", Text(result.instruction, style="magenta"))
    if result.usage:
        calls = result.usage["calls"]
        tokens = sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls)
        seconds = sum(c["seconds"] for c in calls)
        fallback = f", fallback: {result.usage['fallback']}" if result.usage["fallback"] else ""
        table.add_row(
            "cost", Text(f"{len(calls)} calls, {tokens} tokens, {seconds:.2f}s{fallback}")
        )
    return table


def print_turn(console: Console, result: TurnResult, *, title: str = "Mediator") -> None:
    """Print the Mediator panel, then the reply (a question or the Assistant's answer)."""
    console.print(Panel(turn_table(result), title=title, title_align="left", border_style="cyan"))
    speaker = "mediator asks" if result.kind == "clarification" else "assistant"
    console.print(
        Panel(
            Group(Text(result.reply)),
            title=speaker,
            title_align="left",
            border_style="yellow" if result.kind == "clarification" else "green",
        )
    )
