"""Issue 18, Refiner defect 6: a reading that says "more is coming", and no "ok" requirement.

A continuation leaves the ledger as it is and the Assistant unasked, in the
graph and in the middleware alike; a message that only acknowledges is never
stored as a requirement, whatever the model read it as.
"""

from __future__ import annotations

from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, reading, scripted
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.core import CONTINUE_REPLY
from langgraph_mediator.core.reading import fallback_reading, settle_reading
from langgraph_mediator.graphs.mediator import route_after_intent
from langgraph_mediator.middleware import MediatorMiddleware
from langgraph_mediator.session import TurnResult
from langgraph_mediator.state.reading import MediatorReading
from langgraph_mediator.text import is_acknowledgement

CONTEXT = MediatorContext(base_url=UNUSED_ENDPOINT)
GOAL = "Work out what the pizza for the party costs."
MEDIATOR_SCRIPT = (
    reading("new_task", goal=GOAL, new=["The pizza is for a class party."]),
    reading("continuation", goal=""),
    reading("new_information", goal="", new=["32 kids are coming."]),
)


async def play(graph: Any, texts: list[str], config: Any, **kwargs: Any) -> list[dict[str, Any]]:
    return [await graph.ainvoke({"messages": [HumanMessage(t)]}, config, **kwargs) for t in texts]


async def test_a_continuation_asks_no_assistant_and_changes_no_requirement() -> None:
    assistant = scripted("Give me the details.", "32 kids: 12 pizzas.")
    graph = build_mediator_graph(
        assistant, mediator_model=scripted(*MEDIATOR_SCRIPT), checkpointer=InMemorySaver()
    )
    config: Any = {"configurable": {"thread_id": "t"}}
    first, waiting, third = await play(
        graph, ["how much is the pizza? details coming", "ok", "32 kids"], config, context=CONTEXT
    )
    assert waiting["messages"][-1].content == CONTINUE_REPLY
    assert waiting["messages"][-1].name == "mediator"
    assert waiting["ledger"] == first["ledger"] and waiting["ledger_delta"]["added"] == []
    assert waiting["instruction"] == "", "the last turn's instruction is not this one's"
    assert len(assistant.seen) == 2, "the Assistant answered turns 1 and 3 only"
    assert "32 kids are coming." in third["instruction"]
    assert TurnResult.from_state(waiting).kind == "waiting"
    assert [c["node"] for c in waiting["turn_usage"]["calls"]] == ["detect_intent"]


async def test_the_middleware_ends_a_continuation_without_a_model_call() -> None:
    model = scripted("Give me the details.", "12 pizzas.")
    agent = create_agent(
        model, [], checkpointer=InMemorySaver(),
        middleware=[MediatorMiddleware(scripted(*MEDIATOR_SCRIPT), context=CONTEXT)],
    )  # fmt: skip
    config: Any = {"configurable": {"thread_id": "t"}}
    _first, waiting, third = await play(agent, ["pizza cost? details coming", "ok", "32"], config)
    assert waiting["messages"][-1].content == CONTINUE_REPLY
    assert len(model.seen) == 2
    assert "32 kids are coming." in third["instruction"]


def test_route_after_intent_waits_on_a_continuation() -> None:
    state: Any = {"messages": [], "should_clarify": False, "reading": {"feedback": "continuation"}}
    assert route_after_intent(state) == "wait_for_more"
    assert route_after_intent({**state, "should_clarify": True}) == "clarify"


@pytest.mark.parametrize("text", ["ok", "OK.", "yep, that's right", "sounds good, thanks", "go on"])
def test_acknowledgements_are_recognised(text: str) -> None:
    assert is_acknowledgement(text)


@pytest.mark.parametrize("text", ["ok, 5", "economy is fine", "15 a bag", "no", "", "ok but in C"])
def test_a_message_with_anything_more_is_not_an_acknowledgement(text: str) -> None:
    assert not is_acknowledgement(text)


def mid_task() -> Any:
    return {
        "messages": [],
        "intent": {"task_type": "math", "goal": GOAL, "missing_information": [],
                   "assumable_details": []},
        "ledger": [], "task_number": 1,
    }  # fmt: skip


def model_reading(**fields: Any) -> MediatorReading:
    return MediatorReading(**{"task_type": "", "goal": "", "feedback": "new_information", **fields})


def test_a_bare_ok_read_as_new_information_is_kept_as_no_requirement() -> None:
    # The failure the issue found: settle_reading stored "ok" as a requirement.
    settled, notes = settle_reading(model_reading(), mid_task(), "ok", CONTEXT)
    assert settled.feedback == "confirmation" and settled.new_requirements == []
    assert any("only acknowledges" in n for n in notes)


def test_an_ok_the_model_copied_into_requirements_is_left_out() -> None:
    read = model_reading(new_requirements=["ok", "32 kids are coming."])
    settled, notes = settle_reading(read, mid_task(), "ok, 32 kids are coming", CONTEXT)
    assert settled.new_requirements == ["32 kids are coming."]
    assert settled.feedback == "new_information"
    assert any("not a requirement" in n for n in notes)


def test_a_continuation_keeps_none_of_the_message() -> None:
    read = model_reading(feedback="continuation")
    settled, _notes = settle_reading(read, mid_task(), "ok", CONTEXT)
    assert settled.feedback == "continuation" and settled.new_requirements == []


def test_the_fallback_passes_an_acknowledgement_through_as_a_confirmation() -> None:
    fallback = fallback_reading(mid_task(), "ok thanks")
    assert fallback.feedback == "confirmation" and fallback.new_requirements == []
    assert fallback_reading(mid_task(), "32 kids").new_requirements == ["32 kids"]


def test_the_first_message_is_a_task_even_when_it_is_ok() -> None:
    settled, _notes = settle_reading(
        model_reading(feedback="new_task", goal="ok"), {}, "ok", CONTEXT
    )
    assert settled.feedback == "new_task"


def test_the_reading_schema_offers_a_continuation() -> None:
    schema = MediatorReading.model_json_schema()
    assert "continuation" in schema["properties"]["feedback"]["enum"]
