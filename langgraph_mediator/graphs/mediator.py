"""The mediator graph: one user turn, from intent to an explicit instruction to an answer.

START -> detect_intent -> clarify -> END                (underspecified: ask, end turn)
                       |          -> detect_intent      (interrupt mode: the answer)
                       -> wait_for_more -> END          (continuation: more is coming)
                       -> classify_feedback -> execute -> END

``graph`` is compiled without checkpointer or store for ``langgraph.json``
(LangGraph Server supplies both). Apps embed :func:`build_mediator_graph`.
"""

from __future__ import annotations

from typing import Literal

from langchain_core.messages import HumanMessage
from langchain_core.runnables import Runnable
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from langgraph_mediator.core import Executor, next_step
from langgraph_mediator.models import ModelChoice, checked_model_choice
from langgraph_mediator.nodes.mediator import (
    clarify,
    classify_feedback,
    graph_node,
    make_detect_intent,
    make_execute,
    wait_for_more,
)
from langgraph_mediator.state import InputState, MediatorContext, MediatorState


def route_after_intent(
    state: MediatorState,
) -> Literal["clarify", "wait_for_more", "classify_feedback"]:
    """Ask when the turn is underspecified under the policy; wait when more is coming."""
    return _NODE_OF_STEP[next_step(state)]


_NODE_OF_STEP: dict[str, Literal["clarify", "wait_for_more", "classify_feedback"]] = {
    "clarify": "clarify",
    "wait": "wait_for_more",
    "instruct": "classify_feedback",
}


def route_after_clarify(state: MediatorState) -> Literal["detect_intent", "__end__"]:
    """Read the answer at once when the user gave it in this run (``interrupt`` mode)."""
    messages = state.get("messages", [])
    return "detect_intent" if messages and isinstance(messages[-1], HumanMessage) else "__end__"


def build_mediator_builder(
    executor: Executor | str | None = None, *, mediator_model: ModelChoice = None
) -> StateGraph[MediatorState, MediatorContext, InputState, MediatorState]:
    """The uncompiled graph, for apps that compile it themselves or nest it.

    Raises:
        TypeError, ValueError: a model that cannot serve (see :func:`build_mediator_graph`).

    """
    mediator_model = checked_model_choice(mediator_model, role="Mediator", structured=True)
    executor = _checked_executor(executor)
    builder = StateGraph(MediatorState, context_schema=MediatorContext, input_schema=InputState)
    builder.add_node("detect_intent", make_detect_intent(mediator_model))
    builder.add_node("clarify", graph_node(clarify))
    builder.add_node("wait_for_more", graph_node(wait_for_more))
    builder.add_node("classify_feedback", graph_node(classify_feedback))
    builder.add_node("execute", make_execute(executor))
    builder.add_edge(START, "detect_intent")
    builder.add_conditional_edges("detect_intent", route_after_intent)
    builder.add_conditional_edges("clarify", route_after_clarify)
    builder.add_edge("wait_for_more", END)
    builder.add_edge("classify_feedback", "execute")
    builder.add_edge("execute", END)
    return builder


def _checked_executor(executor: object) -> Executor | str | None:
    """The Assistant as given, if it is one: a model name, a chat model or a Runnable."""
    if isinstance(executor, Runnable):
        return executor
    return checked_model_choice(executor, role="Assistant", structured=False)


def build_mediator_graph(
    executor: Executor | str | None = None,
    *,
    mediator_model: ModelChoice = None,
    checkpointer: BaseCheckpointSaver[str] | None = None,
    store: BaseStore | None = None,
    name: str = "mediator",
) -> CompiledStateGraph[MediatorState, MediatorContext, InputState, MediatorState]:
    """Compile the mediator graph.

    Args:
        executor: the Assistant: a model name (``"openai:gpt-4o-mini"``), a
            chat model, a Runnable taking messages, or a compiled graph with a
            ``messages`` key (e.g. a ReAct agent). ``None``: the context's
            ``assistant_model``, built per run.
        mediator_model: the Mediator's model, a name or a chat model; ``None``:
            the context's ``mediator_model``. It must support tool calling
            (``bind_tools`` with a forced ``tool_choice``), checked here.
        checkpointer: where threads are saved (see :mod:`langgraph_mediator.persistence`).
        store: where per-user guidelines are read from.
        name: the graph's name in traces.

    The graph runs sync (``invoke``, ``stream``, ``batch``) and async
    (``ainvoke``, ``astream``, ``abatch``).

    Raises:
        TypeError: ``executor`` or ``mediator_model`` is of a kind neither can be.
        ValueError: a model name is empty or its provider's package is missing,
            or the Mediator's model cannot call tools; the message names the fix.

    """
    builder = build_mediator_builder(executor, mediator_model=mediator_model)
    return builder.compile(checkpointer=checkpointer, store=store, name=name)


graph = build_mediator_graph()
