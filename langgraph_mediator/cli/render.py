"""Rich rendering of a turn for the CLI: what the Mediator did, then the reply."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from langgraph_mediator.session import TurnEvent, TurnResult

_FEEDBACK_STYLE = {
    "new_task": "bold cyan",
    "new_information": "green",
    "correction": "bold yellow",
    "confirmation": "blue",
    "continuation": "magenta",
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
        counted = f"{tokens} tokens" if tokens else "tokens not reported by the endpoint"
        table.add_row("cost", Text(f"{len(calls)} calls, {counted}, {seconds:.2f}s{fallback}"))
    return table


def print_turn(
    console: Console, result: TurnResult, *, title: str = "Mediator", answer_shown: bool = False
) -> None:
    """Print the Mediator panel, then the reply (a question or the Assistant's answer).

    ``answer_shown``: the answer was already streamed to the screen; it is not repeated.
    """
    console.print(Panel(turn_table(result), title=title, title_align="left", border_style="cyan"))
    if answer_shown and result.kind == "answer":
        return
    speaker = "mediator asks" if result.kind == "clarification" else "assistant"
    console.print(
        Panel(
            Group(Text(result.reply)),
            title=speaker,
            title_align="left",
            border_style="yellow" if result.kind == "clarification" else "green",
        )
    )


STEP_LABELS = {
    "detect_intent": "reading your message",
    "clarify": "deciding whether to ask you something",
    "wait_for_more": "waiting for the rest of what you have to say",
    "classify_feedback": "checking it against what you said before",
    "execute": "asking the Assistant",
}
"""What the live progress line says while each step of a turn runs."""
ANSWERING_NODE = "execute"


class LiveTurn:
    """A turn's live progress: a spinner naming the running step, then the answer as it comes.

    Use as a context manager around :meth:`MediatorSession.send` and pass
    :meth:`on_event` as its listener; :attr:`streamed` tells afterwards whether
    the answer has already been shown token by token.
    """

    def __init__(self, console: Console) -> None:
        """Show progress on ``console``."""
        self.console = console
        self.status = console.status("waiting for the first step...")
        self.streamed = False

    def __enter__(self) -> LiveTurn:
        """Start the spinner."""
        self.status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the spinner; end the streamed answer's line."""
        self.status.stop()
        if self.streamed:
            self.console.print()

    def on_event(self, event: TurnEvent) -> None:
        """Name the step that starts; print the Assistant's tokens as they arrive."""
        if event.kind == "step" and not self.streamed:
            label = STEP_LABELS.get(event.node, event.node)
            self.status.update(f"{label}...")
        elif event.kind == "token" and event.node == ANSWERING_NODE:
            if not self.streamed:
                self.status.stop()
                self.console.print("[bold green]assistant>[/] ", end="")
                self.streamed = True
            self.console.print(event.text, end="", markup=False, highlight=False)
