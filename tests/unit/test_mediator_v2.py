"""Mediator v2 (issue 14): no re-asking, the Assistant's environment, material, the user's words.

Each test fails on the Mediator before v2: it re-asked a question the user
passed over, could not be told what the Assistant already has, cut pasted
material to paraphrases, and kept only paraphrases (a dropped number was lost).
"""

from __future__ import annotations

from typing import Any

from fakes import UNUSED_ENDPOINT, ChatThread, ScriptedChatModel, reading, scripted

from langgraph_mediator import MediatorContext
from langgraph_mediator.core.policy import question_for, same_question
from langgraph_mediator.state import MediatorReading

TRIANGLES = "What is the total area of the two triangles?"
WIDTH_Q = "What are the base and height of the second triangle?"


def chat_with(mediator: ScriptedChatModel, **context: Any) -> ChatThread:
    """A thread whose Mediator replays ``mediator``'s script."""
    return ChatThread(mediator, **context)


async def test_a_question_the_user_passed_over_is_never_asked_again() -> None:
    missing = ["the second triangle's base and height"]
    chat = chat_with(scripted(
        reading("new_task", goal="Add two triangles' areas.", new=["The first is 3 by 4."],
                missing=missing, question=WIDTH_Q),
        reading("new_information", new=["Give the answer in square cm."], missing=missing,
                question="What is the second triangle's base and height?"),
    ), max_questions_per_task=3)  # fmt: skip
    first = await chat.say(TRIANGLES)
    assert first["messages"][-1].content == WIDTH_Q
    second = await chat.say("give the answer in square cm")
    assert second["should_clarify"] is False, "the same question is not asked twice"
    assert second["messages"][-1].content == "an answer"
    assert f"- Q: {WIDTH_Q} Reply: (this message)" in chat.prompt()
    assert second["questions"][0]["reply"] == "give the answer in square cm"
    assert "Needed but not given" in second["instruction"] and missing[0] in second["instruction"]


async def test_the_turn_prompt_lists_every_question_asked_with_its_reply() -> None:
    chat = chat_with(scripted(
        reading("new_task", new=["Convert 20 degrees."], missing=["the unit"],
                question="Which unit is 20 in?"),
        reading("new_information", new=["20 is in Celsius."], missing=["the target unit"],
                question="Which unit should the result be in?"),
        reading("new_information", new=["Convert into Kelvin."]),
    ), max_questions_per_task=3)  # fmt: skip
    await chat.say("convert 20 degrees")
    await chat.say("Celsius")
    out = await chat.say("Kelvin")
    assert "- Q: Which unit is 20 in? Reply: <<<Celsius>>>" in chat.prompt()
    assert "- Q: Which unit should the result be in? Reply: (this message)" in chat.prompt()
    assert [q["reply"] for q in out["questions"]] == ["Celsius", "Kelvin"]


def test_a_noted_detail_is_never_asked_about() -> None:
    noted = MediatorReading(task_type="math", goal="g", feedback="new_task",
                            assumable_details=["the rounding"])  # fmt: skip
    assert question_for(noted) is not None  # the "always" policy's general question
    chat_context = MediatorContext(base_url=UNUSED_ENDPOINT)
    from langgraph_mediator.core.policy import wants_clarification

    assert not wants_clarification(chat_context, noted, 0)


def test_questions_about_the_same_detail_are_the_same_question() -> None:
    assert same_question(WIDTH_Q, "Could you give me the second triangle's base and height?")
    assert not same_question(WIDTH_Q, "Which unit should the area be in?")


async def test_the_mediator_is_told_what_the_assistant_already_has() -> None:
    environment = "The database has this schema: CREATE TABLE pets"
    chat = chat_with(scripted(reading("new_task", new=["Count the dogs."])),
                assistant_environment=environment)  # fmt: skip
    await chat.say("count the dogs")
    assert (
        "What the assistant already has (never ask the user for it): "
        "<<<The database has this schema: CREATE TABLE pets>>>"
    ) in chat.prompt()


DOCUMENT = "[Document 3]\n" + "The meeting agreed on a budget of 40,000 euros. " * 20
TABLE = "| city | population |\n|---|---|\n| Lisbon | 545000 |\n| Porto | 232000 |"


async def test_pasted_material_reaches_the_assistant_whole_and_never_through_the_model() -> None:
    message = f"summarise the notes below\n\n{DOCUMENT}\n\nand use this table\n\n{TABLE}"
    chat = chat_with(
        scripted(
            reading(
                "new_task",
                goal="Summarise the meeting notes.",
                new=["Use the table the user gave."],
                material=["B4"],
            )
        )
    )
    out = await chat.say(message)
    assert DOCUMENT in out["instruction"] and TABLE in out["instruction"]
    materials = [r for r in out["ledger"] if r.get("kind") == "material"]
    assert [m["text"] for m in materials] == [DOCUMENT, TABLE]
    assert "Blocks of the new message (for material):" in chat.prompt()
    assert "B2 (" in chat.prompt() and DOCUMENT not in chat.prompt().split("NEW USER")[0]
    assert out["mediator_notes"] == ["passed on B2 verbatim as material (code, table or long)"]
    sent = str(chat.assistant.seen[-1][-1].content)
    assert DOCUMENT in sent


async def test_material_in_the_ledger_is_shown_to_the_mediator_by_its_opening_only() -> None:
    chat = chat_with(scripted(
        reading("new_task", goal="Summarise the notes."),
        reading("new_information", new=["Keep it under 100 words."]),
    ))  # fmt: skip
    await chat.say(f"summarise this\n\n{DOCUMENT}")
    await chat.say("keep it under 100 words")
    ledger_part = chat.prompt().split("Questions the Mediator")[0]
    assert "(material, " in ledger_part and DOCUMENT not in ledger_part


async def test_each_requirement_keeps_the_users_own_sentence() -> None:
    chat = chat_with(scripted(reading("new_task", goal="Price the order.",
                                 new=["There are 12 boxes.", "Each box costs $4."])))  # fmt: skip
    out = await chat.say("Price my order. I have 12 boxes. Each one is $4.")
    sources = [r["source"] for r in out["ledger"]]
    assert sources == ["I have 12 boxes.", "Each one is $4."]


async def test_a_fact_the_reading_dropped_is_kept_in_the_users_words() -> None:
    chat = chat_with(scripted(reading("new_task", goal="Price the order.",
                                 new=["There are 12 boxes."])))  # fmt: skip
    out = await chat.say("Price my order. I have 12 boxes. Each one is $4.")
    assert "Each one is $4." in out["instruction"]
    assert out["mediator_notes"] == ["kept the user's words for facts the reading dropped: $4"]


async def test_a_corrected_value_named_in_the_correction_is_not_kept_as_dropped() -> None:
    chat = chat_with(scripted(
        reading("new_task", goal="Price the order.", new=["There are 12 boxes."]),
        reading("correction", changes=[{"requirement_id": "R1", "action": "supersede",
                                        "replacement": "There are 15 boxes."}]),
    ))  # fmt: skip
    await chat.say("price 12 boxes")
    out = await chat.say("no, 15 boxes, not 12")
    assert "12" not in out["instruction"] and "15 boxes" in out["instruction"]
    assert not any("dropped" in note for note in out["mediator_notes"])
