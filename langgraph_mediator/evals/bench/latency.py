"""Time to the Assistant's first token, mediated vs bare: how long a user waits.

Both graphs play the same scripted conversation (:data:`CONVERSATION`, 10
turns) on fresh threads, several times. A turn's *first token* is the time
from sending the message to the first token of the answer (the mediator
graph's ``execute`` node, the bare graph's ``chat`` node) under
``stream_mode="messages"``; its *end* is when the turn's stream ends, the
checkpoint written. The Mediator's own call is whole (not streamed), so all
of it comes before the first token.

Two sources of model time:

- :class:`TimedChatModel`, the instant model made to wait as a hosted
  endpoint does (:class:`LatencyModel`: a fixed cost per request, then per
  prompt token before the first token, then per completion token), so the
  ratio means what it would against a real endpoint of that speed;
- the embedded llama.cpp server, both graphs calling the same server.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from pydantic import Field

from langgraph_mediator.evals.bench.instant import InstantChatModel, build_bare_graph
from langgraph_mediator.graphs.mediator import build_mediator_graph
from langgraph_mediator.state import MediatorContext

CONVERSATION = (
    "I need to know how many cans of paint to buy for my bedroom.",
    "The walls add up to 36 square metres.",
    "I want two coats.",
    "One can covers 12 square metres.",
    "no, make that three coats",
    "Also the ceiling, which is 14 square metres.",
    "The ceiling needs only one coat.",
    "Round up to whole cans.",
    "Actually one can covers 10 square metres.",
    "Show the sum step by step.",
)
ANSWER_NODES = {"mediator": "execute", "bare": "chat"}
"""The node whose tokens are the answer, per graph."""
ANSWER_TOKENS = 100


@dataclass(frozen=True)
class LatencyModel:
    """What one request to an endpoint costs in time."""

    fixed_seconds: float = 0.30
    """Per request, before anything: network, queueing, scheduling."""
    prompt_token_seconds: float = 0.00005
    """Per prompt token before the first token (prefill; 20,000 tokens/s)."""
    completion_token_seconds: float = 0.0125
    """Per completion token (decode; 80 tokens/s)."""

    def first_token_seconds(self, prompt_tokens: int) -> float:
        """From request to first token."""
        return self.fixed_seconds + prompt_tokens * self.prompt_token_seconds

    def describe(self) -> str:
        """The model in one line, for the report."""
        return (
            f"{self.fixed_seconds * 1000:.0f} ms per request + "
            f"{self.prompt_token_seconds * 1e6:.0f} us per prompt token + "
            f"{self.completion_token_seconds * 1000:.1f} ms per completion token"
        )


HOSTED = LatencyModel()
"""A hosted small model's speed (gpt-4o-mini class): the stub's default."""


class TimedChatModel(InstantChatModel):
    """:class:`InstantChatModel` that waits as :attr:`latency` says, and streams its answers.

    Every structured (Mediator) call's prompt and usage is appended to
    :attr:`readings`, shared by the copies ``bind_tools`` makes.
    """

    latency: LatencyModel = HOSTED
    readings: list[tuple[list[BaseMessage], int]] = Field(default_factory=list)
    """(prompt, completion tokens) of each structured call, in order."""

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        reply = super()._reply(messages)
        if reply.tool_calls and reply.usage_metadata:
            self.readings.append((list(messages), reply.usage_metadata["output_tokens"]))
        return reply

    @property
    def _llm_type(self) -> str:
        return "timed"

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._reply(messages)
        usage = reply.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
        decode = usage["output_tokens"] * self.latency.completion_token_seconds
        await asyncio.sleep(self.latency.first_token_seconds(usage["input_tokens"]) + decode)
        return ChatResult(generations=[ChatGeneration(message=reply)])

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        reply = self._reply(messages)
        usage = reply.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
        await asyncio.sleep(self.latency.first_token_seconds(usage["input_tokens"]))
        if reply.tool_calls:
            await asyncio.sleep(usage["output_tokens"] * self.latency.completion_token_seconds)
            yield ChatGenerationChunk(message=_tool_call_chunk(reply))
            return
        text = str(reply.content)
        pieces = [text[i : i + 4] for i in range(0, len(text), 4)]  # ~4 characters a token
        for i, piece in enumerate(pieces):
            if i:
                await asyncio.sleep(self.latency.completion_token_seconds)
            chunk = AIMessageChunk(
                content=piece, usage_metadata=reply.usage_metadata if i == 0 else None
            )
            yield ChatGenerationChunk(message=chunk)  # the caller reports each token


def _tool_call_chunk(reply: AIMessage) -> AIMessageChunk:
    call = reply.tool_calls[0]
    fragment = {
        "name": call["name"],
        "args": json.dumps(call["args"]),
        "id": call["id"],
        "index": 0,
        "type": "tool_call_chunk",
    }
    return AIMessageChunk(
        content="",
        tool_call_chunks=[fragment],  # type: ignore[list-item]
        usage_metadata=reply.usage_metadata,
    )


@dataclass(frozen=True)
class TurnTime:
    """One turn of one graph: seconds to the answer's first token and to the turn's end."""

    kind: str
    repeat: int
    turn: int
    first_token: float
    end: float


@dataclass
class FirstToken:
    """Every turn timed for one source of model time."""

    source: str
    note: str = ""
    times: list[TurnTime] = field(default_factory=list)
    mediator_time: MediatorTime | None = None
    """Where the Mediator's call spends the wait (the timed source only)."""

    def of(self, kind: str, what: str = "first_token") -> list[float]:
        """All samples of ``what`` ("first_token" or "end") for ``kind``."""
        return [getattr(t, what) for t in self.times if t.kind == kind]

    def median(self, kind: str, what: str = "first_token") -> float:
        """The median of :meth:`of`."""
        return statistics.median(self.of(kind, what))

    def p90(self, kind: str, what: str = "first_token") -> float:
        """The 90th percentile of :meth:`of`."""
        values = sorted(self.of(kind, what))
        return values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]

    def ratio(self, what: str = "first_token") -> float:
        """Median mediated over median bare."""
        return self.median("mediator", what) / self.median("bare", what)

    def per_turn(self, kind: str) -> list[float]:
        """Median first-token seconds of each turn number, over the repeats."""
        turns = sorted({t.turn for t in self.times})
        return [
            statistics.median(t.first_token for t in self.times if t.kind == kind and t.turn == n)
            for n in turns
        ]


async def time_conversation(
    graph: Any,
    kind: str,
    repeat: int,
    context: MediatorContext | None,
    conversation: Sequence[str] = CONVERSATION,
) -> list[TurnTime]:
    """Play ``conversation`` on a fresh thread of ``graph``, timing every turn."""
    config: Any = {"configurable": {"thread_id": f"ttft-{kind}-{uuid.uuid4().hex[:8]}"}}
    extra = {"context": context} if context is not None else {}
    times = []
    for turn, text in enumerate(conversation, start=1):
        began, first = time.perf_counter(), None
        stream = graph.astream(
            {"messages": [HumanMessage(text)]}, config, stream_mode="messages", **extra
        )
        async for chunk, metadata in stream:
            if (
                first is None
                and chunk.content
                and metadata.get("langgraph_node") == ANSWER_NODES[kind]
            ):
                first = time.perf_counter() - began
        end = time.perf_counter() - began
        times.append(TurnTime(kind, repeat, turn, end if first is None else first, end))
    return times


async def time_both(
    graphs: dict[str, Any],
    context: MediatorContext | None,
    result: FirstToken,
    repeats: int,
    conversation: Sequence[str] = CONVERSATION,
) -> FirstToken:
    """Alternate the two graphs ``repeats`` times, so drift on the machine hits both alike."""
    for repeat in range(repeats):
        for kind in ("mediator", "bare"):
            result.times += await time_conversation(
                graphs[kind], kind, repeat, context, conversation
            )
    return result


def timing_context(**settings: Any) -> MediatorContext:
    """The Mediator's context here: one task, never a question (every turn is answered)."""
    return MediatorContext(single_task=True, clarification_policy="never", **settings)


async def measure_first_token_timed(
    latency: LatencyModel = HOSTED,
    *,
    repeats: int = 3,
    conversation: Sequence[str] = CONVERSATION,
) -> FirstToken:
    """Both graphs on :class:`TimedChatModel` with ``latency`` and ~100-token answers."""
    answer = ("word " * (ANSWER_TOKENS * 4 // 5)).strip()
    model = TimedChatModel(latency=latency, answer=answer)
    graphs = {
        "mediator": build_mediator_graph(
            model, mediator_model=model, checkpointer=InMemorySaver(), store=InMemoryStore()
        ),
        "bare": build_bare_graph(model, InMemorySaver()),
    }
    context = timing_context(base_url="http://timed.invalid/v1")
    note = f"scripted stub, hosted-endpoint latency model: {latency.describe()}"
    result = await time_both(
        graphs, context, FirstToken("stub (hosted latency)", note), repeats, conversation
    )
    result.mediator_time = mediator_time(model, latency, await guidelines_read_seconds())
    return result


def mediator_time(model: TimedChatModel, latency: LatencyModel, read: float) -> MediatorTime:
    """Mean prompt parts and reading tokens over the Mediator calls ``model`` answered."""
    parts = [prompt_parts(prompt) for prompt, _ in model.readings]
    tokens = {name: statistics.fmean(p[name] for p in parts) / 4 for name in PROMPT_PARTS}
    completion = statistics.fmean(c for _, c in model.readings)
    return MediatorTime(len(parts), tokens, completion, latency, read)


async def measure_first_token_embedded(
    *, repeats: int = 2, max_tokens: int = ANSWER_TOKENS
) -> FirstToken:
    """Both graphs on the embedded llama.cpp server (one server, started here)."""
    from langgraph_mediator.models.chat import build_chat_model
    from langgraph_mediator.models.local_server import LocalModelServer, bundled_model_path

    server = LocalModelServer(model_path=bundled_model_path()).start()
    try:
        context = timing_context(base_url=server.base_url, api_key="local", max_tokens=max_tokens)
        bare_model = build_chat_model(context, context.assistant_model)
        graphs = {
            "mediator": build_mediator_graph(checkpointer=InMemorySaver(), store=InMemoryStore()),
            "bare": build_bare_graph(bare_model, InMemorySaver()),
        }
        note = f"SmolLM2-135M on llama.cpp, CPU, answers capped at {max_tokens} tokens"
        return await time_both(graphs, context, FirstToken("embedded", note), repeats)
    finally:
        server.stop()


PROMPT_PARTS = (
    "system prompt",
    "guidelines",
    "ledger",
    "earlier answers",
    "last answer",
    "user message",
    "the rest",
)
"""The pieces of the Mediator's prompt :func:`prompt_parts` tells apart."""


def _between(text: str, start: str, ends: Sequence[str]) -> str:
    """The text after ``start`` up to the first of ``ends`` that follows ("" without start)."""
    head, found, tail = text.partition(start)
    if not found:
        return ""
    cut = min((i for i in (tail.find(e) for e in ends) if i >= 0), default=len(tail))
    return tail[:cut]


_AFTER_LEDGER = ("Details still open:", "Questions the Mediator")
"""What follows the standing requirements and the task's requirements in a turn."""


def prompt_parts(prompt: Sequence[BaseMessage]) -> dict[str, int]:
    """Characters of each of :data:`PROMPT_PARTS` in one Mediator prompt."""
    from langgraph_mediator.core.prompts import MEDIATOR_SYSTEM_PROMPT, format_guidelines

    system, turn = (str(m.content) for m in prompt[:2])
    static = len(MEDIATOR_SYSTEM_PROMPT.format(guidelines=format_guidelines([])))
    parts = {
        "system prompt": static,
        "guidelines": len(system) - static,
        "ledger": len(_between(turn, "Current task (", _AFTER_LEDGER).partition("\n")[2]),
        "earlier answers": len(
            _between(turn, "The assistant's earlier answers:\n", ["Last answer of the assistant"])
        ),
        "last answer": len(
            _between(
                turn, "Last answer of the assistant", ["Blocks of the new", "NEW USER MESSAGE: "]
            )
        ),
        "user message": len(_between(turn, "NEW USER MESSAGE: ", [])),
    }
    parts["the rest"] = len(system) + len(turn) - sum(parts.values())
    return parts


@dataclass(frozen=True)
class MediatorTime:
    """Where a mediated turn's wait before the first token goes, per Mediator call (means)."""

    calls: int
    prompt_tokens: dict[str, float]
    """Tokens (characters / 4) of each of :data:`PROMPT_PARTS`."""
    completion_tokens: float
    latency: LatencyModel
    guidelines_read_seconds: float

    def seconds(self) -> dict[str, float]:
        """The modelled seconds of the call: request, prefill, the reading's tokens."""
        prefill = sum(self.prompt_tokens.values()) * self.latency.prompt_token_seconds
        return {
            "request": self.latency.fixed_seconds,
            "prompt (prefill)": prefill,
            "reading (decode)": self.completion_tokens * self.latency.completion_token_seconds,
            "guidelines read (memory store)": self.guidelines_read_seconds,
        }


def floor_ratio(bare_first_token: float, timed: MediatorTime) -> float:
    """The least first-token ratio of any Mediator that reads the turn before the Assistant starts.

    Its request and prefill come first however few tokens the reading has;
    ``bare_first_token`` is the bare graph's median first token.
    """
    before = timed.latency.fixed_seconds + sum(timed.prompt_tokens.values()) * (
        timed.latency.prompt_token_seconds
    )
    return (bare_first_token + before) / bare_first_token


async def guidelines_read_seconds(reads: int = 200) -> float:
    """Median seconds of one guidelines read from the memory store (one user's set)."""
    from langgraph_mediator.guidelines.store import aload_guidelines, aput_guidelines

    store = InMemoryStore()
    await aput_guidelines(store, "bench-user", ["Read a bare value as a correction."] * 3)
    times = []
    for _ in range(reads):
        began = time.perf_counter()
        await aload_guidelines(store, "bench-user")
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def summary_rows(results: Sequence[FirstToken]) -> list[tuple[object, ...]]:
    """One row per source: medians and p90 of first token and end, and the ratios."""
    return [
        (
            r.source,
            len(r.of("mediator")),
            f"{r.median('mediator'):.2f}",
            f"{r.median('bare'):.2f}",
            f"{r.p90('mediator'):.2f}",
            f"{r.p90('bare'):.2f}",
            f"{r.ratio():.2f}x",
            f"{r.median('mediator', 'end'):.2f}",
            f"{r.median('bare', 'end'):.2f}",
            f"{r.ratio('end'):.2f}x",
        )
        for r in results
    ]
