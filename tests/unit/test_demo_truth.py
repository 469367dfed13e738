"""``mediator demo`` tells the truth: each turn's reading checked against what the script means.

The demo is played through the real mediator graph with scripted models: a
Mediator that reads the "Oh wait, ... not 4" turn as new information (the
embedded 135M model's typical misreading) or as the correction it is, and an
Assistant with a wrong or right final answer.
"""

from __future__ import annotations

import io

from fakes import UNUSED_ENDPOINT, reading, scripted, supersede
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.cli import demo
from langgraph_mediator.session import MediatorSession, TurnResult

GOAL = "Work out how many cans of paint to buy for a bedroom."
EMBEDDED = demo.describe_models(
    MediatorContext(base_url=None, mediator_model="smollm2-135m-instruct",
                    assistant_model="smollm2-135m-instruct")
)  # fmt: skip
ENDPOINT = demo.describe_models(
    MediatorContext(base_url="https://llm.example.com/v1", mediator_model="gpt-4o-mini",
                    assistant_model="gpt-4o-mini")
)  # fmt: skip
COMMAND = (
    "OPENAI_BASE_URL=https://api.openai.com/v1 OPENAI_API_KEY=sk-... MEDIATOR_MODEL=gpt-4o-mini "
    "MEDIATOR_ASSISTANT_MODEL=gpt-4o-mini .venv/bin/mediator demo"
)


def readings(*, correction_read_right: bool) -> list[AIMessage]:
    """The Mediator's five readings; turn 4 right (a correction) or misread (new information)."""
    if correction_read_right:
        turn4 = reading(
            "correction",
            goal="",
            task_type="",
            changes=[
                supersede(
                    "R2", "The room has four walls, each 5 m wide and 2.5 m high.", "5 m, not 4 m"
                )
            ],
        )
    else:
        turn4 = reading("new_information", goal="", task_type="",
                        new=["The walls are 5 m wide, not 4."])  # fmt: skip
    return [
        reading("new_task", goal=GOAL, task_type="math",
                new=["Work out how many cans of paint to buy for the bedroom."]),
        reading("new_information", goal="", task_type="",
                new=["The room has four walls, each 4 m wide and 2.5 m high."]),
        reading("new_information", goal="", task_type="",
                new=["One can of paint covers 10 square metres."]),
        turn4,
        reading("new_information", goal="", task_type="", new=["Use two coats of paint."]),
    ]  # fmt: skip


def answers(final: str) -> list[str]:
    return ["I need the room's size.", "And what a can covers?", "4 cans.", "5 cans.", final]


async def play(
    models: demo.DemoModels, mediator: list[AIMessage], assistant: list[str]
) -> tuple[str, list[demo.TurnVerdict]]:
    """Play the demo through the real graph with scripted models; its screen and verdicts."""
    graph = build_mediator_graph(
        scripted(*assistant), mediator_model=scripted(*mediator), checkpointer=InMemorySaver()
    )
    context = MediatorContext(base_url=UNUSED_ENDPOINT, single_task=True,
                              clarification_policy="when_missing")  # fmt: skip
    console = Console(file=io.StringIO(), width=400, record=True)
    verdicts = await demo.present_demo(
        console, MediatorSession(graph, context), "demo-t", models, program=".venv/bin/mediator"
    )
    return " ".join(console.export_text().split()), verdicts


async def test_a_misread_correction_is_called_out_plainly_with_the_endpoint_command() -> None:
    screen, verdicts = await play(
        EMBEDDED, readings(correction_read_right=False), answers("You need 8 cans of paint.")
    )
    assert "Both calls run on the embedded 135M model" in screen, "it says up front what runs"
    assert "two model calls" in screen and "ledger" in screen and "instruction" in screen
    assert ("The embedded 135M model read this as new_information; it is a correction: "
            "the walls are 5 m wide, not 4 m") in screen  # fmt: skip
    assert "So the instruction still says '4 m', which the user took back." in screen
    assert "This is the small model's limit, not the design's" in screen
    assert "tests/fixtures/readings" in screen
    assert [v.ok for v in verdicts] == [True, True, True, False, False]
    assert verdicts[3].misread and verdicts[3].stale == ("4 m",)
    last = verdicts[4]
    assert last.carried and not last.misread, "turn 5 was read right; 4 m is turn 4's doing"
    assert "still says '4 m', left from the misreading at turn 4" in screen
    assert last.wrong_answer and last.answered == ("8",)
    assert "says 8 cans; the right answer is 10 cans" in screen
    assert ("Checked against the script: 3 of 5 turns as expected; turn 4 misread by the "
            "embedded 135M model; turn 5 still wrong from it; the final answer says 8 cans "
            "where 10 is right.") in screen  # fmt: skip
    assert COMMAND in screen
    assert "sk-..." in screen and "sk-" not in screen.replace("sk-...", "")


async def test_a_right_reading_raises_no_alarm() -> None:
    screen, verdicts = await play(
        EMBEDDED, readings(correction_read_right=True), answers("You need 10 cans of paint.")
    )
    assert all(v.ok for v in verdicts), [v.lines for v in verdicts if not v.ok]
    assert "check: misread" not in screen and "wrong answer" not in screen
    assert "limit" not in screen and "not the design's" not in screen
    assert (
        "Read as expected (correction); the instruction states 'four walls', '5 m', "
        "'2.5 m' and '10 square metres a can' and no longer '4 m'."
    ) in screen
    assert "the answer, 10 cans, is right" in screen
    assert "Checked against the script: 5 of 5 turns as expected." in screen
    assert "Every turn was read as the script expects and the final answer is right." in screen
    assert COMMAND in screen, "the embedded run still shows how to try a capable endpoint"


async def test_on_an_endpoint_the_verdict_names_the_model_not_the_135m_one() -> None:
    screen, verdicts = await play(
        ENDPOINT, readings(correction_read_right=False), answers("You need 8 cans of paint.")
    )
    assert "The Mediator runs on gpt-4o-mini, the Assistant on gpt-4o-mini." in screen
    assert "The Mediator model gpt-4o-mini read this as new_information" in screen
    assert "The misreading is the Mediator model gpt-4o-mini's" in screen
    assert "turn 4 misread by the Mediator model gpt-4o-mini" in screen
    assert "135M" not in screen and "small model" not in screen
    assert "OPENAI_API_KEY" not in screen, "already on an endpoint: no command to run"
    assert verdicts[3].misread


async def test_a_wrong_answer_to_a_right_instruction_is_the_assistants() -> None:
    screen, verdicts = await play(
        ENDPOINT, readings(correction_read_right=True), answers("About 3 cans should do.")
    )
    assert [v.misread for v in verdicts] == [False] * 5
    assert verdicts[4].wrong_answer
    assert "The Assistant's answer (the Assistant model gpt-4o-mini) says 3 cans" in screen
    assert "The instruction was right, so this is the Assistant model gpt-4o-mini's mistake." in (
        screen
    )


def result(kind: str, feedback: str, instruction: str = "", reply: str = "") -> TurnResult:
    delta = {"feedback": feedback, "added": [], "superseded": [], "retracted": [], "ignored": []}
    return TurnResult(kind=kind, reply=reply, intent=None, delta=delta,  # type: ignore[arg-type]
                      requirements=[], instruction=instruction, usage=None)  # fmt: skip


def test_a_negated_old_value_is_not_stale_and_2_5_m_is_not_5_m() -> None:
    turn4 = demo.DEMO_SCRIPT[3]
    right = ("Task: Paint.\n1. Four walls, each 5 m wide (not 4 m) and 2.5 m high.\n"
             "2. A can covers 10 m².")  # fmt: skip
    assert demo.judge_turn(4, turn4, result("answer", "correction", right), EMBEDDED).ok
    only_height = "Task: Paint.\n1. Four walls, 4 m wide, 2.5 m high; 10 m² a can."
    verdict = demo.judge_turn(4, turn4, result("answer", "correction", only_height), EMBEDDED)
    assert verdict.misread and verdict.stale == ("4 m",) and verdict.missing == ("5 m",)
    assert "The instruction still says '4 m'" in verdict.lines[0], "the kind was right: no 'So'"


def test_a_question_on_the_last_turn_is_a_misreading() -> None:
    verdict = demo.judge_turn(5, demo.DEMO_SCRIPT[4], result("clarification", "new_information"),
                              EMBEDDED)  # fmt: skip
    assert verdict.misread
    assert any("asked a question on the last turn" in line for line in verdict.lines)


def test_cans_are_counted_but_not_the_coverage() -> None:
    assert demo.cans_in("Each can covers 10 square metres per can, so you need ten cans.") == (
        "10",
    )
    assert demo.cans_in("5 cans per coat, 10 paint cans in all") == ("5", "10")
    assert demo.cans_in("100 m² at 10 m² per can") == ()


def test_the_demo_names_the_command_as_it_was_run() -> None:
    assert demo.invoked_as("/nowhere/langgraph_mediator/cli/__main__.py") == "mediator"
    assert demo.invoked_as(".venv/bin/mediator") in (".venv/bin/mediator", "mediator")
    assert demo.endpoint_command("mediator").endswith(" mediator demo")


def test_several_counts_are_listed_as_a_sentence() -> None:
    verdict = demo.judge_turn(
        5, demo.DEMO_SCRIPT[4],
        result("answer", "new_information",
               "Task: Paint.\n1. Four walls, 5 m wide, 2.5 m high; 10 m² a can; two coats.",
               "6 can of paint per coat, 3 cans, 2 cans, only one can left"),
        EMBEDDED,
    )  # fmt: skip
    assert not verdict.misread and verdict.wrong_answer
    assert verdict.answered == ("6", "3", "2")
    assert "says 6, 3 and 2 cans; the right answer is 10 cans" in verdict.lines[0]
    assert "the Assistant's own arithmetic: a 135M model" in verdict.lines[1]


async def test_an_endpoint_model_left_unnamed_is_named_from_its_calls() -> None:
    unnamed = demo.describe_models(
        MediatorContext(base_url="https://llm.example.com/v1", mediator_model="",
                        assistant_model="")
    )  # fmt: skip
    assert unnamed.mediator_who == "the model the endpoint serves"
    screen, verdicts = await play(
        unnamed, readings(correction_read_right=False), answers("You need 8 cans of paint.")
    )
    assert "The Mediator runs on the model the endpoint serves" in screen
    assert "The Mediator model ScriptedChatModel read this as new_information" in screen
    assert "135M" not in screen and verdicts[3].misread
