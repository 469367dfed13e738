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
from langgraph.types import Command

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
    """``clarification`` when the turn ended with (or paused on) a question."""
    reply: str
    intent: Intent | None
    delta: LedgerDelta | None
    requirements: list[Requirement]
    instruction: str
    usage: TurnUsage | None
    notes: list[str] = field(default_factory=list)
    awaiting_answer: bool = False
    """The run is paused on the question (``interrupt`` mode): the next send resumes it."""

    @classmethod
    def from_state(cls, values: dict[str, Any]) -> TurnResult:
        """Summarise the state the turn left (``values`` as ``ainvoke`` returns them)."""
        clarified = bool(values.get("should_clarify"))
        paused = values.get("__interrupt__") or ()
        if paused:
            reply = str(paused[0].value.get("question", ""))
        else:
            reply = str(values["messages"][-1].content) if values.get("messages") else ""
        return cls(
            kind="clarification" if clarified else "answer",
            reply=reply,
            intent=values.get("intent"),
            delta=values.get("ledger_delta"),
            requirements=active_requirements(
                values.get("ledger", []), values.get("task_number", 0)
            ),
            instruction=values.get("instruction", ""),
            usage=values.get("turn_usage"),
            notes=list(values.get("mediator_notes", [])),
            awaiting_answer=bool(paused),
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

    async def awaiting_answer(self, thread_id: str) -> bool:
        """Whether the thread's run is paused on a clarifying question."""
        snapshot = await self.graph.aget_state(self._config(thread_id))
        return bool(snapshot.interrupts)

    async def send(self, thread_id: str, text: str | bytes) -> TurnResult:
        """Validate ``text``, check the thread belongs to this user, run one turn.

        If the thread is paused on a question (``interrupt`` mode), ``text`` is
        the answer and resumes that run with ``Command(resume=text)``.

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
        if await self.awaiting_answer(thread_id):
            turn_input: Any = Command(resume=message)
        else:
            turn_input = {"messages": [HumanMessage(message)]}
        values = await self.graph.ainvoke(turn_input, self._config(thread_id), context=self.context)
        return TurnResult.from_state(values)
