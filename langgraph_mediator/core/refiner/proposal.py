"""The proposal step: short, imperative, general rules tied to the diagnoses, screened.

One structured call over all diagnoses. Every proposal is validated
(:mod:`langgraph_mediator.guidelines.validation`) before it can reach the merge: a rule planted
by a poisoned trajectory is rejected here, with the reason kept in state. When any is
refused, the model is asked once more with the reasons; the retry is screened the same way,
since a good habit worded with one task's numbers can be rescued.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from langgraph_mediator.core.refiner.calls import aask_refiner, ask_refiner
from langgraph_mediator.core.refiner.prompts import proposal_prompt, retry_prompt
from langgraph_mediator.guidelines import guideline_problem, trajectory_facts
from langgraph_mediator.state import ModelCall, RefinerContext
from langgraph_mediator.state.refiner import Candidate, Proposal, RefinerState, Rejection
from langgraph_mediator.text import comparison_key


def strip_numbering(text: str) -> str:
    """``"2. Ask first."`` -> ``"Ask first."``: models often number what they list."""
    return re.sub(r"^\s*(\d+[.)]|[-*])\s*", "", " ".join(text.split()))


def screen(
    proposal: Proposal,
    diagnoses: list[dict[str, Any]],
    facts: frozenset[tuple[str, str]] = frozenset(),
    numbered_from: int = 1,
) -> tuple[list[Candidate], list[Rejection]]:
    """Keep the proposals that pass validation, with the pairs that produced each.

    A proposal citing a diagnosis that does not exist is credited to every pair
    of this run: the evidence is still this run's, only its pointer is wrong.
    ``facts`` are the run's trajectories' (a rule repeating one is refused);
    candidates are numbered ``P<numbered_from>`` on.
    """
    candidates: list[Candidate] = []
    rejected: list[Rejection] = []
    every_pair = sorted({d["pair_id"] for d in diagnoses})
    for item in proposal.guidelines:
        text = strip_numbering(item.text)
        problem = guideline_problem(text, facts)
        if problem:
            rejected.append(Rejection(text=item.text, reason=problem))
            continue
        cited = 1 <= item.diagnosis <= len(diagnoses)
        provenance = [diagnoses[item.diagnosis - 1]["pair_id"]] if cited else every_pair
        number = numbered_from + len(candidates)
        candidates.append(Candidate(id=f"P{number}", text=text, provenance=provenance))
    return candidates, rejected


def _new(candidates: list[Candidate], kept: list[Candidate]) -> list[Candidate]:
    """``candidates`` less those that repeat a kept one (a retry often resends them)."""
    seen = {comparison_key(c["text"]) for c in kept}
    return [c for c in candidates if comparison_key(c["text"]) not in seen]


def _unrecorded(rejections: list[Rejection], recorded: list[Rejection]) -> list[Rejection]:
    """``rejections`` less those already recorded: a retry often resends a refused rule."""
    seen = {(comparison_key(r["text"]), r["reason"]) for r in recorded}
    return [r for r in rejections if (comparison_key(r["text"]), r["reason"]) not in seen]


@dataclass
class Screening:
    """What the proposals gave so far: kept candidates, refusals, and the calls made."""

    diagnoses: list[dict[str, Any]]
    facts: frozenset[tuple[str, str]]
    candidates: list[Candidate]
    rejected: list[Rejection]
    calls: list[ModelCall]

    @classmethod
    def first(cls, state: RefinerState, proposal: Proposal, calls: list[ModelCall]) -> Screening:
        """The first proposal, screened against the run's diagnoses and trajectory facts."""
        diagnoses = state.get("diagnoses", [])
        facts = trajectory_facts(state.get("pairs", []))
        candidates, rejected = screen(proposal, diagnoses, facts)
        return cls(diagnoses, facts, candidates, rejected, calls)

    def retry_prompt(self, prompt: list[BaseMessage]) -> list[BaseMessage]:
        """The proposal prompt again, told which rules were refused and why."""
        return retry_prompt(prompt, [(r["text"], r["reason"]) for r in self.rejected])

    def add_retry(self, retried: Proposal, calls: list[ModelCall]) -> None:
        """Screen the retry the same way; keep what is new of it."""
        again, still = screen(
            retried, self.diagnoses, self.facts, numbered_from=len(self.candidates) + 1
        )
        self.candidates += _new(again, self.candidates)
        self.rejected += _unrecorded(still, self.rejected)
        self.calls += calls

    def update(self) -> dict[str, Any]:
        """The node's state update."""
        return {"candidates": self.candidates, "rejected": self.rejected, "usage": self.calls}


def propose(chat: BaseChatModel, state: RefinerState, context: RefinerContext) -> dict[str, Any]:
    """Propose rules from the run's diagnoses and screen them (one retry for the refused)."""
    prompt = proposal_prompt(state.get("diagnoses", []))
    screening = Screening.first(state, *ask_refiner(chat, Proposal, prompt, **_asked(context)))
    if screening.rejected:
        retry = screening.retry_prompt(prompt)
        screening.add_retry(*ask_refiner(chat, Proposal, retry, **_asked(context, retry=True)))
    return screening.update()


async def apropose(
    chat: BaseChatModel, state: RefinerState, context: RefinerContext
) -> dict[str, Any]:
    """:func:`propose`, awaiting the model."""
    prompt = proposal_prompt(state.get("diagnoses", []))
    asked = await aask_refiner(chat, Proposal, prompt, **_asked(context))
    screening = Screening.first(state, *asked)
    if screening.rejected:
        retry = screening.retry_prompt(prompt)
        asked = await aask_refiner(chat, Proposal, retry, **_asked(context, retry=True))
        screening.add_retry(*asked)
    return screening.update()


def _asked(context: RefinerContext, *, retry: bool = False) -> dict[str, Any]:
    """How a proposal call is recorded, and what its error names if it fails twice."""
    what = "guideline proposal retry" if retry else "guideline proposal"
    return {"node": "propose_guidelines", "context": context, "what": what}
