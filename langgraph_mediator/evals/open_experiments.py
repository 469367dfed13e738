"""The open family as LangSmith experiments: one per setting, one example per conversation and run.

Offline by default (an offline client, nothing leaves the machine, nested graph
runs untraced); with ``upload=True`` (``LANGSMITH_API_KEY`` set, no
``--offline``) the examples go to a LangSmith dataset and each setting's
experiment to its page, with three feedback keys: ``needed_carried`` (0-1),
``stale_held`` (a count) and ``rubric_passed`` (0/1, when judged).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langsmith import Client, tracing_context
from langsmith.evaluation import aevaluate
from langsmith.schemas import Example

from langgraph_mediator.evals.benchmark import ensure_dataset, example_id
from langgraph_mediator.evals.cache import cache_scope
from langgraph_mediator.evals.conversation import EvalEnvironment
from langgraph_mediator.evals.open_family import OpenResult, OpenSetting, run_open_conversation
from langgraph_mediator.evals.open_tasks import OpenConversation

DATASET_PREFIX = "langgraph-mediator-open"


def open_examples(conversations: Sequence[OpenConversation], runs: int) -> list[Example]:
    """One example per (conversation, run), for offline experiments."""
    dataset_id = uuid.uuid5(uuid.NAMESPACE_URL, DATASET_PREFIX)
    return [
        Example(
            id=example_id(c.conversation_id, run, DATASET_PREFIX),
            dataset_id=dataset_id,
            inputs={"conversation_id": c.conversation_id, "axis": c.axis, "run": run},
            outputs={"needed": list(c.needed), "rubric": c.rubric},
        )
        for c in conversations
        for run in range(runs)
    ]


def upload_open_examples(
    client: Client, conversations: Sequence[OpenConversation], runs: int
) -> str:
    """Create (or reuse) the LangSmith dataset of these examples; return its name."""
    return ensure_dataset(
        client,
        DATASET_PREFIX,
        [c.conversation_id for c in conversations],
        runs,
        "Open conversations x runs (langgraph-mediator)",
        lambda: open_examples(conversations, runs),
    )


def needed_evaluator(outputs: dict[str, Any]) -> dict[str, Any]:
    """The share of the needed strings the Assistant's final input held."""
    missing = ", ".join(outputs["missing"])
    return {
        "key": "needed_carried",
        "score": outputs["carried"],
        "comment": f"missing: {missing}" if missing else "all carried",
    }


def stale_evaluator(outputs: dict[str, Any]) -> dict[str, Any]:
    """How many withdrawn strings the final input still stated as the user's word."""
    return {"key": "stale_held", "score": len(outputs["stale"])}


def rubric_evaluator(outputs: dict[str, Any]) -> dict[str, Any]:
    """The judge's verdict on the rubric (no score when nothing judged it)."""
    passed = outputs["passed"]
    return {
        "key": "rubric_passed",
        "score": None if passed is None else float(passed),
        "comment": outputs["judge_detail"],
    }


def experiment_outputs(result: OpenResult) -> dict[str, Any]:
    """What an experiment records of a conversation (the full record stays in the file)."""
    return {
        "carried": result.carried,
        "missing": result.missing,
        "stale": result.stale,
        "passed": result.passed,
        "judge_detail": result.judge_detail,
        "answer": result.answer[:2000],
        "error": result.error,
    }


@dataclass
class OpenExperiments:
    """Every setting of the open family over ``conversations`` x ``runs``, one experiment each."""

    env: EvalEnvironment
    conversations: Sequence[OpenConversation]
    settings: Sequence[OpenSetting]
    runs: int
    run_name: str
    concurrency: int = 2
    upload: bool = False
    on_result: Callable[[OpenResult], None] | None = None
    results: list[OpenResult] = field(default_factory=list)
    experiments: dict[str, str] = field(default_factory=dict)

    async def run(self) -> list[OpenResult]:
        """Play every setting in turn; return every result, in order."""
        for setting in self.settings:
            await self.run_setting(setting)
        return self.results

    async def run_setting(self, setting: OpenSetting) -> None:
        """One setting as one experiment; each run of a conversation keyed apart in the cache."""
        by_id = {c.conversation_id: c for c in self.conversations}

        async def target(inputs: dict[str, Any]) -> dict[str, Any]:
            # Offline, nested traces have nowhere to go: keep the graph's runs untraced.
            with tracing_context(enabled=self.upload), cache_scope(f"run={inputs['run']}"):
                conversation = by_id[inputs["conversation_id"]]
                result = await run_open_conversation(self.env, conversation, setting, inputs["run"])
            self.results.append(result)
            if self.on_result is not None:
                self.on_result(result)
            return experiment_outputs(result)

        client = Client() if self.upload else Client(api_key="offline", auto_batch_tracing=False)
        data: Any = (
            upload_open_examples(client, self.conversations, self.runs)
            if self.upload
            else open_examples(self.conversations, self.runs)
        )
        experiment = await aevaluate(
            target,
            data=data,
            client=client,
            upload_results=self.upload,
            evaluators=[needed_evaluator, stale_evaluator, rubric_evaluator],
            experiment_prefix=f"{self.run_name}-{setting}",
            max_concurrency=self.concurrency,
            metadata={"setting": str(setting), "runs": self.runs, "family": "open"},
        )
        async for _row in experiment:
            pass
        self.experiments[str(setting)] = experiment.experiment_name
