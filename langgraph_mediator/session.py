"""A thin client over a compiled mediator graph: validated turns and readable results.

The CLI uses it, and so can apps that want input checked *before* anything is
written to the thread (LangGraph checkpoints a run's input before its first
node runs) and a typed summary of what the Mediator did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from langgraph_mediator.errors import ThreadOwnershipError
from langgraph_mediator.messages import validate_user_message
from langgraph_mediator.state import (
    Intent,
    LedgerDelta,
    MediatorContext,
    Requirement,
    TurnUsage,
    active_requirements,
)


@dataclass(frozen=True)
class TurnResult:
    """What one turn did, read from the thread state after it."""

    kind: Literal["answer", "clarification"]
    reply: str
    intent: Intent | None
    delta: LedgerDelta | None
    requirements: list[Requirement]
    instruction: str
    usage: TurnUsage | None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_state(cls, values: dict[str, Any]) -> TurnResult:
        """Summarise the state the turn left."""
        clarified = bool(values.get("should_clarify"))
        return cls(
            kind="clarification" if clarified else "answer",
            reply=str(values["messages"][-1].content) if values.get("messages") else "",
            intent=values.get("intent"),
            delta=values.get("ledger_delta"),
            requirements=active_requirements(
                values.get("ledger", []), values.get("task_number", 0)
            ),
            instruction=values.get("instruction", ""),
            usage=values.get("turn_usage"),
            notes=list(values.get("mediator_notes", [])),
        )


class MediatorSession:
    """Send turns to one graph on behalf of one user, thread by thread."""

    def __init__(self, graph: CompiledStateGraph[Any, Any, Any, Any],
                 context: MediatorContext | None = None) -> None:  # fmt: skip
        """Wrap ``graph`` (compiled with a checkpointer) for ``context.user_id``."""
        self.graph = graph
        self.context = context or MediatorContext()

    def _config(self, thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}}

    async def state(self, thread_id: str) -> dict[str, Any]:
        """The thread's current values (empty for a thread never used)."""
        snapshot = await self.graph.aget_state(self._config(thread_id))
        return dict(snapshot.values)

    async def send(self, thread_id: str, text: str | bytes) -> TurnResult:
        """Validate ``text``, check the thread belongs to this user, run one turn.

        Raises:
            InvalidMessageError: empty, whitespace-only, oversized or non-UTF-8
                text; nothing is written.
            ThreadOwnershipError: the thread was started by another user_id.
            ModelEndpointError: the endpoint failed; the thread keeps the
                message and the next ``send`` (or a retry) completes the turn.

        """
        message = validate_user_message(text, max_chars=self.context.max_message_chars)
        owner = (await self.state(thread_id)).get("user_id")
        if owner is not None and owner != self.context.user_id:
            raise ThreadOwnershipError(
                f"Thread {thread_id!r} belongs to another user; start a new thread."
            )
        values = await self.graph.ainvoke(
            {"messages": [HumanMessage(message)]},
            self._config(thread_id),
            context=self.context,
        )
        return TurnResult.from_state(values)
