"""Human-in-the-loop clarification: the run pauses on the question and resumes with the answer."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, ScriptedChatModel, reading, scripted
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.errors import InvalidMessageError
from langgraph_mediator.graphs.mediator import route_after_clarify
from langgraph_mediator.session import MediatorSession

QUESTION = "Is 20 in Celsius or Fahrenheit?"
CONFIG: Any = {"configurable": {"thread_id": "hitl"}}


def asking_mediator() -> ScriptedChatModel:
    return scripted(
        reading("new_task", new=["Convert 20 degrees."], missing=["the unit"], question=QUESTION),
        reading("new_information", new=["The input is in Celsius."]),
    )


def interrupt_graph(mediator: ScriptedChatModel, assistant: ScriptedChatModel) -> Any:
    return build_mediator_graph(
        assistant, mediator_model=mediator, checkpointer=InMemorySaver(), store=InMemoryStore()
    )


def interrupt_context() -> MediatorContext:
    return MediatorContext(base_url=UNUSED_ENDPOINT, clarification_mode="interrupt")


def test_route_after_clarify_is_pure() -> None:
    asked = [HumanMessage("Convert 20."), AIMessage(QUESTION)]
    assert route_after_clarify({"messages": asked}) == "__end__"
    assert route_after_clarify({"messages": [*asked, HumanMessage("Celsius")]}) == "detect_intent"


async def test_the_run_pauses_on_the_question_and_resumes_to_an_answer() -> None:
    mediator, assistant = asking_mediator(), scripted("68 F")
    graph = interrupt_graph(mediator, assistant)
    context = interrupt_context()

    paused = await graph.ainvoke(
        {"messages": [HumanMessage("Convert 20 degrees.")]}, CONFIG, context=context
    )
    (pending,) = paused["__interrupt__"]
    assert pending.value["question"] == QUESTION
    assert pending.value["missing_information"] == ["the unit"]
    assert assistant.seen == [], "nothing is executed while the run waits"
    snapshot = await graph.aget_state(CONFIG)
    assert snapshot.next == ("clarify",) and snapshot.interrupts

    done = await graph.ainvoke(Command(resume="Celsius"), CONFIG, context=context)
    contents = [m.content for m in done["messages"]]
    assert contents == ["Convert 20 degrees.", QUESTION, "Celsius", "68 F"]
    assert f"- Q: {QUESTION} Reply: (this message)" in str(mediator.seen[1][1].content)
    assert [r["text"] for r in done["ledger"]] == [
        "Convert 20 degrees.",
        "The input is in Celsius.",
    ]
    assert "The input is in Celsius." in str(assistant.seen[0][-1].content)
    assert done["questions_asked"] == 1 and done["last_answer"] == "68 F"


async def test_a_dict_resume_value_carries_the_answer() -> None:
    graph = interrupt_graph(asking_mediator(), scripted("68 F"))
    context = interrupt_context()
    await graph.ainvoke(
        {"messages": [HumanMessage("Convert 20 degrees.")]}, CONFIG, context=context
    )
    done = await graph.ainvoke(Command(resume={"answer": "Celsius"}), CONFIG, context=context)
    assert done["messages"][2].content == "Celsius"


async def test_session_resumes_a_paused_thread_with_the_next_message() -> None:
    graph = interrupt_graph(asking_mediator(), scripted("68 F"))
    session = MediatorSession(graph, interrupt_context())

    asked = await session.send("hitl", "Convert 20 degrees.")
    assert asked.kind == "clarification" and asked.awaiting_answer
    assert asked.reply == QUESTION
    assert await session.awaiting_answer("hitl")

    answered = await session.send("hitl", "Celsius")
    assert answered.kind == "answer" and not answered.awaiting_answer
    assert answered.reply == "68 F"
    assert not await session.awaiting_answer("hitl")


@pytest.mark.parametrize("answer", ["", "   ", "x" * 20_001])
async def test_a_bad_answer_is_rejected_and_the_run_stays_paused(answer: str) -> None:
    graph = interrupt_graph(asking_mediator(), scripted("68 F"))
    session = MediatorSession(graph, interrupt_context())
    await session.send("hitl", "Convert 20 degrees.")
    before = await graph.aget_state(CONFIG)

    with pytest.raises(InvalidMessageError):
        await session.send("hitl", answer)

    after = await graph.aget_state(CONFIG)
    assert after.config == before.config, "no checkpoint was written"
    assert await session.awaiting_answer("hitl")


async def test_end_turn_mode_still_ends_the_run_with_the_question() -> None:
    graph = interrupt_graph(asking_mediator(), scripted("68 F"))
    out = await graph.ainvoke(
        {"messages": [HumanMessage("Convert 20 degrees.")]},
        CONFIG,
        context=MediatorContext(base_url=UNUSED_ENDPOINT),
    )
    assert "__interrupt__" not in out
    assert out["messages"][-1].content == QUESTION
    assert not (await graph.aget_state(CONFIG)).interrupts


def test_an_unknown_clarification_mode_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="MEDIATOR_CLARIFICATION_MODE"):
        MediatorContext(base_url=UNUSED_ENDPOINT, clarification_mode="pause")  # type: ignore[arg-type]
