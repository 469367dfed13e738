"""The diagnosis step: the run's pairs validated, and each one's misreadings asked for.

One structured call per trajectory pair; each misreading it names (with the
user's habit that misled the Mediator) becomes one numbered diagnosis. The
failed trajectory and its reference (a successful trajectory or the fully
specified instruction) are fenced as data by the prompt: nothing inside them is obeyed.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import ValidationError

from langgraph_mediator.core.refiner.calls import aask_refiner, ask_refiner
from langgraph_mediator.core.refiner.prompts import diagnosis_prompt
from langgraph_mediator.state import ModelCall, RefinerContext
from langgraph_mediator.state.refiner import Diagnosis, TrajectoryPair

DIAGNOSIS_NODE = "diagnose"
"""The node a diagnosis call is recorded under in the run's usage."""


def parse_pairs(raw_pairs: list[dict[str, Any]]) -> list[TrajectoryPair]:
    """Validate the input pairs; the error names the pair and the field."""
    if not raw_pairs:
        raise ValueError("the Refiner needs at least one trajectory pair")
    pairs = []
    for index, raw in enumerate(raw_pairs):
        try:
            pairs.append(TrajectoryPair.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(pair)"
            raise ValueError(f"pairs[{index}].{where}: {first['msg']}") from exc
    return pairs


def diagnose_pairs(
    chat: BaseChatModel, pairs: list[TrajectoryPair], context: RefinerContext
) -> dict[str, Any]:
    """Diagnose every pair; malformed output twice raises before anything is stored."""
    return diagnosis_update(
        [
            (pair, *ask_refiner(chat, Diagnosis, diagnosis_prompt(pair), **_asked(pair, context)))
            for pair in pairs
        ]
    )


async def adiagnose_pairs(
    chat: BaseChatModel, pairs: list[TrajectoryPair], context: RefinerContext
) -> dict[str, Any]:
    """:func:`diagnose_pairs`, awaiting the model."""
    prompts = [(pair, diagnosis_prompt(pair), _asked(pair, context)) for pair in pairs]
    return diagnosis_update(
        [(pair, *await aask_refiner(chat, Diagnosis, p, **asked)) for pair, p, asked in prompts]
    )


def _asked(pair: TrajectoryPair, context: RefinerContext) -> dict[str, Any]:
    """How a diagnosis call is labelled in the usage records and named in an error."""
    return {"node": DIAGNOSIS_NODE, "context": context, "what": f"diagnosis of pair {pair.id}"}


def diagnosis_update(
    answers: list[tuple[TrajectoryPair, Diagnosis, list[ModelCall]]],
) -> dict[str, Any]:
    """One numbered diagnosis per misreading found, and the usage of every call."""
    diagnoses = [
        {"pair_id": pair.id, **m.model_dump()}
        for pair, found, _calls in answers
        for m in found.misreadings
    ]
    return {"diagnoses": diagnoses, "usage": [c for *_, calls in answers for c in calls]}
