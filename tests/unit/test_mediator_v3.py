"""Mediator v3 (issue 30): a state that fits an open conversation, not only one sharded task.

Each test names the item of the issue it pins, and fails on the Mediator
before v3: a new task wiped what holds for the thread, answered requests
stayed live, the Assistant's earlier answers had no place, the fact safeguard
duplicated, the schema took misspelt fields and half-specified changes, open
details lasted one turn, a passed-over detail invited an invented value,
shared words made two questions one, a vague goal stayed vague, and a failed
reading of "yes" dropped the message.
"""

from __future__ import annotations

from typing import Any

import pytest
from fakes import ChatThread, reading, scripted, supersede, tool_reply
from langchain_core.messages import AIMessage

from langgraph_mediator.core import next_step
from langgraph_mediator.core.instruction import ANSWERS_HEADER, NEEDED_HEADER, STANDING_HEADER
from langgraph_mediator.core.policy import question_for, same_question
from langgraph_mediator.core.prompts import MEDIATOR_SYSTEM_PROMPT
from langgraph_mediator.graphs.mediator import route_after_intent
from langgraph_mediator.state import MediatorReading
from langgraph_mediator.state.reading import MAX_REQUIREMENTS

BULLETS = "Answer in bulleted lists for the whole conversation."
DRAFT_TWO = "Version two:\n" + "\n".join(f"- line {i} of the second draft" for i in range(40))


def thread_of(*readings: AIMessage, answers: list[str] | None = None, **context: Any) -> ChatThread:
    """A thread whose Mediator gives ``readings`` and whose Assistant gives ``answers``."""
    return ChatThread(scripted(*readings), scripted(*(answers or ["an answer"] * 10)), **context)


# --- 1. a new task keeps what holds for the thread; an earlier task can be gone back to -----


async def test_a_new_task_keeps_what_the_user_said_for_the_whole_thread() -> None:
    chat = thread_of(
        reading("new_task", goal="Plan a weekend in Lisbon.", standing=[BULLETS],
                new=["The trip is in May."]),
        reading("new_task", goal="Suggest a pasta recipe.", task_type="cooking"),
    )  # fmt: skip
    await chat.say("Plan a weekend in Lisbon in May. Bulleted lists for the whole chat, please.")
    out = await chat.say("Different thing: a pasta recipe?")
    assert out["task_number"] == 2
    assert STANDING_HEADER in out["instruction"] and BULLETS in out["instruction"]
    assert "May" not in out["instruction"], "the trip's requirement left with its task"
    assert f"[R1] {BULLETS}" in chat.prompt(), "the Mediator sees what stands"


async def test_a_standing_preference_is_withdrawn_by_a_correction_in_a_later_task() -> None:
    chat = thread_of(
        reading("new_task", goal="Plan a weekend.", standing=[BULLETS]),
        reading("new_task", goal="Suggest a recipe."),
        reading("correction", goal="", changes=[{"requirement_id": "R1", "action": "retract"}]),
    )
    await chat.say("Plan a weekend; bullets for the whole chat.")
    await chat.say("A recipe?")
    out = await chat.say("forget the bullet points, prose is fine")
    assert BULLETS not in out["instruction"]
    assert out["ledger"][0]["status"] == "retracted"


async def test_a_new_task_that_builds_on_an_earlier_one_carries_its_requirements() -> None:
    chat = thread_of(
        reading("new_task", goal="Plan a trip to NYC.", new=["The trip is in May.",
                                                            "Two kids come along."]),
        reading("new_task", goal="Write a Python script that renames files.", task_type="code",
                new=["It runs on Windows."]),
        reading("new_task", goal="Suggest fun things to do in NYC.", earlier_task="T1"),
    )  # fmt: skip
    await chat.say("Plan a NYC trip in May, with my two kids.")
    await chat.say("Unrelated: a python script that renames files on Windows?")
    out = await chat.say("back to the trip: fun things to do there?")
    assert out["task_number"] == 3
    assert "The trip is in May." in out["instruction"] and "Two kids" in out["instruction"]
    assert "Windows" not in out["instruction"]
    assert out["tasks"][2]["builds_on"] == 1


async def test_going_back_to_an_earlier_task_makes_it_current_as_it_was_left() -> None:
    chat = thread_of(
        reading("new_task", goal="Write an email to my landlord.", new=["The heater is broken."]),
        reading("new_task", goal="Convert 5 miles to km.", task_type="math"),
        reading("new_information", goal="", task_type="", new=["Make it more formal."],
                earlier_task="T1"),
    )  # fmt: skip
    await chat.say("Write an email to my landlord: the heater is broken.")
    await chat.say("5 miles in km?")
    out = await chat.say("back to the email: more formal")
    assert out["task_number"] == 1
    assert out["intent"]["goal"] == "Write an email to my landlord."
    assert "The heater is broken." in out["instruction"] and "formal" in out["instruction"]
    assert "- T1 (answered in turn 1): Write an email to my landlord." in chat.prompt()
    assert "Current task (T2): Convert 5 miles to km." in chat.prompt()


# --- 2. answered requests leave the live instruction, and stay in the record --------------


async def test_an_answered_request_leaves_the_instruction_but_stays_in_the_record() -> None:
    chat = thread_of(
        reading("new_task", goal="Recommend museums in Paris.", new=["Only free museums."]),
        reading("new_task", goal="Recommend restaurants in Paris."),
        reading("new_task", goal="Recommend bars in Paris."),
    )
    await chat.say("Free museums in Paris?")
    out = await chat.say("and restaurants?")
    assert "museum" not in out["instruction"].lower()
    assert out["tasks"][0]["answered_turn"] == 1 and out["tasks"][1]["answered_turn"] == 2
    assert any(r["text"] == "Only free museums." and r["status"] == "active"
               for r in out["ledger"])  # fmt: skip
    await chat.say("and bars?")
    assert "- T1 (answered in turn 1): Recommend museums in Paris." in chat.prompt()


# --- 3. the Assistant's answers are addressable, verbatim, by turn ------------------------


async def test_an_earlier_answer_the_user_points_at_reaches_the_assistant_whole() -> None:
    chat = thread_of(
        reading("new_task", goal="Write a tagline for a coffee shop.", task_type="writing"),
        reading("new_information", goal="", task_type="", new=["Make it longer."]),
        reading("new_information", goal="", task_type="", new=["Make it rhyme."]),
        reading("correction", goal="", task_type="", answers=["A2"],
                new=["Go back to the second draft and keep it as it is."]),
        answers=["Version one: Brewed Slow.", DRAFT_TWO, "Version three: Sip, Sip, Hooray.",
                 "final"],
    )  # fmt: skip
    for text in ("tagline for my coffee shop", "longer", "make it rhyme"):
        await chat.say(text)
    out = await chat.say("no, go back to the second draft")
    assert ANSWERS_HEADER in out["instruction"] and DRAFT_TWO in out["instruction"]
    assert "Sip, Sip, Hooray" not in out["instruction"]
    prompt = chat.prompt()
    assert "- A2 (T1, " in prompt and "line 39 of the second draft" not in prompt, (
        "earlier answers are listed by opening, not whole"
    )
    assert [a["turn"] for a in out["answers"]] == [1, 2, 3, 4]


async def test_an_answer_label_that_names_no_answer_is_dropped_and_noted() -> None:
    chat = thread_of(
        reading("new_task", goal="Write a haiku.", task_type="writing"),
        reading("new_information", goal="", task_type="", answers=["A9"], new=["Shorter."]),
    )
    await chat.say("a haiku please")
    out = await chat.say("shorter")
    assert ANSWERS_HEADER not in out["instruction"]
    assert any("no earlier answer A9" in note for note in out["mediator_notes"])


# --- 4. the fact safeguard does not duplicate what a requirement already states -----------


async def test_a_fact_the_thread_already_holds_is_not_added_again_in_the_users_words() -> None:
    chat = thread_of(
        reading("new_task", goal="Find a dentist.", standing=["The user lives in Denver."]),
        reading("new_task", goal="Find a gym near the user's home."),
    )
    await chat.say("I live in Denver. Can you find me a dentist?")
    out = await chat.say("Now a gym near me in Denver.")
    assert out["instruction"].count("Denver") == 1, out["instruction"]
    assert not any("kept the user's words" in note for note in out["mediator_notes"])


@pytest.mark.parametrize(
    ("message", "requirement"),
    [
        ("We're flying to NYC in May.", "The trip is to New York City in May."),
        ("Budget is 1,200 dollars.", "The budget is $1200."),
    ],
)
async def test_a_fact_a_requirement_states_in_another_form_is_not_duplicated(
    message: str, requirement: str
) -> None:
    chat = thread_of(reading("new_task", goal="Plan a trip.", new=[requirement]))
    out = await chat.say(message)
    assert message not in out["instruction"], out["instruction"]


async def test_a_fact_carried_by_the_answer_the_user_points_at_is_not_duplicated() -> None:
    chat = thread_of(
        reading("new_task", goal="Name a bakery.", task_type="writing"),
        reading("new_information", goal="", task_type="", answers=["A1"],
                new=["Use the first name from before."]),
        answers=["1. Crumb Castle\n2. Dough Nation", "ok"],
    )  # fmt: skip
    await chat.say("names for my bakery")
    out = await chat.say("use Crumb Castle from before")
    assert "use Crumb Castle from before" not in out["instruction"]


# --- 5. a reading schema for conversations ------------------------------------------------


async def test_a_misspelt_field_is_refused_and_the_retry_fires() -> None:
    args = {"task_type": "math", "goal": "Add.", "feedback": "new_task", "new_requirement": ["2+2"]}
    misspelt = tool_reply("MediatorReading", args)
    chat = thread_of(misspelt, reading("new_task", goal="Add.", new=["Add 2 and 2."]))
    out = await chat.say("add 2 and 2")
    assert len(out["turn_usage"]["calls"]) == 3 and out["turn_usage"]["fallback"] is None
    assert "Add 2 and 2." in out["instruction"]
    retry = chat.mediator.seen[1]
    assert "new_requirement" in str(retry[-1].content), "the retry says what was refused"


@pytest.mark.parametrize(
    "change",
    [
        {"requirement_id": "R1", "action": "refine"},
        {"requirement_id": "R1", "action": "supersede", "replacement": " "},
        {"requirement_id": "R1", "action": "retract", "replacement": "$25.99 at the end."},
    ],
)
def test_a_half_specified_change_is_refused(change: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="R1"):
        MediatorReading.model_validate(
            {"task_type": "", "goal": "", "feedback": "correction", "changes": [change]}
        )


async def test_a_refused_change_deletes_nothing() -> None:
    half = reading("correction", goal="", changes=[{"requirement_id": "R1", "action": "refine"}])
    chat = thread_of(
        reading("new_task", goal="Price a basket.", new=["The total is $25.99 at the end."]),
        half, half,
    )  # fmt: skip
    await chat.say("price it, $25.99 at the end")
    out = await chat.say("make it more exact")
    assert out["ledger"][0]["status"] == "active" and "$25.99" in out["instruction"]


def test_a_real_messages_facts_fit_the_caps() -> None:
    facts = [f"Guest {i} eats no {food}." for i, food in enumerate("abcdefghijkl", 1)]
    parsed = MediatorReading.model_validate(
        {"task_type": "event planning for a large family dinner", "goal": "Plan a dinner.",
         "feedback": "new_task", "new_requirements": facts, "standing": [BULLETS]}
    )  # fmt: skip
    assert len(parsed.new_requirements) == 12 <= MAX_REQUIREMENTS


# --- 6. open details last until given -----------------------------------------------------


async def test_an_open_detail_survives_an_ok_and_the_mediator_sees_it() -> None:
    chat = thread_of(
        reading("new_task", goal="Book a table.", missing=["how many people"],
                assumable=["the time of day"]),
        reading("confirmation", goal=""),
        clarification_policy="never",
    )  # fmt: skip
    await chat.say("book a table for us")
    out = await chat.say("ok")
    assert "- how many people" in out["instruction"] and "- the time of day" in out["instruction"]
    assert "- blocking: how many people" in chat.prompt()
    assert "- assumable: the time of day" in chat.prompt()


# --- 7. a passed-over detail is never an invitation to invent it ------------------------


async def test_a_detail_the_user_could_not_give_is_needed_not_assumed() -> None:
    missing = ["the second triangle's base and height"]
    chat = thread_of(
        reading("new_task", goal="Add two triangles' areas.", new=["The first is 3 by 4."],
                missing=missing, question="What are the second triangle's base and height?"),
        reading("new_information", goal="", missing=missing),
    )  # fmt: skip
    await chat.say("total area of two triangles, the first is 3 by 4")
    out = await chat.say("I don't have that detail")
    assert out["should_clarify"] is False, "never asked twice"
    assert NEEDED_HEADER in out["instruction"] and missing[0] in out["instruction"]
    assert "state what you assume" not in out["instruction"]
    assert "stays here; it is not asked again" in MEDIATOR_SYSTEM_PROMPT


# --- 8. two questions are one only when they ask about the same thing -------------------


def test_questions_naming_different_things_are_different_questions() -> None:
    google = "In which county should the Google lawsuit search run?"
    facebook = "In which county should the Facebook lawsuit search run?"
    assert not same_question(google, facebook)
    assert same_question(google, "In which county should the Google lawsuit search be run?")
    asked = [{"turn": 1, "task": 1, "question": google, "details": [], "reply": "Cook"}]
    ask = MediatorReading.model_construct(
        task_type="", goal="", feedback="new_information", missing_information=["the county"],
        clarifying_question=facebook,
    )  # fmt: skip
    chosen = question_for(ask, asked)  # type: ignore[arg-type]
    assert chosen is not None and chosen.text == facebook


# --- 9. a vague opening does not keep the goal vague ------------------------------------


async def test_a_vague_goal_is_rewritten_once_the_task_arrives() -> None:
    assert "while the current goal is still vague" in MEDIATOR_SYSTEM_PROMPT
    chat = thread_of(
        reading("new_task", goal="Help the user with something.", task_type="general"),
        reading("new_information", goal="Work out the area of a triangle with sides 3, 4, 5.",
                task_type="math", new=["The sides are 3, 4 and 5."]),
    )  # fmt: skip
    await chat.say("I need help with something")
    out = await chat.say("the area of a triangle with sides 3, 4, 5")
    assert out["intent"]["goal"].startswith("Work out the area")
    assert out["instruction"].startswith("Task: Work out the area")


# --- 10. a failed reading of "yes" keeps what it answers ---------------------------------

MALFORMED = [AIMessage("not a tool call"), AIMessage("still not")]


async def test_a_failed_reading_of_yes_keeps_it_as_the_reply_to_the_open_question() -> None:
    chat = thread_of(
        reading("new_task", goal="Convert 20 degrees.", new=["Convert 20 degrees."],
                missing=["the unit"], question="Is 20 in Celsius?"),
        *MALFORMED,
    )  # fmt: skip
    await chat.say("convert 20 degrees")
    out = await chat.say("yes")
    assert out["turn_usage"]["fallback"] is not None
    assert 'To the question "Is 20 in Celsius?" the user replied: yes' in out["instruction"]


async def test_a_failed_reading_of_yes_answers_the_question_the_answer_ended_on() -> None:
    chat = thread_of(
        reading("new_task", goal="Convert 20 degrees.", new=["Convert 20 degrees C to F."]),
        *MALFORMED,
        answers=["That is 68 F. Should I round it?", "68"],
    )  # fmt: skip
    await chat.say("convert 20 degrees C to F")
    out = await chat.say("yes")
    assert "Should I round it?" in out["instruction"] and "replied: yes" in out["instruction"]


@pytest.mark.parametrize(
    "second",
    [MALFORMED, [reading("new_information", goal="", new=["The user is satisfied."])]],
    ids=["failed reading", "read with a requirement"],
)
async def test_an_ok_with_no_question_open_is_a_confirmation(second: list[AIMessage]) -> None:
    chat = thread_of(
        reading("new_task", goal="Convert 20 degrees.", new=["Convert 20 degrees C to F."]),
        *second,
        answers=["68 F.", "68 F."],
    )  # fmt: skip
    first = await chat.say("convert 20 degrees C to F")
    out = await chat.say("ok")
    assert out["reading"]["feedback"] == "confirmation"
    assert out["instruction"] == first["instruction"]


# --- one decision, one accessor -------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "step", "node"),
    [
        ({"should_clarify": True, "reading": {"feedback": "continuation"}}, "clarify", "clarify"),
        ({"reading": {"feedback": "continuation"}}, "wait", "wait_for_more"),
        ({"reading": {"feedback": "correction"}}, "instruct", "classify_feedback"),
        ({}, "instruct", "classify_feedback"),
    ],
)
def test_the_graph_routes_by_the_one_decision(state: dict[str, Any], step: str, node: str) -> None:
    assert next_step(state) == step
    assert route_after_intent(state) == node  # type: ignore[arg-type]


async def test_an_earlier_task_label_in_a_single_task_thread_is_kept_in_the_task() -> None:
    chat = thread_of(
        reading("new_task", goal="Add.", new=["Add 2 and 2."]),
        reading("new_information", goal="", new=["Then double it."], earlier_task="T7"),
        single_task=True,
    )  # fmt: skip
    await chat.say("add 2 and 2")
    out = await chat.say("then double it")
    assert out["task_number"] == 1 and "Then double it." in out["instruction"]


async def test_supersede_helper_still_applies_under_v3() -> None:
    chat = thread_of(
        reading("new_task", goal="Paint a room.", new=["The walls are 4 m wide."]),
        reading("correction", goal="", changes=[supersede("R1", "The walls are 5 m wide.")]),
    )
    await chat.say("paint a room, walls 4 m wide")
    out = await chat.say("oh wait, 5 m wide not 4")
    assert "5 m" in out["instruction"] and "4 m" not in out["instruction"]


def test_the_models_question_is_about_the_first_detail_not_asked_before() -> None:
    passed_over = "the bike's price"
    asked = [{"turn": 2, "task": 1, "question": "What does the bike cost?",
              "details": [passed_over], "reply": "not sure"}]  # fmt: skip
    ask = MediatorReading.model_construct(
        task_type="", goal="", feedback="new_information", clarifying_question="How much "
        "does she save each week?", missing_information=[passed_over, "the weekly savings"],
    )  # fmt: skip
    chosen = question_for(ask, asked)  # type: ignore[arg-type]
    assert chosen is not None
    assert chosen == ("How much does she save each week?", ["the weekly savings"])


# --- what the open replays found --------------------------------------------------------


def test_a_contraction_is_no_name_so_its_sentence_is_not_kept_again() -> None:
    from langgraph_mediator.facts import extract_facts

    assert extract_facts("ok thanks, I'll deploy later and I'm done, I'd say, I've seen") == []
    assert [f.text for f in extract_facts("ok, I'll fly to Lisbon")] == ["Lisbon"]


async def test_a_new_task_may_build_on_the_task_it_follows() -> None:
    chat = thread_of(
        reading("new_task", goal="Estimate a mortgage payment.", task_type="finance",
                new=["The loan is $300,000 over 30 years."]),
        reading("new_task", goal="Compare it with a 15-year term.", earlier_task="T1"),
    )  # fmt: skip
    await chat.say("monthly payment on a $300,000 loan over 30 years?")
    out = await chat.say("and what if it were 15 years instead?")
    assert out["task_number"] == 2 and out["tasks"][1]["builds_on"] == 1
    assert "The loan is $300,000 over 30 years." in out["instruction"]
    assert not any("no earlier task" in note for note in out["mediator_notes"])


async def test_building_on_a_task_carries_its_requirements_not_the_answers_it_was_handed() -> None:
    chat = thread_of(
        reading("new_task", goal="Plan a June trip to Montreal.", new=["The trip is in June."]),
        reading("new_information", goal="", task_type="", answers=["A1"], new=["Shorter."]),
        reading("new_task", goal="Suggest what to pack for Montreal.", earlier_task="T1"),
        answers=["June is warm, highs around 23°C.", "Warm June.", "Pack layers."],
    )  # fmt: skip
    await chat.say("plan a june trip to montreal")
    await chat.say("shorter")
    out = await chat.say("what should I pack for it?")
    assert "The trip is in June." in out["instruction"]
    assert ANSWERS_HEADER not in out["instruction"], "the answers were that task's own work"


def test_a_goal_is_not_flagged_for_the_filler_words_of_a_withdrawn_requirement() -> None:
    from langgraph_mediator.core.ledger import refreshed_goal

    ledger = [{"id": "R1", "text": "Bullets for the answer.", "turn": 1, "task": 1,
               "status": "retracted"}]  # fmt: skip
    delta = {"feedback": "correction", "added": [], "superseded": [], "retracted": ["R1"],
             "ignored": []}  # fmt: skip
    goal = "Turn the notes into a cover letter for the job."
    assert refreshed_goal(goal, ledger, delta) == (goal, [])  # type: ignore[arg-type]


async def test_a_read_yes_to_an_open_question_keeps_what_the_reading_says_it_means() -> None:
    chat = thread_of(
        reading("new_task", goal="Convert 20 degrees.", new=["Convert 20 degrees."]),
        reading("new_information", goal="", new=["Give the result in Celsius."]),
        answers=["Should I give it in Celsius?", "-6.7"],
    )  # fmt: skip
    await chat.say("convert 20 degrees F")
    out = await chat.say("yes")
    assert "Give the result in Celsius." in out["instruction"]


async def test_going_back_to_a_task_may_name_its_requirements_by_the_ids_a_copy_showed() -> None:
    chat = thread_of(
        reading("new_task", goal="Write a SQL query of orders.", task_type="code",
                new=["Count the orders per customer."]),
        reading("new_task", goal="Suggest an index for the query.", earlier_task="T1"),
        reading("correction", goal="", earlier_task="T1",
                changes=[{"requirement_id": "R2", "action": "retract"}]),
    )  # fmt: skip
    await chat.say("a query of orders, with the count per customer")
    built = await chat.say("an index for this?")
    assert [r["id"] for r in built["ledger"]] == ["R1", "R2"], "R2 is T2's copy of R1"
    out = await chat.say("back to the query: drop the counts")
    assert out["task_number"] == 1 and out["ledger"][0]["status"] == "retracted"
    assert "Count the orders" not in out["instruction"]


def test_the_mediators_prompt_does_not_grow_with_the_threads_text() -> None:
    from langgraph_mediator.core import mediator_prompt

    def thread_after(turns: int) -> Any:
        answer = "A long answer. " * 200
        numbers = range(1, turns + 1)
        tasks = [
            {"number": n, "turn": n, "answered_turn": n, "builds_on": None,
             "intent": {"task_type": "t", "goal": f"Request {n}.", "missing_information": []}}
            for n in numbers
        ]  # fmt: skip
        return {
            "messages": [], "turn": turns, "task_number": turns, "tasks": tasks, "ledger": [],
            "intent": tasks[-1]["intent"], "last_answer": answer,
            "answers": [{"turn": n, "task": n, "text": answer} for n in numbers],
        }  # fmt: skip

    def size(turns: int) -> int:
        return sum(len(str(m.content)) for m in mediator_prompt(thread_after(turns), "next?", []))

    assert size(50) - size(10) < 100, "earlier tasks and answers are listed latest few, by opening"
    assert size(50) < size(1) + 3_000
