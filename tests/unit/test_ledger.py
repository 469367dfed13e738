"""The requirement ledger: corrections supersede exactly what they name, confirmations nothing."""

from __future__ import annotations

from typing import Any

from langgraph_mediator.core.ledger import (
    active_requirements,
    apply_reading,
    format_ledger,
    refreshed_goal,
)
from langgraph_mediator.state import MediatorReading, Requirement


def read(feedback: str, **fields: Any) -> MediatorReading:
    return MediatorReading(task_type="math", goal="Convert.", feedback=feedback, **fields)  # type: ignore[arg-type]


def ledger_of(*texts: str, task: int = 1) -> list[Requirement]:
    return [
        Requirement(id=f"R{i}", text=t, turn=i, task=task, status="active")
        for i, t in enumerate(texts, 1)
    ]


def test_new_information_adds_and_skips_duplicates() -> None:
    ledger, delta = apply_reading(
        ledger_of("Input is 20."),
        read("new_information", new_requirements=["Output in Kelvin.", "input is 20"]),
        turn=2, task=1,
    )  # fmt: skip
    assert [r["text"] for r in ledger] == ["Input is 20.", "Output in Kelvin."]
    assert delta["added"] == ["R2"] and delta["feedback"] == "new_information"
    assert ledger[1]["turn"] == 2 and ledger[1]["status"] == "active"


def test_correction_supersedes_exactly_the_named_requirement() -> None:
    before = ledger_of("Input is 20.", "Input is in Fahrenheit.", "Round to 1 decimal.")
    change = {"requirement_id": "R2", "action": "supersede",
              "replacement": "Input is in Celsius.", "reason": "user said Celsius"}  # fmt: skip
    ledger, delta = apply_reading(before, read("correction", changes=[change]), turn=4, task=1)
    status = {r["id"]: r["status"] for r in ledger}
    assert status == {"R1": "active", "R2": "superseded", "R3": "active", "R4": "active"}
    assert ledger[1]["superseded_by"] == "R4" and ledger[1]["reason"] == "user said Celsius"
    assert ledger[2]["id"] == "R4" and ledger[2]["text"] == "Input is in Celsius."
    assert [r["text"] for r in active_requirements(ledger, 1)] == [
        "Input is 20.", "Input is in Celsius.", "Round to 1 decimal.",
    ], "the corrected fact stands where the old one stood"  # fmt: skip
    assert delta["superseded"] == ["R2"] and delta["added"] == ["R4"]
    assert ledger[1]["change"] == "supersede"
    assert before[1]["status"] == "active", "the input ledger is not mutated"


def test_a_change_counts_whatever_the_label_and_refine_narrows() -> None:
    before = ledger_of("Sort the list.", "Use any order.")
    change = {"requirement_id": "R2", "action": "refine",
              "replacement": "Sort in descending order.", "reason": "narrowed"}  # fmt: skip
    ledger, delta = apply_reading(before, read("new_information", changes=[change]), turn=3, task=1)
    assert delta["superseded"] == ["R2"] and ledger[1]["change"] == "refine"
    assert [r["text"] for r in active_requirements(ledger, 1)] == [
        "Sort the list.", "Sort in descending order.",
    ]  # fmt: skip


def test_retraction_and_invented_ids() -> None:
    changes = [
        {"requirement_id": "R1", "action": "retract", "reason": "not needed"},
        {"requirement_id": "R9", "action": "supersede", "replacement": "x"},
    ]
    ledger, delta = apply_reading(
        ledger_of("Use a loop.", "Return a list."), read("correction", changes=changes),
        turn=3, task=1,
    )  # fmt: skip
    assert [r["status"] for r in ledger] == ["retracted", "active"]
    assert delta["retracted"] == ["R1"] and delta["ignored"] == ["R9"]
    assert len(ledger) == 2


def test_a_correction_cannot_touch_another_tasks_requirements() -> None:
    old = ledger_of("Old task requirement.", task=1)
    change = {"requirement_id": "R1", "action": "retract"}
    ledger, delta = apply_reading(old, read("correction", changes=[change]), turn=5, task=2)
    assert ledger[0]["status"] == "active" and delta["ignored"] == ["R1"]


def test_confirmation_changes_nothing_even_if_the_model_lists_requirements() -> None:
    before = ledger_of("Input is 20.")
    ledger, delta = apply_reading(
        before, read("confirmation", new_requirements=["Something invented."]), turn=2, task=1
    )
    assert ledger == before
    assert delta == {"feedback": "confirmation", "added": [], "superseded": [],
                     "retracted": [], "ignored": []}  # fmt: skip


def test_active_requirements_and_format() -> None:
    ledger = ledger_of("A.", "B.") + ledger_of("C.", task=2)
    ledger[1]["status"] = "superseded"
    assert [r["text"] for r in active_requirements(ledger, 1)] == ["A."]
    assert format_ledger(active_requirements(ledger, 1)) == "[R1] A."
    assert format_ledger([]) == "(none yet)"


def supersede_in(before: list[Requirement], old_id: str, replacement: str) -> Any:
    change = {"requirement_id": old_id, "action": "supersede", "replacement": replacement}
    return apply_reading(before, read("correction", changes=[change]), turn=3, task=1)


def test_a_goal_naming_a_superseded_value_gets_the_new_one() -> None:
    ledger, delta = supersede_in(ledger_of("Convert 20 degrees.", "Output in Fahrenheit."),
                                 "R2", "Output in Kelvin.")  # fmt: skip
    goal, notes = refreshed_goal("Convert 20 degrees to Fahrenheit.", ledger, delta)
    assert goal == "Convert 20 degrees to Kelvin."
    assert notes == ["goal rewritten: 'Fahrenheit' -> 'Kelvin' (R2 superseded)"]
    ledger, delta = supersede_in(ledger_of("Share 5 apples."), "R1", "Share 7 apples.")
    assert refreshed_goal("Share 5 apples among 3 kids.", ledger, delta)[0] == (
        "Share 7 apples among 3 kids."
    )


def test_an_ambiguous_stale_goal_is_noted_and_an_untouched_one_left_alone() -> None:
    ledger, delta = supersede_in(ledger_of("Output in degrees Fahrenheit."), "R1",
                                 "Output in Kelvin.")  # fmt: skip
    goal, notes = refreshed_goal("Convert to degrees Fahrenheit.", ledger, delta)
    assert goal == "Convert to degrees Fahrenheit." and "goal still mentions" in notes[0]
    assert refreshed_goal("Convert a temperature.", ledger, delta) == ("Convert a temperature.", [])
