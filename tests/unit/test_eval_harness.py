"""The benchmark's pieces with scripted models and the rule-based simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fakes import UNUSED_ENDPOINT, FlakyModel, reading, scripted
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration
from langgraph.store.memory import InMemoryStore

from langgraph_mediator.evals.benchmark import Benchmark, split_tasks
from langgraph_mediator.evals.cache import ResponseCache, cache_scope
from langgraph_mediator.evals.conversation import (
    ConversationResult,
    EvalEnvironment,
    Setting,
    TurnLog,
    run_conversation,
)
from langgraph_mediator.evals.metrics import gap_recovery, percentile, summarize, task_metrics
from langgraph_mediator.evals.report import write_report
from langgraph_mediator.evals.simulator import DONT_KNOW, RuleBasedSimulator
from langgraph_mediator.evals.tasks import TaskFormatError, load_tasks, parse_task
from langgraph_mediator.state import MediatorContext

LIC_DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "lic" / "sharded_dev.jsonl"

PAINT = {
    "task_id": "paint",
    "task": "math",
    "answer": "50 m2, 2 coats, 10 m2/can\n#### 10",
    "question": "Walls of 50 m2, two coats, one can covers 10 m2: how many cans?",
    "shards": [
        {"shard_id": 1, "shard": "How many cans of paint do I need?"},
        {"shard_id": 2, "shard": "The walls are 50 square metres in total."},
        {"shard_id": 3, "shard": "I want two coats."},
        {"shard_id": 4, "shard": "One can covers 10 square metres."},
    ],
}


def task(**changes: Any) -> Any:
    return parse_task({**PAINT, **changes})


def env_with(assistant: Any, mediator: Any = None, **fields: Any) -> EvalEnvironment:
    context = MediatorContext(base_url=UNUSED_ENDPOINT, clarification_policy="never")
    return EvalEnvironment(assistant=assistant, mediator=mediator, context=context, **fields)


# --- task records ---------------------------------------------------------------------------


def write_jsonl(path: Path, *records: Any) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records))
    return path


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({**PAINT, "answer": "ten"}, r"tasks.jsonl:1 \(task_id 'paint'\): field 'answer'"),
        ({**PAINT, "task": "poetry"}, "field 'task' must be one of"),
        ({**PAINT, "shards": []}, "field 'shards'"),
        (
            {**PAINT, "shards": [{"shard_id": 1, "shard": "  "}]},
            r"field 'shards\[0\].shard' is empty",
        ),
        ({k: v for k, v in PAINT.items() if k != "task_id"}, "field 'task_id'"),
        ("{not json", "tasks.jsonl:1: not valid JSON"),
    ],
)
def test_malformed_records_name_the_record_and_field(
    tmp_path: Path, record: Any, message: str
) -> None:
    with pytest.raises(TaskFormatError, match=message):
        load_tasks([write_jsonl(tmp_path / "tasks.jsonl", record)])


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(TaskFormatError, match="tasks.jsonl:2 .* duplicate"):
        load_tasks([write_jsonl(tmp_path / "tasks.jsonl", PAINT, PAINT)])


def test_the_released_format_loads() -> None:
    if not LIC_DEV.exists():
        pytest.skip("../shared/data/lic is not beside this checkout")
    tasks = load_tasks([LIC_DEV])
    assert len(tasks) == 18
    assert {t.family for t in tasks} == {
        "code",
        "database",
        "actions",
        "math",
        "data2text",
        "summary",
    }
    summary = next(t for t in tasks if t.family == "summary")
    assert "[Document" in summary.shards[0] and summary.shards[0].startswith("Write a summary")
    assert len(load_tasks([LIC_DEV], families=["math"], limit=2)) == 2


# --- the simulated user ---------------------------------------------------------------------


async def test_simulator_reveals_one_shard_per_turn_in_order() -> None:
    sim, t = RuleBasedSimulator(), task()
    assert sim.opening(t).shard == 0
    revealed = [0]
    for expected in (1, 2, 3):
        turn = await sim.respond(t, revealed, "Here is my answer: 4 cans.")
        assert turn is not None and turn.shard == expected and turn.text == t.shards[expected]
        revealed.append(expected)
    assert await sim.respond(t, revealed, "anything") is None


async def test_simulator_answers_a_question_with_the_right_shard() -> None:
    sim, t = RuleBasedSimulator(), task()
    turn = await sim.respond(t, [0], "How much does one can cover, in square metres?")
    assert turn is not None and turn.shard == 3 and turn.text == t.shards[3]


async def test_simulator_says_it_does_not_know_and_invents_nothing() -> None:
    sim, t = RuleBasedSimulator(), task()
    turn = await sim.respond(t, [0], "What colour would you like?")
    assert turn is not None and turn.text == f"{DONT_KNOW} {t.shards[1]}" and turn.shard == 1


# --- metrics ----------------------------------------------------------------------------------


def test_metrics_on_known_numbers() -> None:
    metrics = task_metrics([0.2, 0.4, 0.6, 0.8, 1.0])
    assert metrics.performance == pytest.approx(60)
    assert metrics.aptitude == pytest.approx(92)
    assert metrics.unreliability == pytest.approx(92 - 28)
    assert percentile([5.0], 90) == 5.0
    assert gap_recovery(86.9, 53.6, 73.9) == pytest.approx(0.6096, abs=1e-4)
    assert gap_recovery(50, 50, 60) is None


def test_summary_averages_tasks_and_counts_turns() -> None:
    def result(task_id: str, score: float, strategies: list[str]) -> ConversationResult:
        turns = [
            TurnLog(user="u", reply="r", shard=None, strategy=s, calls=2, prompt_tokens=100)
            for s in strategies
        ]
        return ConversationResult("MEDIATOR", task_id, "math", 0, score=score, turns=turns)

    summary = summarize(
        "MEDIATOR",
        [
            result("a", 1.0, ["clarification", "answer_attempt"]),
            result("a", 0.0, ["answer_attempt"]),
            result("b", 1.0, ["answer_attempt"]),
        ],
    )
    assert summary.performance == pytest.approx((50 + 100) / 2)
    assert summary.clarification_rate == pytest.approx(1 / 4)
    assert summary.calls_per_turn == 2 and summary.turns_per_conversation == pytest.approx(4 / 3)


# --- conversations ----------------------------------------------------------------------------


async def test_full_is_one_turn_with_the_fully_specified_instruction() -> None:
    assistant = scripted("You need 10 cans.")
    result = await run_conversation(env_with(assistant), task(), Setting.FULL, 0)
    assert assistant.seen[0] == [HumanMessage(PAINT["question"])]
    assert result.score == 1.0 and len(result.turns) == 1 and result.error is None


async def test_sharded_sends_raw_history_and_stops_at_the_first_correct_answer() -> None:
    assistant = scripted("You need 5 cans.", "Then 10 cans? Hmm, 5 cans.", "10 cans.", "unused")
    result = await run_conversation(env_with(assistant), task(), Setting.SHARDED, 3)
    assert [t.shard for t in result.turns] == [0, 1, 2]
    assert [t.score for t in result.turns] == [0.0, 0.0, 1.0]
    assert result.score == 1.0 and result.run == 3
    assert len(assistant.seen[2]) == 5, "three user turns and two replies"


async def test_snowball_restates_earlier_shards_and_recap_adds_a_last_turn() -> None:
    snow = await run_conversation(
        env_with(scripted("1 can.", "2 cans.", "3 cans.", "4 cans.")), task(), Setting.SNOWBALL, 0
    )
    assert snow.turns[2].user.startswith("So far:\n- How many cans of paint do I need?")
    recap = await run_conversation(
        env_with(scripted("1 can.", "2 cans.", "3 cans.", "4 cans.", "10 cans.")),
        task(),
        Setting.RECAP,
        0,
    )
    assert len(recap.turns) == 5 and recap.turns[-1].user.startswith("To recap")
    assert recap.score == 1.0


async def test_no_answer_attempt_scores_zero() -> None:
    result = await run_conversation(
        env_with(scripted("Which room?", "How big?", "Which paint?", "Anything else?")),
        task(),
        Setting.SHARDED,
        0,
    )
    assert result.score == 0.0 and result.detail == "no answer attempt"


async def test_mediator_setting_answers_its_questions_from_the_shards() -> None:
    mediator = scripted(
        reading(
            "new_task",
            goal="Count paint cans.",
            new=["Count cans of paint."],
            missing=["area"],
            question="What is the total area of the walls in square metres?",
        ),
        reading("new_information", new=["The walls are 50 square metres."]),
        reading("new_information", new=["Two coats."]),
        reading("new_information", new=["One can covers 10 square metres."]),
    )
    assistant = scripted("5 cans.", "10 cans.")
    env = env_with(assistant, mediator)
    env.context = MediatorContext(base_url=UNUSED_ENDPOINT)
    result = await run_conversation(env, task(), Setting.MEDIATOR, 0)
    assert [t.strategy for t in result.turns][0] == "clarification"
    assert result.turns[1].user == PAINT["shards"][1]["shard"], (
        "the simulator answered the question"
    )
    assert "Two coats." in result.turns[-1].instruction
    assert assistant.seen[-1] == [HumanMessage(result.turns[-1].instruction)]
    assert result.score == 1.0 and result.turns[0].calls == 1 and result.turns[1].calls == 2


class OverflowingModel(FlakyModel):
    """Rejects every request as a prompt over the context window (HTTP 400)."""

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        request = httpx.Request("POST", UNUSED_ENDPOINT)
        raise openai.BadRequestError(
            "maximum context length is 4096 tokens",
            response=httpx.Response(400, request=request),
            body=None,
        )


@pytest.mark.parametrize("setting", [Setting.FULL, Setting.SHARDED])
async def test_a_rejected_request_is_recorded_as_a_failed_conversation(setting: Setting) -> None:
    assistant = OverflowingModel(messages=iter([]), seen=[])
    result = await run_conversation(env_with(assistant), task(), setting, 0)
    assert result.error is not None and "maximum context length" in result.error
    assert result.score == 0.0


async def test_endpoint_errors_are_recorded_not_raised() -> None:
    mediator = FlakyModel(messages=iter([]), seen=[])
    result = await run_conversation(env_with(scripted("x"), mediator), task(), Setting.MEDIATOR, 0)
    assert result.error is not None and "Cannot reach" in result.error and result.score == 0.0


# --- resume, cache, report --------------------------------------------------------------------


async def test_a_rerun_skips_finished_conversations(tmp_path: Path) -> None:
    def bench(assistant: Any) -> Benchmark:
        return Benchmark(
            env=env_with(assistant),
            tasks=[task()],
            settings=[Setting.FULL],
            runs=2,
            out_dir=tmp_path,
            run_name="t",
        )

    first = bench(scripted("10 cans.", "4 cans."))
    await first.run()
    assert sorted(r.score for r in first.results.done.values()) == [0.0, 1.0]
    again = bench(scripted())  # any model call would fail: nothing may be replayed
    await again.run()
    assert len(again.results.done) == 2
    assert len((tmp_path / "conversations.jsonl").read_text().splitlines()) == 2


def test_the_response_cache_is_keyed_by_request_and_scope(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    model = scripted("first", "second", "third").model_copy(update={"cache": cache})
    with cache_scope("run=0"):
        assert model.invoke("hi").content == "first"
        assert model.invoke("hi").content == "first"
    with cache_scope("run=1"):
        assert model.invoke("hi").content == "second"
    reopened = ResponseCache(tmp_path / "cache.sqlite")
    replay = scripted().model_copy(update={"cache": reopened})
    with cache_scope("run=1"):
        assert isinstance(replay.invoke("hi"), AIMessage) and reopened.hits == 1


def test_the_embedded_servers_port_is_not_part_of_the_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langgraph_mediator.evals import cache as cache_module

    cache = ResponseCache(tmp_path / "cache.sqlite")
    generations: Any = [ChatGeneration(message=AIMessage("seven"))]
    for port, other in ((41001, 41002), (41002, 41001)):
        monkeypatch.setattr(
            cache_module, "embedded_base_url", lambda p=port: f"http://127.0.0.1:{p}/v1"
        )
        if port == 41001:
            cache.update("prompt", 'model "http://127.0.0.1:41001/v1"', generations)
        # A later process's embedded server listens elsewhere: the same request still hits.
        assert cache.lookup("prompt", f'model "http://127.0.0.1:{port}/v1"') is not None
        # Another endpoint on another port is another model.
        assert cache.lookup("prompt", f'model "http://127.0.0.1:{other}/v1"') is None


def test_split_is_stable_and_disjoint() -> None:
    tasks = [task(task_id=f"t{i}") for i in range(20)]
    train, test = split_tasks(tasks, 0.3)
    assert {t.task_id for t in train}.isdisjoint({t.task_id for t in test})
    assert len(train) + len(test) == 20 and 0 < len(train) < 20
    assert [t.task_id for t in split_tasks(tasks, 0.3)[0]] == [t.task_id for t in train]


def test_report_writes_tables_and_plots(tmp_path: Path) -> None:
    results = [
        ConversationResult(s, "paint", "math", r, score=score)
        for s, score in (("FULL", 1.0), ("SHARDED", 0.0), ("MEDIATOR", 0.5))
        for r in range(2)
    ]
    path = write_report(tmp_path, results, ["FULL", "SHARDED", "MEDIATOR"], header={"run": "x"})
    text = path.read_text()
    assert "| MEDIATOR | 1 | 2 | 50.0 |" in text and "MEDIATOR 50%" in text
    for plot in ("score_by_family.png", "metrics.png", "recovery.png"):
        assert (tmp_path / plot).stat().st_size > 1000


async def test_mediator_refiner_learns_on_train_and_runs_on_test(tmp_path: Path) -> None:
    tasks = [task(task_id=f"t{i}") for i in range(6)]
    train, test = split_tasks(tasks, 0.5)
    assert train and test
    store = InMemoryStore()
    replies = [reading("new_task", new=["Count cans."])] * (len(train) + len(test)) * 4
    env = env_with(scripted(*["10 cans."] * 50), scripted(*replies), store=store)
    bench = Benchmark(
        env=env,
        tasks=tasks,
        settings=[Setting.MEDIATOR_REFINER],
        runs=1,
        out_dir=tmp_path,
        run_name="r",
        train_fraction=0.5,
    )
    await bench.run(refiner_model=scripted())
    done = bench.results.done
    assert {k[1] for k in done if k[0] == "MEDIATOR"} == {t.task_id for t in train}
    assert {k[1] for k in done if k[0] == "MEDIATOR+REFINER"} == {t.task_id for t in test}
    assert bench.refine_report is not None and bench.refine_report.pairs == []


# --- instruction fidelity and FINAL -----------------------------------------------------------


def paint_readings() -> list[AIMessage]:
    return [
        reading("new_task", goal="Count paint cans.", new=["Count cans of paint."]),
        reading("new_information", new=["The walls are 50 square metres."]),
        reading("new_information", new=["Two coats."]),
        reading("new_information", new=["One can covers 10 square metres."]),
    ]


async def test_a_mediated_conversation_records_the_fidelity_of_its_final_instruction() -> None:
    env = env_with(
        scripted("5 cans.", "no idea", "still 5", "10 cans."), scripted(*paint_readings())
    )
    result = await run_conversation(env, task(), Setting.MEDIATOR, 0)
    assert result.fidelity is not None
    assert result.fidelity["recall"] == 1.0, result.fidelity["missing"]
    assert (result.fidelity["stale"], result.fidelity["invented"]) == ([], [])
    bare = await run_conversation(env_with(scripted("10 cans.")), task(), Setting.SHARDED, 0)
    assert bare.fidelity is None, "only mediated settings have an instruction"


async def test_final_reveals_every_shard_then_answers_once_from_the_instruction_alone() -> None:
    assistant = scripted("10 cans.", "10 cans.", "10 cans.", "10 cans.", "The answer is 10.")
    env = env_with(assistant, scripted(*paint_readings()))
    result = await run_conversation(env, task(), Setting.FINAL, 0)
    assert [t.shard for t in result.turns] == [0, 1, 2, 3, None], "no stop at a correct answer"
    final = result.turns[-1]
    assert assistant.seen[-1] == [HumanMessage(result.turns[-2].instruction)]
    assert final.user == result.turns[-2].instruction and final.score == 1.0
    assert result.score == 1.0 and all(t.score is None for t in result.turns[:-1])
    assert result.fidelity is not None and result.fidelity["invented"] == []


async def test_final_scores_only_its_one_answer() -> None:
    assistant = scripted("10 cans.", "10 cans.", "10 cans.", "10 cans.", "The answer is 7.")
    result = await run_conversation(
        env_with(assistant, scripted(*paint_readings())), task(), Setting.FINAL, 0
    )
    assert result.score == 0.0, "correct answers mid-conversation do not count in FINAL"


def test_the_report_carries_fidelity_and_counts_corrections_as_their_own_family(
    tmp_path: Path,
) -> None:
    fidelity = {"facts": 4, "carried": 3, "missing": ["8"], "stale": ["3"], "invented": [],
                "questions": 2, "reasked": 1, "has_instruction": True, "recall": 0.75}  # fmt: skip
    results = [
        ConversationResult("MEDIATOR", "c1", "math", 0, score=1.0, fidelity=fidelity,
                           variant="corrections"),
        ConversationResult("MEDIATOR", "p1", "math", 0, score=0.0, fidelity=fidelity),
    ]  # fmt: skip
    text = write_report(tmp_path, results, ["MEDIATOR"], header={"run": "x"}).read_text()
    assert "| corrections | MEDIATOR | 1 | 75% | 1.00 | 0.00 | 2.00 | 1.00 | 0 |" in text
    assert "| all | MEDIATOR | 2 | 75% |" in text
    assert "| corrections |" in text.split("## P per task family")[1]
