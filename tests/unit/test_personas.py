"""Issue 18: personas are pure transformations of a task's shards that keep its facts."""

from __future__ import annotations

import pytest
from fakes import scripted, tool_reply

from langgraph_mediator.evals.datasets import CORRECTIONS_TASKS
from langgraph_mediator.evals.per_user import (
    NO_GUIDELINES_USER,
    OTHER,
    OWN,
    POOLED,
    POOLED_USER,
    guideline_user,
)
from langgraph_mediator.evals.personas import DROPS_UNITS, NEUTRAL, PERSONAS, parse_personas
from langgraph_mediator.evals.simulator import LLMSimulator, RuleBasedSimulator
from langgraph_mediator.evals.tasks import load_tasks
from langgraph_mediator.facts import extract_facts

TASKS = load_tasks([CORRECTIONS_TASKS])


def values(text: str) -> set[str]:
    return {f.value for f in extract_facts(text) if f.kind in ("number", "identifier")}


@pytest.mark.parametrize("name", list(PERSONAS))
def test_a_persona_says_no_fact_the_task_does_not_hold(name: str) -> None:
    persona = PERSONAS[name]
    for task in TASKS:
        told = values("\n".join(task.shards))
        said = [persona.say(task, i, list(range(i))) for i in range(1, len(task.shards))]
        assert values("\n".join(said)) <= told, (task.task_id, said)


@pytest.mark.parametrize("name", list(PERSONAS))
def test_every_persona_changes_how_some_task_is_said(name: str) -> None:
    persona = PERSONAS[name]
    sim = RuleBasedSimulator(persona)
    changed = 0
    for task in TASKS:
        said = [persona.say(task, i, list(range(i))) for i in range(1, len(task.shards))]
        answered = sim.choose(task, [0], "How many kids are coming?", said=2)
        opened = sim.opening(task).text
        filler = sim.choose(task, [0], "Sure.", said=1)
        changed += said != task.shards[1:] or opened != task.shards[0]
        changed += bool(answered and answered.text not in task.shards)
        changed += bool(filler and filler.shard is None)
    assert changed > 0


def test_a_bare_value_correction_loses_its_marker_and_the_stale_value() -> None:
    task = next(t for t in TASKS if t.task_id == "corrections-math/pizza-party")
    said = PERSONAS["bare-values"].say(task, 4, [0, 1, 2, 3])
    assert said == "32 kids, the other class is joining us"


def test_units_are_dropped_only_once_given() -> None:
    task = next(t for t in TASKS if t.task_id == "corrections-math/road-trip-gas")
    assert DROPS_UNITS.say(task, 1, [0]) == task.shards[1]
    assert "miles" not in DROPS_UNITS.say(task, 2, [0, 1])


def test_each_setting_reads_the_right_users_guidelines() -> None:
    personas = list(PERSONAS.values())
    first, second = personas[0], personas[1]
    assert guideline_user("MEDIATOR", first, personas) == NO_GUIDELINES_USER
    assert guideline_user(OWN, first, personas) == first.user_id
    assert guideline_user(OTHER, first, personas) == second.user_id
    assert guideline_user(OTHER, personas[-1], personas) == first.user_id
    assert guideline_user(POOLED, first, personas) == POOLED_USER


def test_an_unknown_persona_is_named_with_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="bare-values"):
        parse_personas("shouty")
    assert len(parse_personas("all")) == 6


async def test_the_llm_simulator_is_told_its_personas_habit_and_the_neutral_one_is_not() -> None:
    task = TASKS[0]
    persona = PERSONAS["bare-values"]
    prompts = []
    for speaker in (persona, NEUTRAL):
        shard = persona.say(task, 1, [0]) if speaker is persona else task.shards[1]
        model = scripted(tool_reply("Rephrasing", {"message": shard}))
        turn = await LLMSimulator(model, persona=speaker).respond(task, [0], "Noted.", said=1)
        assert turn is not None and turn.text == shard
        prompts.append(str(model.seen[0][0].content))
    assert f"You have a habit, keep it: you {persona.habit}." in prompts[0]
    assert "You have a habit" not in prompts[1]
