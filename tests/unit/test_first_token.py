"""Time to first token, mediated vs bare: the timed model, the measurement and its report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from langgraph_mediator.core.prompts import mediator_prompt
from langgraph_mediator.evals.bench.instant import build_bare_graph
from langgraph_mediator.evals.bench.latency import (
    PROMPT_PARTS,
    LatencyModel,
    MediatorTime,
    TimedChatModel,
    floor_ratio,
    measure_first_token_timed,
    prompt_parts,
)
from langgraph_mediator.evals.bench.report import BenchResults, write_benchmarks

FAST = LatencyModel(fixed_seconds=0.05, prompt_token_seconds=0.0, completion_token_seconds=0.002)
"""Quick enough for a unit test, slow enough that the order of waits shows."""


async def test_the_timed_model_streams_after_its_first_token_delay() -> None:
    model = TimedChatModel(latency=FAST, answer="word " * 40)
    began = time.perf_counter()
    stamps = [time.perf_counter() - began async for _ in model.astream([HumanMessage("hi")])]
    assert len(stamps) > 10, "the answer arrives in pieces"
    assert stamps[0] >= FAST.fixed_seconds, "nothing before the request's fixed cost"
    assert stamps[-1] - stamps[0] >= (len(stamps) - 1) * FAST.completion_token_seconds * 0.9


async def test_the_bare_graph_streams_the_timed_model_token_by_token() -> None:
    graph = build_bare_graph(TimedChatModel(latency=FAST, answer="word " * 40))
    pieces = [c async for c, _ in graph.astream({"messages": [HumanMessage("hi")]},
                                                 stream_mode="messages")]  # fmt: skip
    assert len(pieces) > 10


async def test_mediated_first_token_waits_for_the_whole_mediator_call() -> None:
    result = await measure_first_token_timed(
        FAST, repeats=1, conversation=("Add 2 and 3.", "Also 4.")
    )
    assert len(result.of("mediator")) == 2 and len(result.of("bare")) == 2
    reading = result.mediator_time
    assert reading is not None and reading.calls == 2
    # The Mediator's reading is read whole before the Assistant starts: at least one more
    # request's fixed cost and the reading's decode come before the first answer token.
    extra = FAST.fixed_seconds + reading.completion_tokens * FAST.completion_token_seconds
    assert result.median("mediator") >= result.median("bare") + 0.9 * extra
    assert all(t.first_token <= t.end for t in result.times)


def test_prompt_parts_split_the_mediator_prompt_whole() -> None:
    state = {"ledger": [{"id": "R1", "text": "Use 36 square metres.", "status": "active",
                         "task": 0, "turn": 1}],
             "last_answer": "You need 6 cans.", "task_number": 0}  # fmt: skip
    prompt = mediator_prompt(state, "no, make that three coats", ["Read a bare value as a fix."])  # type: ignore[arg-type]
    parts = prompt_parts(prompt)
    assert set(parts) == set(PROMPT_PARTS)
    assert sum(parts.values()) == sum(len(str(m.content)) for m in prompt)
    assert parts["guidelines"] > len("Read a bare value as a fix.")
    assert parts["ledger"] >= len("Use 36 square metres.")
    assert parts["last answer"] >= len("You need 6 cans.")
    assert parts["user message"] >= len("no, make that three coats")
    assert all(size >= 0 for size in parts.values())


def test_the_mediator_prompt_opens_with_what_a_thread_does_not_change() -> None:
    """Endpoint prompt caches reuse a common prefix: the static part comes first, every turn."""
    first = {"ledger": [], "task_number": 0}
    later = {"ledger": [{"id": "R1", "text": "Use 36 square metres.", "status": "active",
                         "task": 0, "turn": 1}], "last_answer": "6 cans.", "task_number": 0,
             "intent": {"task_type": "math", "goal": "Paint a room.",
                        "missing_information": []}}  # fmt: skip
    environment = "The assistant has a calculator."
    one = mediator_prompt(first, "Paint a room.", ["Read a bare value as a fix."], environment)  # type: ignore[arg-type]
    two = mediator_prompt(later, "5 m.", ["Read a bare value as a fix."], environment)  # type: ignore[arg-type]
    assert one[0].content == two[0].content, "the system prompt is the same every turn"
    other_user = mediator_prompt(first, "Paint a room.", [], environment)  # type: ignore[arg-type]
    assert str(one[0].content).startswith(str(other_user[0].content)), (
        "a user's guidelines come after the instructions every user shares"
    )
    lines = str(one[1].content).splitlines(), str(two[1].content).splitlines()
    assert lines[0][0] == lines[1][0] and environment in lines[0][0]


async def test_a_common_turn_reading_is_compact() -> None:
    result = await measure_first_token_timed(FAST, repeats=1, conversation=("Add 2 and 3.",))
    reading = result.mediator_time
    assert reading is not None
    # {"feedback": ..., "new_requirements": [...]}: no empty fields, no repeated goal.
    assert reading.completion_tokens <= 30


async def test_the_report_has_the_first_token_table_target_and_plot(tmp_path: Path) -> None:
    result = await measure_first_token_timed(FAST, repeats=1, conversation=("Add 2 and 3.",))
    write_benchmarks(BenchResults(first_token=[result]), tmp_path / "B.md", tmp_path / "plots")
    text = (tmp_path / "B.md").read_text()
    assert "## Time to first token, mediated vs bare" in text
    assert "time to first token <= 1.5x bare (stub (hosted latency))" in text
    assert "prompt: system prompt" in text and "reading (decode)" in text
    assert "No Mediator that reads the turn before the Assistant starts can do better" in text
    assert (tmp_path / "plots" / "first_token.png").stat().st_size > 1000


def test_the_floor_is_the_bare_wait_plus_the_mediator_request_and_prefill() -> None:
    latency = LatencyModel(fixed_seconds=0.3, prompt_token_seconds=0.001)
    timed = MediatorTime(calls=1, prompt_tokens={"system prompt": 100.0}, completion_tokens=20,
                         latency=latency, guidelines_read_seconds=0.0)  # fmt: skip
    assert floor_ratio(0.4, timed) == pytest.approx((0.4 + 0.3 + 0.1) / 0.4)
