"""The Mediator core as plain functions: prompt, turn bookkeeping and the ledger's one entry."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, reading, scripted, tool_reply

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.core import (
    aread_message,
    fence,
    mediator_prompt,
    opening_update,
    record_reading,
)
from langgraph_mediator.core.prompts import message_in_prompt
from langgraph_mediator.errors import MediatorError
from langgraph_mediator.evals import plotting
from langgraph_mediator.session import entry_nodes
from langgraph_mediator.state import Intent, MediatorReading, MediatorState, Requirement

CONTEXT = MediatorContext(base_url=UNUSED_ENDPOINT)


def thread() -> MediatorState:
    return MediatorState(
        messages=[], turn=1, task_number=1, questions_asked=1,
        intent=Intent(task_type="math", goal="Convert a temperature.", missing_information=[]),
        ledger=[Requirement(id="R1", text="The input is 20.", turn=1, task=1, status="active")],
    )  # fmt: skip


@pytest.mark.parametrize("message", ["in Celsius", "a >>> b", "two\nlines <<<"])
def test_the_message_reads_back_out_of_the_rendered_turn(message: str) -> None:
    turn = str(mediator_prompt(thread(), message, ["Ask before assuming."])[1].content)
    assert message_in_prompt(turn) == fence(message)[len("<<<") : -len(">>>")]
    assert message_in_prompt("no message here") is None


def test_a_plain_message_reads_back_unchanged() -> None:
    turn = str(mediator_prompt(thread(), "Use 5 cans, not 4.", [])[1].content)
    assert message_in_prompt(turn) == "Use 5 cans, not 4."


async def test_opening_update_counts_the_turn_keeps_the_task_and_spends_nothing() -> None:
    model = scripted(reading("new_information", new=["Output in Celsius."], missing=["x"]))
    read = await aread_message(model, thread(), "in Celsius", [], CONTEXT)
    update = opening_update(thread(), read, "in Celsius", CONTEXT)
    assert (update["turn"], update["task_number"], update["questions_asked"]) == (2, 1, 1)
    assert update["should_clarify"] is True and update["pending_question"] is None
    assert update["turn_usage"]["turn"] == 2 and len(update["turn_usage"]["calls"]) == 1


async def test_a_new_task_resets_the_question_budget() -> None:
    context = MediatorContext(base_url=UNUSED_ENDPOINT, single_task=False)
    read = await aread_message(scripted(reading("new_task", new=["Sort a list."])), thread(),
                           "Now sort a list.", [], context)  # fmt: skip
    update = opening_update(thread(), read, "Now sort a list.", context)
    assert (update["task_number"], update["questions_asked"]) == (2, 0)


async def test_the_ledger_takes_the_stored_reading_in_one_place() -> None:
    model = scripted(reading("correction", changes=[{
        "requirement_id": "R1", "action": "supersede", "replacement": "The input is 25.",
    }]))  # fmt: skip
    state = thread()
    read = await aread_message(model, state, "no, 25", [], CONTEXT)
    state.update(opening_update(state, read, "no, 25", CONTEXT))  # type: ignore[typeddict-item]
    update = record_reading(state)
    assert [(r["id"], r["status"]) for r in update["ledger"]] == [
        ("R1", "superseded"), ("R2", "active"),
    ]  # fmt: skip
    assert update["ledger_delta"]["superseded"] == ["R1"]


def test_a_turn_starts_where_the_graph_is_wired_to_start() -> None:
    assert entry_nodes(build_mediator_graph(scripted(), mediator_model=scripted())) == (
        "detect_intent",
    )


def test_the_harness_names_the_extra_when_matplotlib_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plotting.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MediatorError, match=r"langgraph-mediator\[eval\]"):
        plotting.pyplot()


def test_eval_without_the_extra_stops_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from langgraph_mediator.cli import main

    monkeypatch.setenv("OPENAI_BASE_URL", UNUSED_ENDPOINT)
    monkeypatch.setattr(plotting.importlib.util, "find_spec", lambda name: None)
    assert main(["eval", "--limit", "1", "--settings", "FULL", "--runs", "1"]) == 2
    printed = " ".join(capsys.readouterr().out.split())
    assert "pip install 'langgraph-mediator[eval]'" in printed, "brackets survive Rich markup"
    assert "model endpoint" not in printed, "nothing started before the check"


def test_results_and_the_database_default_outside_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from langgraph_mediator.cli.evaluate import add_arguments
    from langgraph_mediator.persistence import default_db_path, default_results_dir

    monkeypatch.delenv("MEDIATOR_RESULTS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_results_dir() == tmp_path / "langgraph-mediator" / "results"
    assert default_db_path().parent == default_results_dir().parent
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args([]).out.is_absolute(), "eval's --out does not depend on the cwd"
    monkeypatch.setenv("MEDIATOR_RESULTS_DIR", str(tmp_path / "mine"))
    assert default_results_dir() == tmp_path / "mine"


def test_missing_details_not_asked_for_reach_the_assistant_as_not_given_yet() -> None:
    from langgraph_mediator.core import build_instruction
    from langgraph_mediator.core.instruction import NEEDED_HEADER

    intent = Intent(task_type="math", goal="Compare two triangles.",
                    missing_information=["the second triangle's dimensions", " "])  # fmt: skip
    requirement = Requirement(id="R1", text="The first is 3-4-5.", turn=1, task=1, status="active")
    instruction = build_instruction(intent, [requirement])
    assert NEEDED_HEADER in instruction and "do not invent values" in NEEDED_HEADER
    assert "- the second triangle's dimensions" in instruction and "- \n" not in instruction
    assert "Not given yet" not in instruction, "a blocking detail never invites an assumption"
    assert "not given" not in build_instruction({**intent, "missing_information": []}, [])


async def test_a_spent_budget_executes_with_the_missing_detail_named() -> None:
    first = reading("new_task", goal="Compare two triangles.", new=["The first is 3-4-5."],
                    missing=["the second triangle's dimensions"], question="2nd?")  # fmt: skip
    graph = build_mediator_graph(scripted("an answer"), mediator_model=scripted(first))
    out = await graph.ainvoke(
        {"messages": [("user", "Compare two triangles; the first is 3-4-5.")]},
        context=MediatorContext(base_url=UNUSED_ENDPOINT, max_questions_per_task=0),
    )
    assert "- the second triangle's dimensions" in out["instruction"]


def settle(reading_: MediatorReading, state: MediatorState, message: str) -> Any:
    from langgraph_mediator.core.reading import settle_reading

    return settle_reading(reading_, state, message, MediatorContext(base_url=UNUSED_ENDPOINT))


def test_a_first_message_equal_to_the_goal_but_for_a_full_stop_is_not_a_requirement() -> None:
    first = MediatorReading(task_type="math", goal="Convert 20 degrees", feedback="new_task")
    settled, notes = settle(first, MediatorState(messages=[]), "Convert 20 degrees.")
    assert settled.new_requirements == [] and notes == []


def test_a_message_already_in_force_is_not_kept_again_nor_noted() -> None:
    state = MediatorState(messages=[], intent=Intent(task_type="math", goal="Round.",
                          missing_information=[]), task_number=1, turn=1,
                          ledger=[Requirement(id="R1", text="Round to 1 decimal.", turn=1,
                                              task=1, status="active")])  # fmt: skip
    empty = MediatorReading(task_type="math", goal="Round.", feedback="new_information")
    settled, notes = settle(empty, state, "round to 1 decimal")
    assert settled.new_requirements == [] and notes == []


def test_changes_under_another_label_are_applied_and_noted() -> None:
    from langgraph_mediator.state import RequirementChange

    state = MediatorState(messages=[], intent=Intent(task_type="math", goal="Convert.",
                          missing_information=[]), task_number=1, turn=1, ledger=[])  # fmt: skip
    change = RequirementChange(requirement_id="R1", action="supersede", replacement="Kelvin.")
    labelled = MediatorReading(task_type="math", goal="Convert.", feedback="new_information",
                               changes=[change])  # fmt: skip
    _, notes = settle(labelled, state, "in Kelvin")
    assert notes == ["the reading named changes under 'new_information': applied them"]


def test_a_reading_may_leave_its_lists_out_and_its_goal_empty() -> None:
    compact = MediatorReading.model_validate(
        {"task_type": "", "goal": "", "feedback": "confirmation"}
    )
    assert (compact.goal, compact.task_type, compact.new_requirements) == ("", "", [])


def test_the_task_type_and_goal_stay_required_for_grammar_constrained_decoders() -> None:
    required = MediatorReading.model_json_schema()["required"]
    assert sorted(required) == ["feedback", "goal", "task_type"]


def test_a_goal_and_task_type_left_out_mid_task_are_the_current_ones() -> None:
    compact = MediatorReading(task_type="", goal="", feedback="new_information",
                              new_requirements=["The input is 30."])  # fmt: skip
    settled, notes = settle(compact, thread(), "also 30")
    assert (settled.goal, settled.task_type) == ("Convert a temperature.", "math")
    assert notes == []


def test_a_goal_the_reading_gives_mid_task_replaces_the_current_one() -> None:
    rewritten = MediatorReading(task_type="", goal="Convert two temperatures.",
                                feedback="new_information")  # fmt: skip
    settled, _ = settle(rewritten, thread(), "and 30 too")
    assert (settled.goal, settled.task_type) == ("Convert two temperatures.", "math")


async def test_a_new_task_read_without_a_goal_takes_the_message_as_its_goal() -> None:
    model = scripted(
        tool_reply("MediatorReading", {"task_type": "", "goal": "", "feedback": "new_task"})
    )
    read = await aread_message(model, MediatorState(messages=[]), "Sort these words.", [], CONTEXT)
    update = opening_update(MediatorState(messages=[]), read, "Sort these words.", CONTEXT)
    assert update["intent"]["goal"] == "Sort these words."
    assert update["intent"]["task_type"] == "general"
