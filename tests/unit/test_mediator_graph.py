"""Every route of the mediator graph, with scripted Mediator and Assistant models."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import (
    UNUSED_ENDPOINT,
    ScriptedChatModel,
    reading,
    scripted,
    supersede,
    tool_reply,
    usage,
)
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.core import Executor
from langgraph_mediator.errors import ThreadOwnershipError
from langgraph_mediator.graphs.mediator import route_after_intent
from langgraph_mediator.guidelines import aput_guidelines


class Conversation:
    """One thread of a graph built around scripted models."""

    def __init__(self, mediator: ScriptedChatModel, assistant: Executor, **context: Any) -> None:
        self.mediator = mediator
        self.store = InMemoryStore()
        self.graph = build_mediator_graph(
            assistant, mediator_model=mediator, checkpointer=InMemorySaver(), store=self.store
        )
        self.context = MediatorContext(base_url=UNUSED_ENDPOINT, **context)
        self.config: Any = {"configurable": {"thread_id": "t"}}

    async def say(self, text: str) -> dict[str, Any]:
        return await self.graph.ainvoke(
            {"messages": [HumanMessage(text)]}, self.config, context=self.context
        )


def mediator_turn_prompt(model: ScriptedChatModel, call: int = -1) -> str:
    return str(model.seen[call][1].content)


def test_route_after_intent_is_pure() -> None:
    assert route_after_intent({"messages": [], "should_clarify": True}) == "clarify"
    assert route_after_intent({"messages": [], "should_clarify": False}) == "classify_feedback"
    assert route_after_intent({"messages": []}) == "classify_feedback"


async def test_underspecified_turn_asks_and_ends_without_the_assistant() -> None:
    assistant = scripted("should not be called")
    chat = Conversation(
        scripted(reading("new_task", goal="Convert a temperature.", new=["Convert 20 degrees."],
                         missing=["the source unit"], question="Is 20 in Celsius or Fahrenheit?")),
        assistant,
    )  # fmt: skip
    out = await chat.say("Convert 20 degrees.")
    assert out["messages"][-1].content == "Is 20 in Celsius or Fahrenheit?"
    assert out["messages"][-1].name == "mediator"
    assert out["pending_question"] == "Is 20 in Celsius or Fahrenheit?"
    assert out["questions_asked"] == 1
    assert [r["text"] for r in out["ledger"]] == ["Convert 20 degrees."]
    assert assistant.seen == [], "a clarification turn ends before the Assistant"
    assert "instruction" not in out


async def test_the_answer_to_a_question_is_read_against_it_and_executed() -> None:
    mediator = scripted(
        reading("new_task", new=["Convert 20 degrees."], missing=["unit"], question="Which unit?"),
        reading("new_information", new=["The input is in Celsius."]),
    )
    assistant = scripted("68 F")
    chat = Conversation(mediator, assistant)
    await chat.say("Convert 20 degrees.")
    out = await chat.say("Celsius")
    assert "- Q: Which unit? Reply: (this message)" in mediator_turn_prompt(mediator)
    assert out["pending_question"] is None and out["last_answer"] == "68 F"
    assert "2. The input is in Celsius." in out["instruction"]


async def test_question_budget_per_task_is_respected() -> None:
    missing = reading("new_information", new=["Detail."], missing=["more"], question="More?")
    mediator = scripted(
        reading("new_task", new=["Start."], missing=["x"], question="X?"), missing, missing
    )
    chat = Conversation(mediator, scripted("done"), max_questions_per_task=2)
    kinds = [bool((await chat.say(text))["should_clarify"]) for text in ("a", "b", "c")]
    assert kinds == [True, True, False], "the third underspecified turn executes"
    state = (await chat.graph.aget_state(chat.config)).values
    assert state["questions_asked"] == 2 and state["last_answer"] == "done"


async def test_a_new_task_resets_the_question_budget() -> None:
    mediator = scripted(
        reading("new_task", new=["One."], missing=["x"], question="X?"),
        reading("new_task", goal="Other task.", new=["Two."], missing=["y"], question="Y?"),
    )
    chat = Conversation(mediator, scripted("never"), max_questions_per_task=1)
    await chat.say("first task")
    out = await chat.say("a different task")
    assert out["should_clarify"] and out["task_number"] == 2 and out["questions_asked"] == 1


@pytest.mark.parametrize(
    ("policy", "missing", "asks"),
    [("never", ["unit"], False), ("when_missing", [], False), ("always", [], True)],
)
async def test_clarification_policies(policy: str, missing: list[str], asks: bool) -> None:
    chat = Conversation(
        scripted(reading("new_task", new=["Convert 20."], missing=missing)),
        scripted("answer"),
        clarification_policy=policy,
    )
    out = await chat.say("Convert 20.")
    assert out["should_clarify"] is asks
    assert (out["messages"][-1].content == "answer") is not asks


async def test_correction_supersedes_the_right_requirement_in_the_instruction() -> None:
    mediator = scripted(
        reading("new_task", new=["Convert 20 degrees.", "The input is in Fahrenheit."]),
        reading("correction", changes=[supersede("R2", "The input is in Celsius.", "said so")]),
    )
    chat = Conversation(mediator, scripted("-6.7 C", "68 F"))
    await chat.say("Convert 20 degrees Fahrenheit.")
    out = await chat.say("ok but in Celsius")
    status = {r["id"]: r["status"] for r in out["ledger"]}
    assert status == {"R1": "active", "R2": "superseded", "R3": "active"}
    assert out["ledger_delta"]["superseded"] == ["R2"]
    assert "The input is in Celsius." in out["instruction"]
    assert "Fahrenheit" not in out["instruction"]


async def test_confirmation_leaves_the_ledger_and_instruction_as_they_were() -> None:
    mediator = scripted(
        reading("new_task", new=["Convert 20 C to F."]),
        reading("confirmation", new=["An invented requirement."]),
    )
    chat = Conversation(mediator, scripted("68 F", "You're welcome."))
    first = await chat.say("Convert 20 C to F.")
    out = await chat.say("yes")
    assert out["ledger"] == first["ledger"]
    assert out["instruction"] == first["instruction"]
    assert out["intent"]["goal"] == first["intent"]["goal"]


async def test_assistant_sees_only_the_explicit_instruction() -> None:
    mediator = scripted(
        reading("new_task", new=["Convert 20 degrees."]),
        reading("new_information", new=["The input is in Celsius."]),
    )
    assistant = scripted("first", "second")
    chat = Conversation(mediator, assistant)
    await chat.say("Convert 20 degrees.")
    out = await chat.say("celsius")
    assert assistant.seen[-1] == [HumanMessage(out["instruction"])]


async def test_assistant_can_be_given_the_history_too() -> None:
    mediator = scripted(reading("new_task", new=["A."]), reading("new_information", new=["B."]))
    assistant = scripted("first", "second")
    chat = Conversation(mediator, assistant, assistant_input="instruction_and_history")
    await chat.say("a")
    out = await chat.say("b")
    sent = assistant.seen[-1]
    assert [m.content for m in sent[:2]] == ["a", "first"]
    assert sent[-1].content == out["instruction"] and len(sent) == 3


async def test_guidelines_reach_the_mediator_prompt() -> None:
    mediator = scripted(reading("new_task", new=["A."]))
    chat = Conversation(mediator, scripted("ok"), user_id="alice")
    rule = "Ask for the unit before converting."
    await aput_guidelines(chat.store, "alice", [rule])
    await chat.say("a")
    system = mediator.seen[0][0]
    assert isinstance(system, SystemMessage) and f"1. {rule}" in str(system.content)


async def test_malformed_output_is_retried_then_passed_through() -> None:
    mediator = scripted(
        AIMessage("I think it is a new task"),
        tool_reply("MediatorReading", {"feedback": "maybe"}),
    )
    assistant = scripted("answered anyway")
    chat = Conversation(mediator, assistant, clarification_policy="always")
    out = await chat.say("Convert 20 degrees.")
    assert len(mediator.seen) == 2, "one retry, no more"
    assert out["turn_usage"]["fallback"].startswith("malformed Mediator output twice")
    assert out["intent"]["goal"] == "Convert 20 degrees."
    assert not out["should_clarify"], "a fallback never asks"
    assert out["last_answer"] == "answered anyway"


async def test_fallback_mid_task_keeps_the_message_as_a_requirement() -> None:
    mediator = scripted(reading("new_task", new=["A."]), AIMessage("oops"), AIMessage("oops"))
    chat = Conversation(mediator, scripted("1", "2"))
    await chat.say("a")
    out = await chat.say("and make it 5 items")
    assert out["ledger"][-1]["text"] == "and make it 5 items"
    assert "and make it 5 items" in out["instruction"]


async def test_a_retry_that_parses_is_used() -> None:
    mediator = scripted(AIMessage("no tool call"), reading("new_task", new=["A."]))
    out = await Conversation(mediator, scripted("ok")).say("a")
    assert out["turn_usage"]["fallback"] is None
    assert [r["text"] for r in out["ledger"]] == ["A."]


async def test_common_turn_makes_two_calls_and_records_tokens() -> None:
    mediator = scripted(reading("new_task", new=["A."], tokens=(380, 32)))
    assistant = scripted(AIMessage("answer", usage_metadata=usage(40, 12)))
    out = await Conversation(mediator, assistant).say("a")
    calls = out["turn_usage"]["calls"]
    assert [c["node"] for c in calls] == ["detect_intent", "execute"]
    assert [(c["prompt_tokens"], c["completion_tokens"]) for c in calls] == [(380, 32), (40, 12)]
    assert out["turn_usage"]["turn"] == 1


async def test_clarification_turn_makes_one_call() -> None:
    mediator = scripted(reading("new_task", new=["A."], missing=["b"], tokens=(300, 40)))
    out = await Conversation(mediator, scripted()).say("a")
    assert [c["node"] for c in out["turn_usage"]["calls"]] == ["detect_intent"]


async def test_single_task_keeps_a_mid_thread_new_task_reading_in_the_task() -> None:
    replies = (reading("new_task", new=["A."]), reading("new_task", goal="Other.", new=["B."]))
    for single, task, texts in ((True, 1, ["A.", "B."]), (False, 2, ["B."])):
        chat = Conversation(scripted(*replies), scripted("1", "2"), single_task=single)
        await chat.say("a")
        out = await chat.say("b")
        assert out["task_number"] == task
        assert [line.split(". ", 1)[1] for line in out["instruction"].splitlines()[2:-1]] == texts


async def test_first_message_always_starts_a_task() -> None:
    out = await Conversation(scripted(reading("correction", new=["A."])), scripted("x")).say("a")
    assert out["task_number"] == 1 and out["reading"]["feedback"] == "new_task"
    assert out["mediator_notes"] == ["first message of the thread: read as a new task"]


async def test_a_react_agent_executor_calls_its_tool() -> None:
    added: list[tuple[int, int]] = []

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        added.append((a, b))
        return a + b

    agent_model = scripted(tool_reply("add", {"a": 2, "b": 3}), "The sum is 5.")
    agent = create_agent(agent_model, [add])
    mediator = scripted(reading("new_task", goal="Add numbers.", new=["Add 2 and 3."]))
    out = await Conversation(mediator, agent).say("add 2 and 3")
    assert added == [(2, 3)]
    assert out["last_answer"] == "The sum is 5."
    assert agent_model.seen[0][0].content == out["instruction"]
    assert [c["node"] for c in out["turn_usage"]["calls"]] == [
        "detect_intent",
        "execute",
        "execute",
    ]
    # The thread keeps the user-visible conversation; the agent's tool traffic stays in its run.
    assert [type(m).__name__ for m in out["messages"]] == ["HumanMessage", "AIMessage"]


async def test_a_plain_runnable_executor() -> None:
    def shout(messages: list[Any]) -> str:
        return str(messages[-1].content).upper()

    mediator = scripted(reading("new_task", goal="Greet.", new=["Say hi."]))
    out = await Conversation(mediator, RunnableLambda(shout)).say("hi")
    assert out["last_answer"].startswith("TASK: GREET.")


async def test_an_executor_with_a_wrong_return_type_fails_clearly() -> None:
    mediator = scripted(reading("new_task", new=["A."]))
    chat = Conversation(mediator, RunnableLambda(lambda _: 42))
    with pytest.raises(TypeError, match="An executor must return"):
        await chat.say("a")


async def test_streamed_messages_carry_only_the_assistant_tokens() -> None:
    # The fake cannot stream a tool call; ChatOpenAI can, and the nostream tag hides it.
    mediator = ScriptedChatModel(
        messages=iter([reading("new_task", new=["A."])]), seen=[], disable_streaming=True
    )
    chat = Conversation(mediator, scripted("final answer"))
    streamed: list[str] = []
    async for chunk, meta in chat.graph.astream(
        {"messages": [HumanMessage("a")]}, chat.config, context=chat.context,
        stream_mode="messages",
    ):  # fmt: skip
        assert meta["langgraph_node"] == "execute"
        streamed.append(str(chunk.content))
    assert "".join(streamed).startswith("final answer")


async def test_a_turn_by_another_user_on_a_thread_is_refused_before_the_mediator_reads() -> None:
    mediator = scripted(reading("new_task", new=["Write a haiku."]))
    chat = Conversation(mediator, scripted("A haiku."), user_id="alice")
    await chat.say("Write a haiku.")
    chat.context = MediatorContext(base_url=UNUSED_ENDPOINT, user_id="bob")
    with pytest.raises(ThreadOwnershipError, match="belongs to another user"):
        await chat.say("Show me alice's ledger.")
    assert len(mediator.seen) == 1, "bob's turn reached no model"


async def test_a_correction_rewrites_a_goal_that_named_the_old_value() -> None:
    mediator = scripted(
        reading("new_task", goal="Convert 20 degrees to Fahrenheit.",
                new=["Convert 20 degrees.", "Output in Fahrenheit."]),
        reading("correction", goal="Convert 20 degrees to Fahrenheit.",
                changes=[supersede("R2", "Output in Kelvin.", "said Kelvin")]),
    )  # fmt: skip
    chat = Conversation(mediator, scripted("68 F", "293.15 K"))
    await chat.say("Convert 20 degrees to Fahrenheit.")
    out = await chat.say("no, Kelvin, not Fahrenheit")
    assert out["intent"]["goal"] == "Convert 20 degrees to Kelvin."
    assert "Fahrenheit" not in out["instruction"]
    assert "goal rewritten: 'Fahrenheit' -> 'Kelvin' (R2 superseded)" in out["mediator_notes"]
