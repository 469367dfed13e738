"""A thin client over a compiled mediator graph: validated turns and readable results.

The CLI uses it, and so can apps that want input checked *before* anything is
written to the thread (LangGraph checkpoints a run's input before its first
node runs) and a typed summary of what the Mediator did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.constants import START
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Durability

from langgraph_mediator.core import (
    active_requirements,
    check_thread_owner,
    next_step,
    validate_user_message,
)
from langgraph_mediator.errors import UnknownThreadError
from langgraph_mediator.state import (
    Intent,
    LedgerDelta,
    MediatorContext,
    Requirement,
    TurnUsage,
)

TurnKind = Literal["answer", "clarification", "waiting"]

_KIND_OF_STEP: dict[str, TurnKind] = {
    "clarify": "clarification",
    "wait": "waiting",
    "instruct": "answer",
}


@dataclass(frozen=True)
class TurnResult:
    """What one turn did, read from the thread state after it."""

    kind: TurnKind
    """``clarification`` when the turn ended with (or paused on) a question; ``waiting``
    when the user said more is coming and the Mediator only acknowledged."""
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
        paused = values.get("__interrupt__") or ()
        if paused:
            reply = str(paused[0].value.get("question", ""))
        else:
            reply = str(values["messages"][-1].content) if values.get("messages") else ""
        return cls(
            kind=_KIND_OF_STEP[next_step(values)],
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


@dataclass(frozen=True)
class TurnEvent:
    """Progress of a turn as it runs: a step starting, or a piece of the Assistant's answer."""

    kind: Literal["step", "token"]
    node: str
    """The graph node (``detect_intent``, ``clarify``, ``classify_feedback``, ``execute``)."""
    text: str = ""
    """For ``token``: the text the Assistant just produced."""


TurnListener = Callable[[TurnEvent], None]
"""Called with every :class:`TurnEvent` of a turn, in order (keep it quick: it runs inline)."""


def entry_nodes(graph: CompiledStateGraph[Any, Any, Any, Any]) -> tuple[str, ...]:
    """The nodes a turn of ``graph`` begins with, read off its wiring (its edges from START)."""
    return tuple(sorted(end for start, end in graph.builder.edges if start == START))


class MediatorSession:
    """Send turns to one graph on behalf of one user, thread by thread."""

    def __init__(
        self,
        graph: CompiledStateGraph[Any, Any, Any, Any],
        context: MediatorContext | None = None,
        *,
        durability: Durability = "sync",
    ) -> None:
        """Wrap ``graph`` (compiled with a checkpointer) for ``context.user_id``.

        ``durability="sync"`` (the default) saves each step's checkpoint before
        the next step starts, so a process killed inside a model call cannot
        lose the user's message or the Mediator's reading; ``"async"`` (the
        LangGraph default) saves in the background and is slightly faster.
        """
        self.graph = graph
        self.context = context or MediatorContext()
        self._entry = entry_nodes(graph)
        self.durability: Durability | None = durability if graph.checkpointer else None

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

    async def require_thread(self, thread_id: str) -> dict[str, Any]:
        """The values of a thread that must already exist, for resuming it by id.

        Raises:
            UnknownThreadError: nothing is saved under ``thread_id`` (a typo, or
                another database); nothing is written.
            ThreadOwnershipError: the thread was started by another user_id.

        """
        values = await self.state(thread_id)
        if not values:
            raise UnknownThreadError(
                f"No thread {thread_id!r} is saved here; check the id and the database, "
                "or start a new thread."
            )
        self._check_owner(thread_id, values)
        return values

    async def unfinished_turn(self, thread_id: str) -> tuple[str, ...]:
        """The nodes a turn still had to run when its process stopped (empty if none).

        A turn cut off part-way (the process killed, the endpoint failing) leaves
        its last checkpoint with pending nodes. A question the run is paused on
        (``interrupt`` mode) is not unfinished: the user's answer resumes it.
        """
        snapshot = await self.graph.aget_state(self._config(thread_id))
        return () if snapshot.interrupts else tuple(snapshot.next)

    async def finish_turn(
        self, thread_id: str, on_event: TurnListener | None = None
    ) -> TurnResult | None:
        """Complete a turn cut off part-way, from its last checkpoint; ``None`` if there is none.

        Nodes that finished before the cut are not run again: the Mediator's
        reading and the ledger change are reused, so the turn completes once.
        """
        snapshot = await self.graph.aget_state(self._config(thread_id))
        if snapshot.interrupts or not snapshot.next:
            return None
        self._check_owner(thread_id, dict(snapshot.values))
        values = await self._run(None, self._config(thread_id), on_event)
        return TurnResult.from_state(values)

    async def _cut_off_turn_start(self, thread_id: str) -> RunnableConfig:
        """The checkpoint that began the thread's cut-off turn (its message applied, no node run).

        Forking a new message's turn from there means the Mediator reads the
        kept message and the new one together, and nothing the cut-off turn
        half-did (a ledger entry, a turn number) is applied twice. Walks the
        history, so it is only called when the last checkpoint has pending nodes.
        """
        config = self._config(thread_id)
        async for snapshot in self.graph.aget_state_history(config):
            if not snapshot.next:
                break
            if tuple(sorted(snapshot.next)) == self._entry:
                return snapshot.config
        return config

    def _check_owner(self, thread_id: str, values: dict[str, Any]) -> None:
        check_thread_owner(values, self.context.user_id, thread_id)

    async def send(
        self, thread_id: str, text: str | bytes, on_event: TurnListener | None = None
    ) -> TurnResult:
        """Validate ``text``, check the thread belongs to this user, run one turn.

        ``on_event`` (optional) hears the turn as it runs: each step as it
        starts, then the Assistant's answer token by token (see :class:`TurnEvent`).

        If the thread is paused on a question (``interrupt`` mode), ``text`` is
        the answer and resumes that run with ``Command(resume=text)``.

        Raises:
            InvalidMessageError: empty, whitespace-only, oversized or non-UTF-8
                text; nothing is written.
            ThreadOwnershipError: the thread was started by another user_id.
            ModelEndpointError: the endpoint failed; the thread keeps the
                message. :meth:`finish_turn` completes that turn, or the next
                ``send`` redoes it from its start with both messages.

        """
        message = validate_user_message(text, max_chars=self.context.max_message_chars)
        config = self._config(thread_id)
        snapshot = await self.graph.aget_state(config)
        self._check_owner(thread_id, dict(snapshot.values))
        if snapshot.interrupts:
            turn_input: Any = Command(resume=message)
        else:
            turn_input = {"messages": [HumanMessage(message)]}
            if snapshot.next:
                config = await self._cut_off_turn_start(thread_id)
        values = await self._run(turn_input, config, on_event)
        return TurnResult.from_state(values)

    async def _run(
        self, turn_input: Any, config: RunnableConfig, on_event: TurnListener | None
    ) -> dict[str, Any]:
        """Run the turn; with a listener, stream it (steps, the Assistant's tokens, the values)."""
        if on_event is None:
            values: dict[str, Any] = await self.graph.ainvoke(
                turn_input, config, context=self.context, durability=self.durability
            )
            return values
        final: dict[str, Any] = {}
        stream: Any = self.graph.astream(
            turn_input,
            config,
            context=self.context,
            durability=self.durability,
            stream_mode=["tasks", "messages", "values"],
        )
        async for mode, chunk in stream:
            if mode == "values":
                final = {**final, **chunk} if "__interrupt__" in chunk else dict(chunk)
            elif mode == "tasks" and "input" in chunk:  # a start (a finish holds "result")
                on_event(TurnEvent("step", str(chunk["name"])))
            elif mode == "messages":
                _forward_token(chunk, on_event)
        return final


def _forward_token(chunk: Any, on_event: TurnListener) -> None:
    """Pass on a streamed piece of a model's reply (the structured Mediator calls never stream)."""
    message, metadata = chunk
    if isinstance(message, AIMessage) and isinstance(message.content, str) and message.content:
        on_event(TurnEvent("token", str(metadata.get("langgraph_node", "")), message.content))
