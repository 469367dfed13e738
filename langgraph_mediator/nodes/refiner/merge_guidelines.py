"""merge_guidelines: fold the new candidates into the user's existing set.

A thin shell over :mod:`langgraph_mediator.core.refiner.merge`: it reads the
caller's set in force from the store and hands it, with the run's candidates,
to the core, which dedups, resolves conflicts, caps the count and validates
every merged rule again. No model call when either side is empty: the union is the merge.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from langgraph_mediator.core.refiner import amerge_sets, arefiner_model, merge_sets, refiner_model
from langgraph_mediator.guidelines import acurrent_version, current_version
from langgraph_mediator.models import ModelChoice
from langgraph_mediator.nodes.refiner.caller import guideline_store, refined_user
from langgraph_mediator.nodes.types import GraphNode, graph_node
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import RefinerState


def make_merge_guidelines(model: ModelChoice = None) -> GraphNode:
    """Build the node; ``model`` overrides the context's Refiner model."""

    def merge_guidelines(state: RefinerState, runtime: Runtime[RefinerContext]) -> dict[str, Any]:
        """Merge candidates into the current set."""
        context, store, user = merge_start(state, runtime)

        def chat() -> BaseChatModel:
            return refiner_model(model, context)

        return merge_sets(state, current_version(store, user), chat, context)

    async def amerge_guidelines(
        state: RefinerState, runtime: Runtime[RefinerContext]
    ) -> dict[str, Any]:
        context, store, user = merge_start(state, runtime)

        async def chat() -> BaseChatModel:
            return await arefiner_model(model, context)

        return await amerge_sets(state, await acurrent_version(store, user), chat, context)

    return graph_node(merge_guidelines, amerge_guidelines)


def merge_start(
    state: RefinerState, runtime: Runtime[RefinerContext]
) -> tuple[RefinerContext, BaseStore, str]:
    """The run's settings, its store, and whose guidelines it merges (the caller's)."""
    store = guideline_store(runtime)
    user = refined_user(state["user_id"], runtime)
    return RefinerContext.for_run(runtime), store, user
