"""A turn as the user watches it: each step as it starts, then the answer token by token."""

from __future__ import annotations

from typing import Any

from fakes import UNUSED_ENDPOINT, ScriptedChatModel, reading, scripted
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.cli.chat import print_recent
from langgraph_mediator.cli.render import LiveTurn, print_turn
from langgraph_mediator.session import MediatorSession, TurnEvent

ANSWER = "68 degrees Fahrenheit is the answer."


class WholeRepliesOnly(ScriptedChatModel):
    """A Mediator model that fails if asked to stream (the structured reading must not be)."""

    def _stream(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the Mediator's structured call was streamed")


def session(mediator: ScriptedChatModel | None = None) -> MediatorSession:
    mediator = mediator or scripted(reading("new_task", new=["Convert 20 C to F."]))
    graph = build_mediator_graph(scripted(ANSWER), mediator_model=mediator,
                                 checkpointer=InMemorySaver())  # fmt: skip
    return MediatorSession(graph, MediatorContext(base_url=UNUSED_ENDPOINT))


async def test_a_listener_hears_each_step_then_the_answer_token_by_token() -> None:
    events: list[TurnEvent] = []
    result = await session().send("t", "Convert 20 C to F.", events.append)
    steps = [e.node for e in events if e.kind == "step"]
    assert steps[0] == "detect_intent" and steps[-1] == "execute"
    tokens = [e.text for e in events if e.kind == "token" and e.node == "execute"]
    assert len(tokens) > 1 and "".join(tokens) == ANSWER == result.reply
    first_token = next(i for i, e in enumerate(events) if e.kind == "token")
    assert events.index(TurnEvent("step", "execute")) < first_token


async def test_a_streamed_turn_ends_as_the_unstreamed_one_and_never_streams_the_reading() -> None:
    quiet = await session().send("t", "Convert 20 C to F.")
    mediator = WholeRepliesOnly(messages=iter([reading("new_task", new=["Convert 20 C to F."])]),
                                seen=[])  # fmt: skip
    live = await session(mediator).send("t", "Convert 20 C to F.", lambda event: None)
    assert (live.reply, live.requirements, live.instruction) == (
        quiet.reply, quiet.requirements, quiet.instruction)  # fmt: skip
    assert live.usage is not None and live.usage["fallback"] is None


def test_the_live_view_prints_the_answer_as_it_comes_and_does_not_repeat_it() -> None:
    console = Console(record=True, width=100, force_terminal=False)
    with LiveTurn(console) as live:
        live.on_event(TurnEvent("step", "detect_intent"))
        for piece in ("68 degrees ", "[bold]Fahrenheit[/bold]"):
            live.on_event(TurnEvent("token", "execute", piece))
    assert live.streamed
    shown = console.export_text()
    assert "assistant> 68 degrees [bold]Fahrenheit[/bold]" in shown, "printed as text, no markup"


async def test_a_streamed_answer_is_not_printed_twice() -> None:
    result = await session().send("t", "Convert 20 C to F.")
    console = Console(record=True, width=120, force_terminal=False)
    print_turn(console, result, answer_shown=True)
    assert ANSWER not in console.export_text()
    print_turn(console, result)
    assert ANSWER in console.export_text()


def test_a_resumed_thread_shows_its_last_exchanges() -> None:
    messages = [m for i in range(5) for m in (HumanMessage(f"q{i}"), AIMessage(f"a{i}"))]
    console = Console(record=True, width=100, force_terminal=False)
    print_recent(console, messages)
    shown = console.export_text()
    assert "2 earlier exchange(s)" in shown
    assert "you> q2" in shown and "assistant> a4" in shown and "q1" not in shown


async def test_single_task_keeps_the_requirements_and_the_panel_shows_the_guard() -> None:
    readings = [reading("new_task", new=["Convert 20 C to F."]),
                reading("new_task", new=["Round to one decimal."])]  # fmt: skip
    graph = build_mediator_graph(scripted(ANSWER, ANSWER), mediator_model=scripted(*readings),
                                 checkpointer=InMemorySaver())  # fmt: skip
    chat = MediatorSession(graph, MediatorContext(base_url=UNUSED_ENDPOINT, single_task=True))
    await chat.send("t", "Convert 20 C to F.")
    result = await chat.send("t", "round to one decimal")
    assert [r["text"] for r in result.requirements] == ["Convert 20 C to F.",
                                                        "Round to one decimal."]  # fmt: skip
    console = Console(record=True, width=160, force_terminal=False)
    print_turn(console, result)
    panel = console.export_text()
    assert "guard" in panel and "single_task" in panel
