"""The sharded-conversation benchmark: every setting as a LangSmith experiment.

Each (task, run) is one example; each setting is one experiment run through
``langsmith.aevaluate`` with the checkers as evaluators. Offline by default
(nothing leaves the machine); with ``upload=True`` (LANGSMITH_API_KEY set) the
examples go to a LangSmith dataset and the experiments to its page.

Runs are resumable: every finished conversation is appended to
``conversations.jsonl`` in the run directory, and a rerun skips what is there.
Model responses are cached by request and run index (:mod:`.cache`), so even an
interrupted conversation replays for free.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langsmith import Client, tracing_context
from langsmith.evaluation import aevaluate
from langsmith.schemas import Example
from pydantic import ValidationError

from langgraph_mediator.evals.cache import cache_scope
from langgraph_mediator.evals.conversation import (
    ConversationResult,
    EvalEnvironment,
    Setting,
    TurnLog,
    is_unreachable,
    run_conversation,
)
from langgraph_mediator.evals.tasks import ShardedTask
from langgraph_mediator.jsonl import read_jsonl
from langgraph_mediator.refine import RefineReport, refine_from_runs
from langgraph_mediator.state.refiner import Trajectory, TurnRecord
from langgraph_mediator.text import redact_secrets

DATASET_PREFIX = "langgraph-mediator-sharded"
ProgressHook = Callable[[str, ConversationResult], None]


class ResultsFile:
    """Finished conversations, one JSON line each; the key is (setting, task_id, run).

    A conversation whose endpoint failed is not done: it is never appended, and
    one that an older version appended (an unreachable endpoint scored 0) is
    not read back, so a rerun plays it again.
    """

    def __init__(self, path: Path) -> None:
        """Open ``path`` (created on first append) and read what is already done."""
        self.path = path
        self.done: dict[tuple[str, str, int], ConversationResult] = {}
        self._lock = asyncio.Lock()
        if path.exists():
            for _where, record in read_jsonl(path):
                result = ConversationResult.from_json(record)
                if result.outcome == "failed" or is_unreachable(result.error):
                    continue
                self.done[(result.setting, result.task_id, result.run)] = result

    async def append(self, result: ConversationResult) -> None:
        """Record a finished conversation (flushed at once, so a crash loses nothing done)."""
        if result.outcome == "failed":
            raise ValueError("a conversation whose endpoint failed is not done; it is not recorded")
        async with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            self.done[(result.setting, result.task_id, result.run)] = result

    def of(self, setting: str, task_ids: set[str] | None = None) -> list[ConversationResult]:
        """The finished conversations of one setting (optionally only some tasks)."""
        return [
            r
            for (s, t, _), r in self.done.items()
            if s == setting and (task_ids is None or t in task_ids)
        ]


RUN_FILE = "run.json"
"""What a run directory's conversations were made with (models, endpoint, sampling)."""


def run_identity(env: EvalEnvironment) -> dict[str, Any]:
    """The models, endpoint and sampling a run's conversations depend on.

    The embedded server's port changes every start, so it is named, not addressed.
    """

    def name(model: Any) -> str | None:
        return None if model is None else str(getattr(model, "model_name", type(model).__name__))

    base_url = env.context.base_url
    return {
        "assistant_model": name(env.assistant),
        "mediator_model": name(env.mediator),
        "judge_model": name(env.judge),
        "endpoint": redact_secrets(base_url) if base_url else "embedded",
        "temperature": env.context.temperature,
        "simulator": env.simulator.name,
    }


def check_run_identity(out_dir: Path, identity: dict[str, Any]) -> None:
    """Record ``identity`` in a new run directory; refuse one made with something else.

    Raises:
        ValueError: the directory's conversations came from other models or
            another endpoint; mixing them would report one run of neither.

    """
    path = out_dir / RUN_FILE
    if path.exists():
        recorded = json.loads(path.read_text(encoding="utf-8"))
        changed = {k: (recorded.get(k), v) for k, v in identity.items() if recorded.get(k) != v}
        if changed:
            what = "; ".join(f"{k}: {old!r} then, {new!r} now" for k, (old, new) in changed.items())
            raise ValueError(
                f"the run in {out_dir} was made with other settings ({what}): pass another "
                "--run name, or delete that folder to start it over"
            )
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(identity, indent=1) + "\n", encoding="utf-8")


def split_tasks(
    tasks: Sequence[ShardedTask], train_fraction: float
) -> tuple[list[ShardedTask], list[ShardedTask]]:
    """A stable train/test split by hashed task id (the Refiner learns only on train)."""

    def bucket(task: ShardedTask) -> float:
        digest = hashlib.sha256(task.split_key.encode()).hexdigest()
        return int(digest[:8], 16) / 0xFFFFFFFF

    train = [t for t in tasks if bucket(t) < train_fraction]
    return train, [t for t in tasks if bucket(t) >= train_fraction]


def example_id(task_id: str, run: int, prefix: str = DATASET_PREFIX) -> uuid.UUID:
    """A stable example id, so reruns and uploads address the same example."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{prefix}/{task_id}/{run}")


def build_examples(tasks: Sequence[ShardedTask], runs: int) -> list[Example]:
    """One example per (task, run), for offline experiments."""
    dataset_id = uuid.uuid5(uuid.NAMESPACE_URL, DATASET_PREFIX)
    return [
        Example(
            id=example_id(t.task_id, run),
            dataset_id=dataset_id,
            inputs={"task_id": t.task_id, "family": t.family, "run": run},
            outputs={"fully_specified": t.full_instruction[:2000]},
        )
        for t in tasks
        for run in range(runs)
    ]


def ensure_dataset(
    client: Client,
    prefix: str,
    keys: Sequence[str],
    runs: int,
    description: str,
    examples: Callable[[], list[Example]],
) -> str:
    """The LangSmith dataset of these examples, created on first use; return its name.

    Named by ``prefix``, a digest of ``keys`` (the task or conversation ids)
    and ``runs``, so the same selection reuses the same dataset.
    """
    key = hashlib.sha256(",".join(sorted(keys)).encode()).hexdigest()[:8]
    name = f"{prefix}-{key}-x{runs}"
    if not client.has_dataset(dataset_name=name):
        dataset = client.create_dataset(name, description=description)
        client.create_examples(
            dataset_id=dataset.id,
            examples=[{"id": e.id, "inputs": e.inputs, "outputs": e.outputs} for e in examples()],
        )
    return name


def upload_examples(client: Client, tasks: Sequence[ShardedTask], runs: int) -> str:
    """Create (or extend) the LangSmith dataset of these examples; return its name."""
    return ensure_dataset(
        client,
        DATASET_PREFIX,
        [t.task_id for t in tasks],
        runs,
        "Sharded tasks x runs (langgraph-mediator)",
        lambda: build_examples(tasks, runs),
    )


def score_evaluator(outputs: dict[str, Any]) -> dict[str, Any]:
    """The checker's score of the conversation (0-1)."""
    return {
        "key": "score",
        "score": outputs["score"],
        "comment": ("LLM judge: " if outputs["judged"] else "") + outputs["detail"],
    }


def clarification_evaluator(outputs: dict[str, Any]) -> dict[str, Any]:
    """Share of the conversation's turns that asked the user a question."""
    turns = outputs["strategies"]
    rate = sum(s == "clarification" for s in turns) / len(turns) if turns else 0.0
    return {"key": "clarification_rate", "score": rate}


def cost_evaluator(outputs: dict[str, Any]) -> dict[str, Any]:
    """Model calls and tokens per turn."""
    turns = max(len(outputs["strategies"]), 1)
    return {
        "results": [
            {"key": "calls_per_turn", "score": outputs["calls"] / turns},
            {"key": "prompt_tokens_per_turn", "score": outputs["prompt_tokens"] / turns},
        ]
    }


def experiment_outputs(result: ConversationResult) -> dict[str, Any]:
    """What an experiment records of a conversation (the full transcript stays in the file)."""
    return {
        "score": result.score,
        "judged": result.judged,
        "detail": result.detail,
        "error": result.error,
        "strategies": [t.strategy for t in result.turns],
        "calls": sum(t.calls for t in result.turns),
        "prompt_tokens": sum(t.prompt_tokens for t in result.turns),
        "final_reply": result.turns[-1].reply[:2000] if result.turns else "",
    }


@dataclass(frozen=True)
class Variant:
    """A setting played as another user and recorded under its own name."""

    key: str
    """The name its conversations are recorded (and reported) under."""
    user_id: str
    """Whose guidelines the Mediator reads."""


@dataclass(kw_only=True)
class EvalRun:
    """What every harness run is given: models, tasks, runs, where results go, how to play.

    :class:`Benchmark` and the per-user protocol's run extend it. Keyword-only,
    so each can add fields without defaults after these.
    """

    env: EvalEnvironment
    tasks: list[ShardedTask]
    runs: int
    out_dir: Path
    run_name: str
    concurrency: int = 2
    upload: bool = False
    on_result: ProgressHook | None = None
    """Told each conversation as it is done (played or read back), under its setting's key."""


@dataclass(kw_only=True)
class Benchmark(EvalRun):
    """A benchmark run: tasks, settings, runs, where results go, and how models are called."""

    settings: list[Setting]
    train_fraction: float = 0.3
    refine_report: RefineReport | None = None
    experiments: dict[str, str] = field(default_factory=dict)
    failed: list[ConversationResult] = field(default_factory=list)
    """Conversations whose endpoint failed (not recorded: a rerun plays them again)."""
    unreachable: str | None = None
    """Set when the first conversations could not reach the endpoint: the rest are skipped."""

    def __post_init__(self) -> None:
        """Check the run directory is this run's, and open its results (resuming them)."""
        check_run_identity(self.out_dir, run_identity(self.env))
        self.results = ResultsFile(self.out_dir / "conversations.jsonl")
        self._reached = False
        self._slots = asyncio.Semaphore(self.concurrency)
        self._by_id = {t.task_id: t for t in self.tasks}

    def tasks_for(self, setting: Setting) -> list[ShardedTask]:
        """MEDIATOR+REFINER runs on the test split only; every other setting on all tasks."""
        if setting == Setting.MEDIATOR_REFINER:
            return split_tasks(self.tasks, self.train_fraction)[1]
        return self.tasks

    async def conversation(
        self, setting: Setting, task_id: str, run: int, variant: Variant | None = None
    ) -> ConversationResult:
        """One conversation, from the results file when done, else played and recorded.

        ``variant`` records it under another name and runs it as another user
        (the per-user protocol's MEDIATOR+OWN, +OTHER and +POOLED).
        """
        key = variant.key if variant else str(setting)
        done = self.results.done.get((key, task_id, run))
        if done is None:
            done = await self._play(setting, task_id, run, variant)
        if self.on_result:
            self.on_result(key, done)
        return done

    async def _play(
        self, setting: Setting, task_id: str, run: int, variant: Variant | None = None
    ) -> ConversationResult:
        """Play one conversation and record it, unless its endpoint failed.

        While no conversation has reached the endpoint, one that cannot reach
        it stops the rest: they are returned as failed without a call, and the
        run ends with one message instead of a screen of identical errors.
        """
        task = self._by_id[task_id]
        if self.unreachable is not None:
            return ConversationResult(
                setting=str(setting),
                task_id=task_id,
                family=task.family,
                run=run,
                error=self.unreachable,
                outcome="failed",
            )
        async with self._slots:
            with cache_scope(f"run={run}"):
                user = variant.user_id if variant else None
                done = await run_conversation(self.env, task, setting, run, user)
        if variant:
            done.setting = variant.key
        if done.outcome == "failed":
            self.failed.append(done)
            if not self._reached and is_unreachable(done.error):
                self.unreachable = done.error
            return done
        self._reached = True
        await self.results.append(done)
        return done

    async def run_setting(
        self,
        setting: Setting,
        tasks: Sequence[ShardedTask],
        label: str | None = None,
        variant: Variant | None = None,
    ) -> None:
        """Run one setting over ``tasks`` x runs as a LangSmith experiment named by ``label``."""
        label = label or (variant.key if variant else str(setting))

        async def target(inputs: dict[str, Any]) -> dict[str, Any]:
            # Offline, nested traces have nowhere to go: keep the graph's runs untraced.
            with tracing_context(enabled=self.upload):
                result = await self.conversation(setting, inputs["task_id"], inputs["run"], variant)
            return experiment_outputs(result)

        client = Client() if self.upload else Client(api_key="offline", auto_batch_tracing=False)
        data: Any = (
            upload_examples(client, tasks, self.runs)
            if self.upload
            else build_examples(tasks, self.runs)
        )
        experiment = await aevaluate(
            target,
            data=data,
            client=client,
            upload_results=self.upload,
            evaluators=[score_evaluator, clarification_evaluator, cost_evaluator],
            experiment_prefix=f"{self.run_name}-{label}",
            max_concurrency=self.concurrency,
            metadata={
                "setting": variant.key if variant else str(setting),
                "runs": self.runs,
                "simulator": self.env.simulator.name,
            },
        )
        async for _row in experiment:
            pass
        self.experiments[label] = experiment.experiment_name

    async def learn_guidelines(self, refiner_model: Any = None) -> RefineReport:
        """Run MEDIATOR on the training split, then the Refiner on its failures."""
        train = split_tasks(self.tasks, self.train_fraction)[0]
        await self.run_setting(Setting.MEDIATOR, train, label="MEDIATOR-train")
        done = self.results.of(str(Setting.MEDIATOR), {t.task_id for t in train})
        runs = [trajectory_of(r) for r in done if r.turns]
        assert self.env.store is not None, "MEDIATOR+REFINER needs a store"
        self.refine_report = await refine_from_runs(
            runs,
            self.env.refiner_user,
            store=self.env.store,
            model=refiner_model,
            context=self.env.context,
            reference_instructions={t.task_id: t.full_instruction for t in train},
        )
        return self.refine_report

    async def run(self, refiner_model: Any = None) -> None:
        """Every setting in order; MEDIATOR+REFINER learns its guidelines first."""
        for setting in self.settings:
            if setting == Setting.MEDIATOR_REFINER:
                await self.learn_guidelines(refiner_model)
            await self.run_setting(setting, self.tasks_for(setting))


def trajectory_of(result: ConversationResult) -> Trajectory:
    """A mediated conversation as the Refiner's trajectory."""
    return Trajectory(
        id=f"{result.setting}:{result.task_id}:{result.run}",
        task_id=result.task_id,
        turns=[turn_record_of(t) for t in result.turns],
        score=min(max(result.score, 0.0), 1.0),
    )


def turn_record_of(turn: TurnLog) -> TurnRecord:
    """A logged turn as the Refiner's record; reading fields that do not validate are dropped.

    A results file may be old or edited by hand: its words are kept either way.
    """
    fields = {
        "user": turn.user[:20_000],
        "instruction": turn.instruction[:20_000],
        "answer": turn.reply[:20_000],
        "feedback": turn.feedback,
        "ledger_change": turn.ledger_change,
    }
    try:
        return TurnRecord.model_validate(fields)
    except ValidationError:
        return TurnRecord.model_validate({**fields, "feedback": "", "ledger_change": ""})


def langsmith_upload_enabled(offline: bool) -> bool:
    """Upload when a key is set and the caller did not ask for offline."""
    return bool(os.environ.get("LANGSMITH_API_KEY")) and not offline
