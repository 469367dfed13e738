"""detect_intent: read the new user message against what the thread holds.

One structured Mediator call (:func:`langgraph_mediator.core.read_message`) gives
the turn's :class:`~langgraph_mediator.state.MediatorReading`, which
``clarify`` and ``classify_feedback`` share, so the Mediator costs one model
call per turn. Malformed output is retried once, then replaced by a recorded
fallback that passes the message through: a turn never crashes on it.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from langgraph_mediator.core import aopen_turn, check_thread_owner, open_turn
from langgraph_mediator.models import ModelChoice, achat_model_for, chat_model_for
from langgraph_mediator.nodes.types import GraphNode, graph_node
from langgraph_mediator.state import MediatorContext, MediatorState


def make_detect_intent(mediator_model: ModelChoice = None) -> GraphNode:
    """Build the node; ``mediator_model`` overrides the context's ``mediator_model``."""

    def detect_intent(state: MediatorState, runtime: Runtime[MediatorContext]) -> dict[str, Any]:
        """Read the new user message into intent, requirements and feedback kind."""
        context = owned_context(state, runtime)

        def model() -> BaseChatModel:
            return chat_model_for(mediator_model, context, context.mediator_model)

        return open_turn(state, model, context, runtime.store)

    async def adetect_intent(
        state: MediatorState, runtime: Runtime[MediatorContext]
    ) -> dict[str, Any]:
        context = owned_context(state, runtime)

        async def model() -> BaseChatModel:
            return await achat_model_for(mediator_model, context, context.mediator_model)

        return await aopen_turn(state, model, context, runtime.store)

    return graph_node(detect_intent, adetect_intent)


def owned_context(state: MediatorState, runtime: Runtime[MediatorContext]) -> MediatorContext:
    """The run's settings, once the thread is known to be the run's user's."""
    context = MediatorContext.for_run(runtime)
    info = runtime.execution_info
    check_thread_owner(dict(state), context.user_id, info.thread_id if info else None)
    return context
