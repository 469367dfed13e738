"""The corrections family: later shards correct, retract or narrow earlier ones.

Math, code, function calls (actions) and SQL (database), eight of each. Every
reference passes its checker and every stale reference (the answer that
ignores the corrections) fails it, so the family scores exactly the failure
Liu et al. name. Stale facts are where they should be: in the shards that
stated or corrected them, never in the fully specified task.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from langgraph_mediator.evals.checkers import (
    CheckResult,
    check_actions,
    check_code,
    check_database,
    check_math,
)
from langgraph_mediator.evals.datasets import CORRECTIONS_TASKS
from langgraph_mediator.evals.tasks import ShardedTask, load_tasks

TASKS = load_tasks([CORRECTIONS_TASKS])
KINDS = ("supersede", "retract", "refine", "confirm")


def render_calls(task: ShardedTask) -> str:
    calls = []
    for reference in task.record["reference_answer"]:
        name, params = next(iter(reference.items()))
        args = ", ".join(f"{k}={v[0]!r}" for k, v in params.items() if v[0] != "")
        calls.append(f"{name}({args})")
    return "[" + ", ".join(calls) + "]"


def check(task: ShardedTask, answer: str) -> CheckResult:
    if task.family == "math":
        return check_math(task, answer)
    if task.family == "code":
        return check_code(task, f"```python\n{answer}\n```")
    if task.family == "database":
        return check_database(task, f"```sql\n{answer}\n```")
    return check_actions(task, answer)


def reference(task: ShardedTask) -> str:
    record = task.record
    return {
        "math": lambda: record["answer"],
        "code": lambda: record["canonical_solution"],
        "database": lambda: record["reference_sql"],
        "actions": lambda: render_calls(task),
    }[task.family]()


def whole_word(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(value)}(?![\w])", re.IGNORECASE)


def test_the_family_spans_four_task_families_with_every_kind_of_correction() -> None:
    families = Counter(task.family for task in TASKS)
    assert len(TASKS) >= 30
    assert set(families) == {"math", "code", "actions", "database"}
    assert min(families.values()) >= 7, families
    kinds = Counter(c["kind"] for task in TASKS for c in task.record["corrections"])
    assert all(kinds[kind] >= 5 for kind in KINDS), kinds


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.task_id)
def test_each_task_corrects_and_names_its_stale_facts(task: ShardedTask) -> None:
    record = task.record
    assert record["variant"] == "corrections" and task.task_id.startswith("corrections-")
    kinds = {c["kind"] for c in record["corrections"]}
    assert kinds & {"supersede", "retract", "refine"}, "at least one real correction"
    assert record["stale_facts"], "a correction leaves a stale value behind"
    for value in record["stale_facts"]:
        pattern = whole_word(value)
        assert any(pattern.search(shard) for shard in task.shards), value
        assert not pattern.search(task.full_instruction), f"{value!r} in the full task"


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.task_id)
def test_the_reference_passes_and_the_stale_reference_fails(task: ShardedTask) -> None:
    assert check(task, reference(task)).passed
    assert not check(task, task.record["stale_reference"]).passed


@pytest.mark.parametrize(
    "task", [t for t in TASKS if t.family == "database"], ids=lambda task: task.task_id
)
def test_each_sql_task_carries_rows_that_fit_the_assistants_environment(task: ShardedTask) -> None:
    schema = str(task.record["schema_sql"])
    assert "insert into" in schema.lower(), "without rows the checker only compares SQL text"
    assert len(schema) < 3000, "the schema is shown to the Assistant every turn"
