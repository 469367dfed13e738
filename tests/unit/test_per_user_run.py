"""Issue 18: the per-user protocol end to end with scripted models.

Each setting reads the right user's guidelines, a Refiner that fails is
recorded (its user keeps the set it had), and the report is written.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from fakes import ScriptedChatModel, reading
from langgraph.store.memory import InMemoryStore
from test_eval_harness import env_with, task

from langgraph_mediator.evals.per_user import OTHER, OWN, POOLED, POOLED_USER, PerUserRun
from langgraph_mediator.evals.per_user_report import write_per_user_report
from langgraph_mediator.evals.personas import PERSONAS
from langgraph_mediator.guidelines import aput_guidelines


def forever(*replies: object) -> ScriptedChatModel:
    return ScriptedChatModel(messages=itertools.cycle(replies), seen=[])


async def test_each_setting_reads_its_users_guidelines_and_the_report_is_written(
    tmp_path: Path,
) -> None:
    store = InMemoryStore()
    personas = [PERSONAS["bare-values"], PERSONAS["drops-units"]]
    for p in personas:
        await aput_guidelines(store, p.user_id, [f"Rule of {p.name}."])
    await aput_guidelines(store, POOLED_USER, ["Rule of everyone."])
    mediator = forever(reading("new_information", goal="Paint.", new=["A detail."]))
    env = env_with(forever("7 cans."), mediator, store=store)
    run = PerUserRun(env=env, tasks=[task(task_id=f"t{i}") for i in range(8)],
                     personas=personas, runs=1, out_dir=tmp_path, run_name="u",
                     concurrency=1)  # fmt: skip
    assert run.train and run.test
    # Every conversation fails; the Refiner's model writes no structured reply: recorded.
    await run.run(refiner_model=forever("not a tool call"))
    assert all(learned.error for learned in run.learned.values())
    first = run.results(personas[0])
    assert {r.setting for r in first} == {"MEDIATOR", OWN, OTHER, POOLED}
    systems = [str(call[0].content) for call in mediator.seen]
    assert any("Rule of bare-values." in s for s in systems)
    assert any("Rule of drops-units." in s for s in systems)
    assert any("Rule of everyone." in s for s in systems)
    # Only the OWN, OTHER and POOLED turns read guidelines; MEDIATOR and training read none.
    guided = [r for p in personas for r in run.results(p) if r.setting != "MEDIATOR"]
    assert sum("Rule of" in s for s in systems) == sum(len(r.turns) for r in guided)
    path = write_per_user_report(run, {"run": "u"})
    assert "| bare-values |" in path.read_text()
    # A stopped Refiner's cost is unknown, not zero.
    report = path.read_text()
    assert "is not costed" in report and "| 3 | 0 | 0 | - | - | - | - |" in report
    data = json.loads((tmp_path / "per_user.json").read_text())
    assert [p["persona"] for p in data["personas"]] == ["bare-values", "drops-units"]
    assert (tmp_path / "per_user.png").exists()
