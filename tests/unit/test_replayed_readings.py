"""Hand-written readings of the corrections family, replayed through the real Mediator graph.

No capable model runs here. Each fixture under ``tests/fixtures/readings`` holds
the readings a capable Mediator would give, written by hand from the exact
prompts the code renders (see ``python -m langgraph_mediator.evals.replay``);
the graph, the ledger, the safeguards and the instruction builder are the
code's own. So these tests fail when a change to the prompt, the ledger or the
instruction loses a fact, leaves a corrected value in the instruction, adds one
no user gave, or asks the same question twice; and when the prompts change at
all (the digest), since the readings then no longer answer what a model would
have been asked and must be rewritten, not loosened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from langgraph_mediator.evals.datasets import CORRECTIONS_TASKS
from langgraph_mediator.evals.replay import ReadingsExhausted, replay
from langgraph_mediator.evals.tasks import load_tasks

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "readings"
TASKS = {task.task_id: task for task in load_tasks([CORRECTIONS_TASKS])}
FILES = sorted(FIXTURES.glob("*/*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_every_corrections_task_has_hand_written_readings() -> None:
    covered = {load(path)["task_id"] for path in FILES}
    assert len(FILES) >= 32
    assert covered == set(TASKS), sorted(set(TASKS) - covered)


@pytest.mark.parametrize("path", FILES, ids=lambda path: f"{path.parent.name}/{path.stem}")
async def test_the_final_instruction_carries_every_fact_and_nothing_stale(path: Path) -> None:
    data = load(path)
    assert data["written_by"].startswith("hand-written"), "a fixture says who wrote it"
    try:
        done = await replay(TASKS[data["task_id"]], data["readings"])
    except ReadingsExhausted as needed:
        pytest.fail(f"the conversation needs reading {len(data['readings']) + 1}: "
                    f"{needed.prompt[-1].content[-300:]}")  # fmt: skip
    assert done.digest == data["prompts_sha256"], (
        "the prompts changed: rewrite the readings with the replay tool (--write-digest)"
    )
    assert len(done.prompts) == len(data["readings"]), "every reading answers a prompt"
    fidelity = done.result.fidelity
    assert fidelity["has_instruction"]
    assert (fidelity["missing"], fidelity["stale"], fidelity["invented"]) == ([], [], []), (
        done.instruction
    )
    assert fidelity["reasked"] == 0
