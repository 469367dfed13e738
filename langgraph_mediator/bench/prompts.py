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
from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig

from langgraph_mediator.bench.graphs import bench_context, user_text
from langgraph_mediator.bench.instant import InstantChatModel, build_bare_graph
from langgraph_mediator.graphs import build_mediator_graph
from langgraph_mediator.persistence import MEMORY, open_persistence


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
    model = InstantChatModel(answer=answer)
    thread = f"prompts-{uuid.uuid4().hex[:8]}"
    bare_config: RunnableConfig = {"configurable": {"thread_id": f"b:{thread}"}}
    mediator_config: RunnableConfig = {"configurable": {"thread_id": f"m:{thread}"}}
    mediator_tokens, bare_tokens = [], []
    async with open_persistence(MEMORY) as db:
        mediator = build_mediator_graph(model, mediator_model=model, checkpointer=db.checkpointer)
        bare = build_bare_graph(model, db.checkpointer)
        for turn in range(1, turns + 1):
            message: Any = {"messages": [HumanMessage(user_text(thread, turn))]}
            m_out = await mediator.ainvoke(message, mediator_config, context=bench_context())
            mediator_tokens.append(sum(c["prompt_tokens"] for c in m_out["turn_usage"]["calls"]))
            b_out = await bare.ainvoke(message, bare_config)
            usage = b_out["messages"][-1].usage_metadata or {"input_tokens": 0}
            bare_tokens.append(usage["input_tokens"])
    return PromptRatio(
        answer_tokens, turns, statistics.fmean(mediator_tokens), statistics.fmean(bare_tokens)
    )
