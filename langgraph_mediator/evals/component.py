"""Component evals: the Mediator's two decisions, each scored on its own labeled set.

* ``feedback``: is a follow-up a correction, a confirmation or new information?
  (the failure Liu et al. name: a fragmentary correction read as a confirmation);
* ``underspecification``: is a required detail missing, so that the Mediator
  should ask? (asking when nothing is missing counts against it).

Each item is replayed as the thread state the Mediator would see (the prior
turns, the requirements so far as the ledger, the last answer, the pending
question) and read with the production prompt and one structured call. Each set
is a LangSmith experiment with accuracy and per-class precision/recall as
summary evaluators, and a confusion-matrix plot.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langsmith import Client, tracing_context
from langsmith.evaluation import aevaluate
from langsmith.schemas import Example
from rich.console import Console

from langgraph_mediator.core.policy import wants_clarification
from langgraph_mediator.core.prompts import mediator_prompt
from langgraph_mediator.core.reading import aask_for_reading
from langgraph_mediator.evals.cache import cache_scope
from langgraph_mediator.evals.component_sets import (
    FeedbackItem,
    UnderspecItem,
    load_feedback_items,
    load_underspec_items,
)
from langgraph_mediator.evals.conversation import EvalEnvironment
from langgraph_mediator.evals.plotting import pyplot, save_figure
from langgraph_mediator.state import (
    AskedQuestion,
    Intent,
    MediatorContext,
    MediatorReading,
    MediatorState,
    Requirement,
)

COMPONENTS = ("feedback", "underspecification")
FEEDBACK_LABELS = ["correction", "confirmation", "new_information"]


def turns_of(prior_turns: Sequence[Any]) -> list[dict[str, str]]:
    """Prior turns as ``{"role", "content"}`` dicts (items may hold pydantic models)."""
    return [t if isinstance(t, dict) else t.model_dump() for t in prior_turns]


def item_state(
    prior_turns: Sequence[dict[str, str]], requirements: Sequence[str], last_answer: str = ""
) -> MediatorState:
    """The thread state the Mediator would hold before the item's message."""
    messages: list[AnyMessage] = [
        HumanMessage(t["content"]) if t["role"] == "user" else AIMessage(t["content"])
        for t in prior_turns
    ]
    if not last_answer:
        last_answer = next(
            (t["content"] for t in reversed(prior_turns) if t["role"] == "assistant"), ""
        )
    question = last_answer if last_answer.rstrip().endswith("?") else None
    first_user = next((t["content"] for t in prior_turns if t["role"] == "user"), "")
    ledger = [
        Requirement(id=f"R{i}", text=text, turn=1, task=1, status="active")
        for i, text in enumerate(requirements, 1)
    ]
    intent = Intent(task_type="general", goal=first_user, missing_information=[])
    return MediatorState(
        messages=messages,
        ledger=ledger,
        task_number=1 if prior_turns else 0,
        intent=intent if prior_turns else None,
        last_answer=last_answer,
        pending_question=question,
        questions=[AskedQuestion(turn=1, task=1, question=question, details=[], reply=None)]
        if question
        else [],
    )


async def read_item(
    env: EvalEnvironment, state: MediatorState, message: str
) -> MediatorReading | None:
    """The Mediator's reading of ``message`` in ``state`` (``None``: malformed twice)."""
    assert env.mediator is not None, "component evals need the Mediator's model"
    prompt = mediator_prompt(state, message, [])
    with cache_scope("component"):
        reading, _calls, _fallback = await aask_for_reading(
            env.mediator, prompt, env.context.base_url
        )
    return reading


def precision_recall(pairs: Sequence[tuple[str, str]], labels: Sequence[str]) -> dict[str, float]:
    """Accuracy and per-class precision/recall of (expected, predicted) pairs."""
    scores = {"accuracy": sum(e == p for e, p in pairs) / len(pairs) if pairs else 0.0}
    for label in labels:
        predicted = [e for e, p in pairs if p == label]
        expected = [p for e, p in pairs if e == label]
        scores[f"precision_{label}"] = (
            sum(e == label for e in predicted) / len(predicted) if predicted else 0.0
        )
        scores[f"recall_{label}"] = (
            sum(p == label for p in expected) / len(expected) if expected else 0.0
        )
    return scores


def plot_confusion(
    pairs: Sequence[tuple[str, str]], labels: Sequence[str], title: str, path: Path
) -> None:
    """A confusion matrix (rows: expected, columns: predicted) as a PNG."""
    plt = pyplot()
    columns = list(labels) + sorted({p for _, p in pairs} - set(labels))
    counts = Counter(pairs)
    matrix = [[counts[(e, p)] for p in columns] for e in labels]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(columns), 1.4 + 0.9 * len(labels)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center")
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    ax.set_title(title)
    save_figure(fig, path)


async def _experiment(
    name: str, items: Sequence[Any], target: Any, labels: Sequence[str], upload: bool
) -> tuple[list[tuple[str, str]], str]:
    """Run ``target`` over ``items`` as a LangSmith experiment; return (expected, predicted)."""
    dataset_id = uuid.uuid5(uuid.NAMESPACE_URL, f"langgraph-mediator-{name}")
    examples = [
        Example(
            id=uuid.uuid5(dataset_id, item.id),
            dataset_id=dataset_id,
            inputs={"id": item.id},
            outputs={"label": target.expected(item)},
        )
        for item in items
    ]

    def correct(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> dict[str, Any]:
        return {"key": "correct", "score": outputs["label"] == reference_outputs["label"]}

    def summary(
        outputs: list[dict[str, Any]], reference_outputs: list[dict[str, Any]]
    ) -> dict[str, Any]:
        pairs = [(r["label"], o["label"]) for o, r in zip(outputs, reference_outputs, strict=True)]
        scores = precision_recall(pairs, labels)
        return {"results": [{"key": k, "score": v} for k, v in scores.items()]}

    async def predict(inputs: dict[str, Any]) -> dict[str, Any]:
        # Offline, nested traces have nowhere to go (and would retry the API).
        with tracing_context(enabled=upload):
            result: dict[str, Any] = await target(inputs)
        return result

    client = Client() if upload else Client(api_key="offline", auto_batch_tracing=False)
    experiment = await aevaluate(
        predict,
        data=examples,
        evaluators=[correct],
        # langsmith accepts (outputs, reference_outputs) summary evaluators; its hints lag.
        summary_evaluators=[cast(Any, summary)],
        client=client,
        upload_results=upload,
        experiment_prefix=f"component-{name}",
        max_concurrency=2,
    )
    pairs = [
        ((row["example"].outputs or {})["label"], (row["run"].outputs or {})["label"])
        async for row in experiment
    ]
    return pairs, experiment.experiment_name


class FeedbackTarget:
    """Predicts an item's feedback kind with the Mediator."""

    def __init__(self, env: EvalEnvironment, items: Sequence[FeedbackItem]) -> None:
        """Score ``items`` with ``env``'s Mediator model."""
        self.env, self.items = env, {i.id: i for i in items}

    @staticmethod
    def expected(item: FeedbackItem) -> str:
        """The item's label."""
        return item.label

    async def __call__(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """One prediction."""
        item = self.items[inputs["id"]]
        state = item_state(turns_of(item.prior_turns), item.requirements, item.last_answer)
        reading = await read_item(self.env, state, item.message)
        return {"label": reading.feedback if reading else "malformed"}


class UnderspecTarget:
    """Predicts whether the Mediator would ask (a required detail is missing)."""

    def __init__(self, env: EvalEnvironment, items: Sequence[UnderspecItem]) -> None:
        """Score ``items`` with ``env``'s Mediator model under the when_missing policy."""
        self.env, self.items = env, {i.id: i for i in items}
        self.context = MediatorContext(
            **{**vars(env.context), "clarification_policy": "when_missing"}
        )

    @staticmethod
    def expected(item: UnderspecItem) -> str:
        """``missing`` or ``complete``."""
        return "missing" if item.missing else "complete"

    async def __call__(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """One prediction."""
        item = self.items[inputs["id"]]
        reading = await read_item(
            self.env, item_state(turns_of(item.prior_turns), item.requirements), item.message
        )
        asks = reading is not None and wants_clarification(self.context, reading, 0)
        return {"label": "missing" if asks else "complete"}


def _section(
    title: str, name: str, pairs: list[tuple[str, str]], labels: Sequence[str], experiment: str
) -> str:
    scores = precision_recall(pairs, labels)
    rows = "\n".join(
        f"| {label} | {scores[f'precision_{label}']:.2f} | {scores[f'recall_{label}']:.2f} |"
        for label in labels
    )
    return (
        f"## Component eval: {title}\n\nExperiment `{experiment}`, {len(pairs)} items, "
        f"accuracy **{scores['accuracy']:.2f}**.\n\n| class | precision | recall |\n"
        f"|---|---|---|\n{rows}\n\n![{name} confusion]({name}_confusion.png)\n"
    )


async def run_components(
    spec: str, env: EvalEnvironment, out_dir: Path, console: Console, upload: bool
) -> list[str]:
    """Run the component evals in ``spec`` (comma list, or ``none``); return report sections."""
    chosen = [c.strip() for c in spec.split(",") if c.strip() and c.strip() != "none"]
    unknown = set(chosen) - set(COMPONENTS)
    if unknown:
        raise SystemExit(f"unknown component eval(s) {sorted(unknown)}; choose from {COMPONENTS}")
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = []
    if "feedback" in chosen:
        items = load_feedback_items()
        console.print(f"component eval: feedback classification ({len(items)} items)")
        pairs, name = await _experiment(
            "feedback", items, FeedbackTarget(env, items), FEEDBACK_LABELS, upload
        )
        plot_confusion(pairs, FEEDBACK_LABELS, "Feedback kind", out_dir / "feedback_confusion.png")
        sections.append(
            _section("feedback classification", "feedback", pairs, FEEDBACK_LABELS, name)
        )
    if "underspecification" in chosen:
        items_u = load_underspec_items()
        console.print(f"component eval: underspecification ({len(items_u)} items)")
        labels = ["missing", "complete"]
        pairs, name = await _experiment(
            "underspecification", items_u, UnderspecTarget(env, items_u), labels, upload
        )
        plot_confusion(
            pairs, labels, "Ask (missing) or not", out_dir / "underspecification_confusion.png"
        )
        sections.append(
            _section(
                "underspecification (clarify decision)", "underspecification", pairs, labels, name
            )
        )
    return sections
