"""The refiner graph: learn a user's guidelines from failed vs successful trajectories.

START -> diagnose -> propose_guidelines -> merge_guidelines -> write_guidelines -> END

``graph`` is compiled without checkpointer or store for ``langgraph.json``;
embed :func:`build_refiner_graph` with a store (the guidelines live there). Its
context is :class:`~langgraph_mediator.state.RefinerContext` (the endpoint and
the Refiner's model); a ``MediatorContext`` works too, for its endpoint settings.
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from langgraph_mediator.models import ModelChoice, checked_model_choice
from langgraph_mediator.nodes.refiner import (
    awrite_guidelines,
    make_diagnose,
    make_merge_guidelines,
    make_propose_guidelines,
    write_guidelines,
)
from langgraph_mediator.nodes.types import graph_node
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import RefinerInput, RefinerState


def build_refiner_builder(
    model: ModelChoice = None,
) -> StateGraph[RefinerState, RefinerContext, RefinerInput, RefinerState]:
    """The uncompiled refiner graph (``model`` as in :func:`build_refiner_graph`)."""
    model = checked_model_choice(model, role="Refiner", structured=True)
    builder = StateGraph(RefinerState, context_schema=RefinerContext, input_schema=RefinerInput)
    builder.add_node("diagnose", make_diagnose(model))
    builder.add_node("propose_guidelines", make_propose_guidelines(model))
    builder.add_node("merge_guidelines", make_merge_guidelines(model))
    builder.add_node("write_guidelines", graph_node(write_guidelines, awrite_guidelines))
    builder.add_edge(START, "diagnose")
    builder.add_edge("diagnose", "propose_guidelines")
    builder.add_edge("propose_guidelines", "merge_guidelines")
    builder.add_edge("merge_guidelines", "write_guidelines")
    builder.add_edge("write_guidelines", END)
    return builder


def build_refiner_graph(
    model: ModelChoice = None,
    *,
    store: BaseStore | None = None,
    checkpointer: BaseCheckpointSaver[str] | None = None,
    name: str = "refiner",
) -> CompiledStateGraph[RefinerState, RefinerContext, RefinerInput, RefinerState]:
    """Compile the Refiner.

    Args:
        model: the Refiner's model, a name (``"openai:gpt-4o-mini"``) or a chat
            model that can call tools (checked here); ``None`` builds one from
            the context (``refiner_model`` at ``base_url``, or the embedded model).
        store: where guidelines are read and written (required at run time).
        checkpointer: optional, to keep Refiner runs inspectable.
        name: the graph's name in traces.

    The graph runs sync (``invoke``, ``stream``, ``batch``) and async.

    Raises:
        TypeError, ValueError: a model that cannot serve (the message names the fix).

    """
    return build_refiner_builder(model).compile(checkpointer=checkpointer, store=store, name=name)


graph = build_refiner_graph()
