"""Issue 18: a guideline that does not help its user on held-out conversations is retired.

Retiring writes a new version that names what it took out and why; the
per-user protocol decides by playing the test split with each rule left out.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedChatModel, reading
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.store.memory import InMemoryStore
from test_eval_harness import env_with, task

from langgraph_mediator.evals.per_user import OWN, WITHOUT, PerUserRun
from langgraph_mediator.evals.per_user_report import write_per_user_report
from langgraph_mediator.evals.personas import PERSONAS
from langgraph_mediator.guidelines import (
    RuleTrial,
    acurrent_version,
    alist_versions,
    aload_guidelines,
    aput_guidelines,
    aretire_guidelines,
    retirement_reason,
)

HELPS, IDLE = "Keep every value the user gave.", "Answer in a friendly tone."


def trial(with_rule: list[float], without_rule: list[float]) -> RuleTrial:
    keys = [(f"t{i}", 0) for i in range(len(with_rule))]
    return RuleTrial("G1", HELPS, dict(zip(keys, with_rule, strict=True)),
                     dict(zip(keys, without_rule, strict=True)))  # fmt: skip


def test_a_rule_with_a_paired_gain_is_kept_and_one_without_is_retired() -> None:
    assert trial([1.0, 1.0], [0.0, 1.0]).gain == 0.5
    assert retirement_reason(trial([1.0, 1.0], [0.0, 1.0])) is None
    reason = retirement_reason(trial([1.0, 0.0], [1.0, 0.0]))
    assert reason is not None and reason.startswith("no held-out gain")
    assert "over 2 paired conversation(s)" in (reason or "")
    assert retirement_reason(trial([0.0], [1.0])) is not None  # it hurts: retired
    # A gain must clear the margin.
    assert retirement_reason(trial([1.0, 1.0], [0.0, 1.0]), min_gain=0.5) is not None


def test_an_untried_rule_is_kept() -> None:
    untried = RuleTrial("G1", HELPS, {("t1", 0): 1.0}, {("t2", 0): 0.0})
    assert untried.paired == [] and untried.gain is None
    assert retirement_reason(untried) is None


async def test_retiring_writes_a_new_version_that_says_what_went_and_why() -> None:
    store = InMemoryStore()
    await aput_guidelines(store, "alice", [HELPS, IDLE])
    version = await aretire_guidelines(store, "alice", {"G2": "no held-out gain"})
    assert version is not None and version["version"] == 2
    assert await aload_guidelines(store, "alice") == [HELPS]
    assert version["retired"] == [{"id": "G2", "text": IDLE, "reason": "no held-out gain"}]
    assert "retired G2" in version["source"]
    # History keeps the set before it, so a retirement can be rolled back.
    assert [len(v["guidelines"]) for v in await alist_versions(store, "alice")] == [2, 1]


async def test_retiring_nothing_writes_nothing_and_an_unknown_id_is_named() -> None:
    store = InMemoryStore()
    await aput_guidelines(store, "alice", [HELPS])
    assert await aretire_guidelines(store, "alice", {}) is None
    with pytest.raises(LookupError, match=r"no current guideline G7 \(has: G1\)"):
        await aretire_guidelines(store, "alice", {"G7": "why"})
    assert len(await alist_versions(store, "alice")) == 1


class ByPrompt(ScriptedChatModel):
    """Replies by what the prompt holds (so a rule's presence changes the outcome)."""

    choose: Callable[[list[BaseMessage]], AIMessage | str]

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        reply = self.choose(messages)
        message = reply if isinstance(reply, AIMessage) else AIMessage(reply)
        return ChatResult(generations=[ChatGeneration(message=message)])


def mediator_reading(messages: list[BaseMessage]) -> AIMessage:
    guided = HELPS in str(messages[0].content)
    goal = "Paint; the answer is 10." if guided else "Paint."
    return reading("new_information", goal=goal, new=["A detail."])


def assistant_answer(messages: list[BaseMessage]) -> str:
    return "10 cans." if "the answer is 10" in str(messages[-1].content) else "7 cans."


async def played(store: InMemoryStore, out: Path, **options: Any) -> PerUserRun:
    """bare-values and drops-units over 8 tasks; every Refiner fails, so the sets stay as put."""
    env = env_with(ByPrompt(choose=assistant_answer, messages=iter([]), seen=[]),
                   ByPrompt(choose=mediator_reading, messages=iter([]), seen=[]),
                   store=store)  # fmt: skip
    run = PerUserRun(env=env, tasks=[task(task_id=f"t{i}") for i in range(8)],
                     personas=[PERSONAS["bare-values"], PERSONAS["drops-units"]], runs=1,
                     out_dir=out, run_name="u", concurrency=1, **options)  # fmt: skip
    await run.run(ScriptedChatModel(messages=itertools.cycle(["not a tool call"]), seen=[]))
    return run


async def test_the_per_user_run_retires_a_rule_that_changes_nothing(tmp_path: Path) -> None:
    store = InMemoryStore()
    keeps, single = PERSONAS["bare-values"], PERSONAS["drops-units"]
    await aput_guidelines(store, keeps.user_id, [HELPS, IDLE])
    await aput_guidelines(store, single.user_id, [IDLE])
    run = await played(store, tmp_path)
    # G1 carries the answer: the set without it fails; G2 changes nothing: retired.
    assert [(v.guideline_id, v.gain, bool(v.retired)) for v in run.hygiene[keeps.name]] == [
        ("G1", 1.0, False), ("G2", 0.0, True)
    ]  # fmt: skip
    assert await aload_guidelines(store, keeps.user_id) == [HELPS]
    current = await acurrent_version(store, keeps.user_id)
    assert current is not None and current["retired"][0]["id"] == "G2"
    assert "no held-out gain" in current["retired"][0]["reason"]
    # A one-rule set is compared with MEDIATOR itself: no extra conversations.
    assert await aload_guidelines(store, single.user_id) == []
    settings = {r.setting for r in run.benches[single.name].results.done.values()}
    assert not any(s.startswith(WITHOUT) for s in settings)
    ablations = {r.setting for r in run.benches[keeps.name].results.done.values()} - {OWN}
    assert {WITHOUT + "G1", WITHOUT + "G2"} <= ablations
    path = write_per_user_report(run, {"run": "u"})
    assert "## Guideline hygiene" in path.read_text() and "retired: no held-out gain" in (
        path.read_text()
    )
    assert json.loads((tmp_path / "per_user.json").read_text())["hygiene"][keeps.name]


async def test_without_retire_every_rule_stays(tmp_path: Path) -> None:
    store = InMemoryStore()
    persona = PERSONAS["bare-values"]
    await aput_guidelines(store, persona.user_id, [IDLE])
    run = await played(store, tmp_path, retire=False)
    assert run.hygiene == {} and await aload_guidelines(store, persona.user_id) == [IDLE]
