"""The fact extractor and instruction fidelity: what counts as carried, stale, invented."""

from __future__ import annotations

import pytest

from langgraph_mediator.core.instruction import build_instruction
from langgraph_mediator.evals.fidelity import instruction_fidelity, reasked_count
from langgraph_mediator.facts import carries, extract_facts
from langgraph_mediator.state.mediator import Intent, Requirement


def values(text: str) -> set[tuple[str, str]]:
    return {(f.kind, f.value) for f in extract_facts(text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a muffin sells for $2.50", {("number", "2.5")}),
        ("1,200 people came", {("number", "1200")}),
        ("15% off", {("number", "15")}),
        ("at 3:30 on 2024-05-01", {("number", "3:30"), ("number", "2024-05-01")}),
        ("sales of 2026-03", {("number", "2026-03")}),  # a year-month is one fact, not 2026 and 3
        ("two more hours", {("number", "2")}),
        ("it's for Lisbon", {("name", "lisbon")}),
        ("show temperatures in Celsius", {("name", "celsius")}),
        ("call it running_max", {("identifier", "running_max")}),
        ("use the 'fast' mode", {("quoted", "fast")}),
        ("pay in USD", {("name", "usd")}),
    ],
)
def test_each_kind_of_fact_is_found(text: str, expected: set[tuple[str, str]]) -> None:
    assert values(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Lisbon is lovely",  # a sentence's first word is not taken for a name
        "write a function for one list",  # "one" is an article more often than a count
        "1. first item\n2. second item",  # list markers are not numbers
        "don't, students' grades, e.g. this",  # apostrophes are not quotes; e.g is no identifier
        "OK, I will. Thanks",
    ],
)
def test_what_is_not_a_fact(text: str) -> None:
    assert values(text) == set()


def test_a_number_matches_whatever_its_form() -> None:
    (fact,) = extract_facts("it costs $2.50")
    assert carries("The price is 2.5 dollars.", fact)
    assert not carries("The price is 25 dollars.", fact)


def test_a_name_matches_as_a_whole_word_in_any_case() -> None:
    (fact,) = extract_facts("it's for Lisbon")
    assert carries("LISBON is the city.", fact)
    assert not carries("Lisboners", fact)


def instruction(goal: str, *texts: str, material: str = "") -> str:
    ledger = [Requirement(id=f"R{i}", text=t, turn=i, task=1, status="active")
              for i, t in enumerate(texts, 1)]  # fmt: skip
    if material:
        ledger.append(Requirement(id="R9", text=material, turn=3, task=1, status="active",
                                  kind="material"))  # fmt: skip
    return build_instruction(Intent(task_type="math", goal=goal, missing_information=[]), ledger)


SHARDS = ["how many chairs do I need?", "3 rows of chairs", "no, 5 rows, not 3", "8 per row"]
RECORD = {"stale_facts": ["3"]}


def test_a_faithful_instruction_scores_full_recall_nothing_stale_or_invented() -> None:
    text = instruction("Count the chairs needed.", "There are 5 rows.", "Each row has 8 chairs.")
    fidelity = instruction_fidelity(text, SHARDS, SHARDS, record=RECORD)
    assert (fidelity.recall, fidelity.stale, fidelity.invented) == (1.0, [], [])
    assert fidelity.facts == 2  # 5 and 8; the stale 3 is not expected


def test_a_stale_value_a_missing_one_and_an_invented_one_are_each_counted() -> None:
    text = instruction("Count the chairs.", "There are 3 rows.", "Seats are from IKEA.")
    fidelity = instruction_fidelity(text, SHARDS, SHARDS, record=RECORD)
    assert fidelity.stale == ["3"]
    assert sorted(fidelity.missing) == ["5", "8"] and fidelity.recall == 0.0
    assert fidelity.invented == ["IKEA"]


@pytest.mark.parametrize(
    ("shards", "stale", "instruction_text"),
    [
        (["fly to Denver", "sorry, not Denver, Dallas"], "Denver", "The flight goes to Dallas."),
        (["split on commas", "no, by semicolons"], "commas", "Split on semicolons."),
        (["in fahrenheit", "celsius please"], "fahrenheit", "Show celsius."),
        (["for 2026-03", "sorry, 2026-04"], "2026-03", "Only sales of 2026-04."),
    ],
)
def test_a_declared_stale_value_is_matched_whole_and_never_expected(
    shards: list[str], stale: str, instruction_text: str
) -> None:
    record = {"stale_facts": [stale]}
    corrected = instruction_fidelity(instruction("Do it.", instruction_text), shards, shards,
                                     record=record)  # fmt: skip
    assert (corrected.stale, corrected.missing) == ([], [])
    ignored = instruction_fidelity(instruction("Do it.", f"{instruction_text} Also {stale}."),
                                   shards, shards, record=record)  # fmt: skip
    assert ignored.stale == [stale]


def test_the_instructions_own_scaffolding_is_never_an_invented_fact() -> None:
    text = instruction("Summarise the notes.", material="[Document 7]\nNotes of the meeting.")
    fidelity = instruction_fidelity(text, ["summarise"], ["summarise"])
    assert fidelity.invented == ["7"] and "R9" not in fidelity.invented
    assert instruction_fidelity(text, ["x"], ["[Document 7]"]).invented == []


def test_facts_of_the_assistants_environment_are_not_invented() -> None:
    text = instruction("Count the pets.", "Use the has_pet table.")
    assert instruction_fidelity(text, ["count"], ["count"]).invented == ["has_pet"]
    found = instruction_fidelity(text, ["count"], ["count"], environment="CREATE TABLE has_pet")
    assert found.invented == []


def test_a_question_about_the_same_thing_counts_as_re_asked() -> None:
    questions = [
        "What is the width of the second triangle?",
        "Could you tell me the second triangle's width?",
        "Which unit should the answer use?",
    ]
    assert reasked_count(questions) == 1
