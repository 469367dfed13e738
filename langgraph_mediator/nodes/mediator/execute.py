"""execute: the Assistant does the task from the Mediator's explicit instruction.

The executor is pluggable (:mod:`langgraph_mediator.core.assistant`): by
default a ChatOpenAI built from the run's context; an app may pass any chat
model, any Runnable that takes a list of messages, or any compiled LangGraph
graph with a ``messages`` key. It receives the explicit instruction, not the
raw, fragmentary history, unless ``assistant_input="instruction_and_history"``.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from langgraph_mediator.core import (
    Executor,
    add_calls,
    answer_update,
    assistant_messages,
    run_assistant,
    text_of,
)
from langgraph_mediator.models import abuild_chat_model
from langgraph_mediator.nodes.types import MediatorNode
from langgraph_mediator.state import MediatorContext, MediatorState


def make_execute(executor: Executor | None = None) -> MediatorNode:
    """Build the node around ``executor`` (``None``: the context's assistant model)."""

    async def execute(state: MediatorState, runtime: Runtime[MediatorContext]) -> dict[str, Any]:
        """Hand the explicit instruction to the Assistant and record its answer."""
        context = MediatorContext.for_run(runtime)
        assistant = executor or await abuild_chat_model(context, context.assistant_model)
        sent = assistant_messages(state["instruction"], state["messages"], context.assistant_input)
        answer, calls = await run_assistant(assistant, sent, context.base_url)
        usage = add_calls(state.get("turn_usage"), state["turn"], calls)
        return {"messages": [answer], "turn_usage": usage, **answer_update(state, text_of(answer))}

    return execute
