"""Prompt tokens per turn against the bare assistant, as answers get longer.

The eval's ratio depends on the executor: the bare assistant resends the whole
history, so its prompt grows with every answer, while the Mediator pays a fixed
system prompt plus the ledger, the last answer (capped) and the new message,
and the Assistant gets one instruction. Here the instant model answers with
``answer_tokens`` tokens of text and both graphs play the same conversation;
the tokens are the instant model's estimate (characters / 4) of the prompts
the graphs really build.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass

from langgraph_mediator.evals.bench.graphs import open_graphs, prompt_tokens


@dataclass(frozen=True)
class PromptRatio:
    """Mean prompt tokens per turn of both graphs for one answer length."""

    answer_tokens: int
    turns: int
    mediator_prompt_tokens: float
    bare_prompt_tokens: float

    @property
    def ratio(self) -> float:
        """Mediator (both calls) over bare, per turn."""
        return self.mediator_prompt_tokens / self.bare_prompt_tokens


async def measure_prompt_ratio(answer_tokens: int, *, turns: int = 8) -> PromptRatio:
    """Play one ``turns``-turn conversation through both graphs with answers of that length."""
    answer = ("word " * (answer_tokens * 4 // 5)).strip()
    thread = f"prompts-{uuid.uuid4().hex[:8]}"
    tokens: dict[str, list[int]] = {"mediator": [], "bare": []}
    async with open_graphs("memory", None, answer=answer) as graphs:
        for turn in range(1, turns + 1):
            for kind, seen in tokens.items():
                _, out = await graphs.turn(kind, thread, turn)
                seen.append(prompt_tokens(kind, out))
    return PromptRatio(
        answer_tokens, turns, statistics.fmean(tokens["mediator"]), statistics.fmean(tokens["bare"])
    )
