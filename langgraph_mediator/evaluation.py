"""Evaluate your own mediated graph or agent with LangSmith, online or offline.

LangSmith's ``evaluate``/``aevaluate`` call a target once per example; a
conversation needs a thread. :func:`conversation_target` plays an example's
user turns on a fresh thread of your graph (the mediator graph, or a
``create_agent`` agent with :class:`~langgraph_mediator.MediatorMiddleware`)
and returns what evaluators need: the last answer, the Mediator's instruction,
the questions it asked. A turn that follows a paused question (``interrupt``
mode) is given as the answer (``Command(resume=...)``).

Example inputs take one of three shapes: ``{"turns": ["...", "..."]}``,
``{"message": "..."}`` or ``{"messages": [{"role": "user", "content": "..."}]}``.

:func:`evaluate_conversations` runs the experiment. With no
``LANGSMITH_API_KEY`` (or ``offline=True``) nothing is uploaded: the examples
are given in memory, the client is an offline one, and the graph's runs are
not traced, since an offline client would retry each upload (about 42 s per
example) before giving up.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.pregel import Pregel
from langgraph.types import Command
from langsmith import Client, tracing_context
from langsmith.evaluation import aevaluate, evaluate
from langsmith.schemas import Example

from langgraph_mediator.core import text_of
from langgraph_mediator.errors import InvalidMessageError

Graph = Pregel[Any, Any, Any, Any]
"""A compiled graph: the mediator graph, or a ``create_agent`` agent with the middleware."""
Target = Callable[[dict[str, Any]], dict[str, Any]]
AsyncTarget = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
Row = Mapping[str, Any]
"""An example as a plain mapping: ``{"inputs": {...}, "outputs": {...}}`` (outputs optional)."""


def user_turns(inputs: Mapping[str, Any]) -> list[str]:
    """The user's turns of one example, whatever shape its inputs take.

    Raises:
        InvalidMessageError: the inputs hold no user text (names the shapes accepted).

    """
    if isinstance(inputs.get("turns"), list):
        turns = [str(t) for t in inputs["turns"]]
    elif isinstance(inputs.get("message"), str):
        turns = [inputs["message"]]
    elif isinstance(inputs.get("messages"), list):
        turns = [
            str(m.get("content", ""))
            for m in inputs["messages"]
            if isinstance(m, Mapping) and m.get("role") in ("user", "human")
        ]
    else:
        turns = []
    if not turns or not all(t.strip() for t in turns):
        raise InvalidMessageError(
            'An example\'s inputs need user text: {"turns": [...]}, {"message": "..."} '
            'or {"messages": [{"role": "user", "content": "..."}]}.'
        )
    return turns


def threaded(graph: Graph) -> Graph:
    """``graph`` with a checkpointer: a conversation's turns share a thread."""
    if graph.checkpointer:
        return graph
    return graph.copy(update={"checkpointer": InMemorySaver()})


def turn_input(previous: Mapping[str, Any] | None, text: str) -> Any:
    """The next turn's input: the answer to a paused question, else a new user message."""
    if previous is not None and previous.get("__interrupt__"):
        return Command(resume={"answer": text})
    return {"messages": [HumanMessage(text)]}


def conversation_outputs(values: Mapping[str, Any], thread_id: str) -> dict[str, Any]:
    """What evaluators read: the last answer, the instruction, the Mediator's questions."""
    messages = values.get("messages", [])
    answers = [m for m in messages if isinstance(m, AIMessage) and m.name != "mediator"]
    pending = values.get("__interrupt__") or []
    return {
        "answer": text_of(answers[-1]) if answers else "",
        "instruction": values.get("instruction", ""),
        "questions": [q["question"] for q in values.get("questions", [])],
        "paused": bool(pending),
        "thread_id": thread_id,
    }


def conversation_target(graph: Graph, *, context: Any = None, trace: bool = True) -> Target:
    """A sync ``evaluate`` target playing each example's turns on a new thread of ``graph``.

    Args:
        graph: a compiled mediator graph or mediated agent (a checkpointer is
            added when it has none).
        context: the run context each turn gets (e.g. a :class:`MediatorContext`).
        trace: ``False`` keeps the graph's own runs out of LangSmith (offline).

    """
    runnable = threaded(graph)

    def target(inputs: dict[str, Any]) -> dict[str, Any]:
        thread_id = f"eval-{uuid.uuid4()}"
        config: Any = {"configurable": {"thread_id": thread_id}}
        values: dict[str, Any] | None = None
        with tracing_context(enabled=None if trace else False):
            for text in user_turns(inputs):
                values = runnable.invoke(turn_input(values, text), config, context=context)
        return conversation_outputs(values or {}, thread_id)

    return target


def aconversation_target(graph: Graph, *, context: Any = None, trace: bool = True) -> AsyncTarget:
    """:func:`conversation_target` for ``aevaluate``: the turns run with ``ainvoke``."""
    runnable = threaded(graph)

    async def target(inputs: dict[str, Any]) -> dict[str, Any]:
        thread_id = f"eval-{uuid.uuid4()}"
        config: Any = {"configurable": {"thread_id": thread_id}}
        values: dict[str, Any] | None = None
        with tracing_context(enabled=None if trace else False):
            for text in user_turns(inputs):
                values = await runnable.ainvoke(turn_input(values, text), config, context=context)
        return conversation_outputs(values or {}, thread_id)

    return target


def offline_examples(rows: Iterable[Row]) -> list[Example]:
    """Rows as in-memory LangSmith examples (one dataset id), for an offline experiment."""
    dataset_id = uuid.uuid4()
    return [
        Example(
            id=uuid.uuid4(),
            dataset_id=dataset_id,
            inputs=dict(row["inputs"]),
            outputs=dict(row.get("outputs") or {}),
        )
        for row in rows
    ]


def is_offline(offline: bool | None) -> bool:
    """``offline`` if given, else whether no ``LANGSMITH_API_KEY`` is set."""
    return offline if offline is not None else not os.environ.get("LANGSMITH_API_KEY")


def _experiment(data: str | Iterable[Row], offline: bool) -> tuple[Client, Any]:
    """The client and data of one experiment: offline, rows in memory."""
    if not offline:
        return Client(), data
    if isinstance(data, str):
        raise ValueError(
            f"Offline, the examples must be given as rows, not the dataset name {data!r}: "
            "set LANGSMITH_API_KEY, or pass [{'inputs': {...}, 'outputs': {...}}, ...]."
        )
    return Client(api_key="offline", auto_batch_tracing=False), offline_examples(data)


def evaluate_conversations(
    graph: Graph,
    data: str | Iterable[Row],
    evaluators: Sequence[Any],
    *,
    context: Any = None,
    offline: bool | None = None,
    **options: Any,
) -> Any:
    """Run ``graph`` over ``data`` as one LangSmith experiment, scored by ``evaluators``.

    Args:
        graph: a compiled mediator graph or mediated agent.
        data: a LangSmith dataset name (online), or rows
            ``{"inputs": {"turns": [...]}, "outputs": {...}}``.
        evaluators: LangSmith evaluators, e.g. ``def right(outputs, reference_outputs) -> bool``.
        context: the run context of every turn.
        offline: ``None``: offline unless ``LANGSMITH_API_KEY`` is set.
        options: passed on to ``langsmith.evaluate`` (``experiment_prefix``,
            ``max_concurrency``, ``metadata``...).

    Returns:
        LangSmith's ``ExperimentResults``: iterate it for each example's run and scores.

    """
    offline = is_offline(offline)
    client, examples = _experiment(data, offline)
    target = conversation_target(graph, context=context, trace=not offline)
    return evaluate(
        target,
        data=examples,
        evaluators=list(evaluators),
        client=client,
        upload_results=not offline,
        **options,
    )


async def aevaluate_conversations(
    graph: Graph,
    data: str | Iterable[Row],
    evaluators: Sequence[Any],
    *,
    context: Any = None,
    offline: bool | None = None,
    **options: Any,
) -> Any:
    """:func:`evaluate_conversations` with ``aevaluate``: the graph runs with ``ainvoke``."""
    offline = is_offline(offline)
    client, examples = _experiment(data, offline)
    target = aconversation_target(graph, context=context, trace=not offline)
    return await aevaluate(
        target,
        data=examples,
        evaluators=list(evaluators),
        client=client,
        upload_results=not offline,
        **options,
    )


__all__ = [
    "aconversation_target",
    "aevaluate_conversations",
    "conversation_target",
    "evaluate_conversations",
    "offline_examples",
    "user_turns",
]
