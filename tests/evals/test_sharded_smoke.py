"""A smoke set of the benchmark in LangSmith's pytest style, on the embedded model.

Each test is a LangSmith test case (inputs, outputs, feedback logged with
``langsmith.testing``); offline unless LANGSMITH_API_KEY is set. It checks the
protocol end to end (every turn played, scored, costed), not the 135M model's
quality: quality numbers come from ``mediator eval`` runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langsmith import testing as t

from langgraph_mediator.evals.conversation import EvalEnvironment, Setting, run_conversation
from langgraph_mediator.evals.datasets import AUTHORED_TASKS
from langgraph_mediator.evals.tasks import ShardedTask, load_tasks
from langgraph_mediator.models import build_chat_model
from langgraph_mediator.models.local_server import LocalModelServer, bundled_model_path
from langgraph_mediator.state import MediatorContext

pytestmark = pytest.mark.integration

SMOKE = load_tasks([AUTHORED_TASKS])
SMOKE_SET = [next(x for x in SMOKE if x.family == family) for family in ("math", "code", "actions")]


@pytest.fixture(scope="module")
def env() -> Iterator[EvalEnvironment]:
    server = LocalModelServer(model_path=bundled_model_path()).start()
    # A loaded machine slows the 135M model, not the protocol this checks: allow 600 s a call.
    context = MediatorContext(
        base_url=server.base_url, api_key="local", max_tokens=256, request_timeout=600
    )
    model = build_chat_model(context, "local")
    yield EvalEnvironment(assistant=model, mediator=model, judge=model, context=context)
    server.stop()


@pytest.mark.langsmith
# One event loop for the module: the model's async HTTP client outlives a single test.
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("task", SMOKE_SET, ids=lambda task: task.task_id)
@pytest.mark.parametrize("setting", [Setting.FULL, Setting.SHARDED, Setting.MEDIATOR])
async def test_conversation_is_played_scored_and_costed(
    env: EvalEnvironment, task: ShardedTask, setting: Setting
) -> None:
    t.log_inputs({"task_id": task.task_id, "setting": str(setting)})
    result = await run_conversation(env, task, setting, 0)
    t.log_outputs({"score": result.score, "turns": len(result.turns), "error": result.error})
    t.log_feedback(key="score", score=result.score)
    assert result.error is None, result.error
    assert 0.0 <= result.score <= 1.0
    expected_turns = 1 if setting == Setting.FULL else 2
    assert len(result.turns) >= expected_turns
    for turn in result.turns:
        assert turn.calls >= 1 and turn.prompt_tokens > 0, "every turn's cost is counted"
        # One Mediator reading, retried once when malformed, and one Assistant call.
        assert turn.calls <= 3, "the mediator's budget: at most 3 calls in any turn"
    if setting == Setting.MEDIATOR:
        answered = [turn for turn in result.turns if not turn.clarification]
        assert all(turn.instruction.startswith("Task:") for turn in answered)
