"""The authored sharded set: well formed, and every reference answer passes its own checker."""

from __future__ import annotations

from collections import Counter

import pytest

from langgraph_mediator.evals.checkers import CheckResult, check_actions, check_code, check_math
from langgraph_mediator.evals.datasets import AUTHORED_TASKS
from langgraph_mediator.evals.tasks import ShardedTask, load_tasks

TASKS = load_tasks([AUTHORED_TASKS])


def render_calls(task: ShardedTask, drop_last: bool = False) -> str:
    """The reference calls in Python syntax, each parameter with its first accepted value."""
    references = task.record["reference_answer"][: -1 if drop_last else None]
    calls = []
    for reference in references:
        name, params = next(iter(reference.items()))
        args = ", ".join(f"{k}={v[0]!r}" for k, v in params.items() if v[0] != "")
        calls.append(f"{name}({args})")
    return "[" + ", ".join(calls) + "]"


def check_reference(task: ShardedTask) -> CheckResult:
    if task.family == "math":
        return check_math(task, task.record["answer"])
    if task.family == "code":
        return check_code(task, f"```python\n{task.record['canonical_solution']}```")
    return check_actions(task, render_calls(task))


def test_the_set_has_forty_tasks_over_three_families() -> None:
    families = Counter(task.family for task in TASKS)
    assert len(TASKS) >= 40
    assert set(families) == {"math", "code", "actions"}
    assert min(families.values()) >= 10


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.task_id)
def test_task_is_sharded_as_lic_does(task: ShardedTask) -> None:
    assert task.source == "authored"
    assert task.task_id.startswith(f"authored-{task.family}/")
    assert 4 <= len(task.shards) <= 7, "a goal shard and 3-6 requirement shards"
    assert len(set(task.shards)) == len(task.shards)
    assert task.full_instruction and task.full_instruction not in task.shards


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.task_id)
def test_reference_answer_passes_its_checker(task: ShardedTask) -> None:
    result = check_reference(task)
    assert result.passed, result.detail


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.task_id)
def test_a_wrong_answer_fails_its_checker(task: ShardedTask) -> None:
    if task.family == "math":
        reference = float(task.record["answer"].split("####")[-1])
        wrong = check_math(task, f"The answer is {reference + 1:g}.")
    elif task.family == "code":
        name = task.record["metadata"]["func_name"]
        wrong = check_code(task, f"```python\ndef {name}(*args):\n    return None\n```")
    else:
        wrong = check_actions(task, render_calls(task, drop_last=True))
    assert not wrong.passed
