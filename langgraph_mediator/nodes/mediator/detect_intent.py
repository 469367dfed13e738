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

from langgraph_mediator.core import check_thread_owner, open_turn
from langgraph_mediator.models import abuild_chat_model
from langgraph_mediator.nodes.types import MediatorNode
from langgraph_mediator.state import MediatorContext, MediatorState


def make_detect_intent(mediator_model: BaseChatModel | None = None) -> MediatorNode:
    """Build the node; ``mediator_model`` overrides the context's ChatOpenAI (tests, apps)."""

    async def detect_intent(
        state: MediatorState, runtime: Runtime[MediatorContext]
    ) -> dict[str, Any]:
        """Read the new user message into intent, requirements and feedback kind."""
        context = MediatorContext.for_run(runtime)
        info = runtime.execution_info
        check_thread_owner(dict(state), context.user_id, info.thread_id if info else None)

        async def model() -> BaseChatModel:
            return mediator_model or await abuild_chat_model(context, context.mediator_model)

        return await open_turn(state, model, context, runtime.store)

    return detect_intent
