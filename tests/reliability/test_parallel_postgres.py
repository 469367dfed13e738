"""100 conversations at once on one Postgres: no cross-talk, no errors, and the throughput.

Every conversation has its own thread and its own user; each of its turns says
which conversation it belongs to. The fake models answer at once and derive
everything from the prompt they get (the Mediator turns the message into a
requirement, the Assistant names the conversation its instruction is about), so
a mixed-up checkpoint, store read or prompt shows up as a foreign requirement
or a foreign answer.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from fakes import UNUSED_ENDPOINT
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.graph.state import CompiledStateGraph

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.evals.bench.instant import InstantChatModel
from langgraph_mediator.guidelines import aload_guidelines, aput_guidelines
from langgraph_mediator.persistence import open_persistence
from langgraph_mediator.session import MediatorSession

Record = Callable[..., None]
CONVERSATIONS = 100
TURNS = 3
_OWNER = re.compile(r"conversation (\d+)")


class NamingAssistant(InstantChatModel):
    """Answers with the conversation number(s) its prompt mentions."""

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        owners = sorted(set(_OWNER.findall(" ".join(str(m.content) for m in messages))))
        return AIMessage(f"answer for conversation {','.join(owners)}")


def message(index: int, turn: int) -> str:
    return f"In conversation {index}, requirement {turn}: keep value {index * 1000 + turn}."


async def converse(
    graph: CompiledStateGraph[Any, Any, Any, Any], run: str, index: int
) -> tuple[list[str], list[str], list[str]]:
    """Play one conversation; return its messages, its active requirements, its guidelines."""
    user = f"{run}-user-{index}"
    await aput_guidelines(graph.store, user, [f"Guideline of conversation {index}."])  # type: ignore[arg-type]
    context = MediatorContext(base_url=UNUSED_ENDPOINT, user_id=user,
                              clarification_policy="never", single_task=True)  # fmt: skip
    session = MediatorSession(graph, context)
    thread_id = f"{run}-{index}"
    for turn in range(1, TURNS + 1):
        result = await session.send(thread_id, message(index, turn))
    values = await session.state(thread_id)
    guidelines = await aload_guidelines(graph.store, user)
    return (
        [str(m.content) for m in values["messages"]],
        [r["text"] for r in result.requirements],
        guidelines,
    )


async def test_a_hundred_parallel_conversations_keep_to_themselves(
    postgres_url: str, record: Record
) -> None:
    run = f"par-{uuid.uuid4().hex[:8]}"
    async with open_persistence(postgres_url) as persistence:
        graph = build_mediator_graph(
            NamingAssistant(), mediator_model=InstantChatModel(),
            checkpointer=persistence.checkpointer, store=persistence.store,
        )  # fmt: skip
        began = time.perf_counter()
        outcomes = await asyncio.gather(
            *(converse(graph, run, i) for i in range(CONVERSATIONS)), return_exceptions=True
        )
        seconds = time.perf_counter() - began

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert not errors, f"{len(errors)} conversations failed, first: {errors[0]!r}"
    cross_talk = 0
    for index, outcome in enumerate(outcomes):
        assert not isinstance(outcome, BaseException)
        messages, requirements, guidelines = outcome
        expected_user = [message(index, t) for t in range(1, TURNS + 1)]
        cross_talk += messages[0::2] != expected_user
        cross_talk += messages[1::2] != [f"answer for conversation {index}"] * TURNS
        cross_talk += requirements != expected_user
        cross_talk += guidelines != [f"Guideline of conversation {index}."]
    assert cross_talk == 0, f"{cross_talk} mixed-up items"
    record(
        "100 parallel conversations on Postgres",
        threads=CONVERSATIONS, turns_each=TURNS, errors=len(errors), cross_talk=cross_talk,
        seconds=round(seconds, 2),
        conversations_per_second=round(CONVERSATIONS / seconds, 1),
        turns_per_second=round(CONVERSATIONS * TURNS / seconds, 1),
    )  # fmt: skip
