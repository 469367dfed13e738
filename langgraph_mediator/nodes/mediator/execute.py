"""execute: the Assistant does the task from the Mediator's explicit instruction.

The executor is pluggable (:mod:`langgraph_mediator.core.assistant`): by
default a ChatOpenAI built from the run's context; an app may pass a model
name, any chat model, any Runnable that takes a list of messages, or any
compiled LangGraph graph with a ``messages`` key. It receives the explicit
instruction, not the raw, fragmentary history, unless
``assistant_input="instruction_and_history"``.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langgraph.runtime import Runtime

from langgraph_mediator.core import (
    Executor,
    add_calls,
    answer_update,
    arun_assistant,
    assistant_messages,
    run_assistant,
    text_of,
)
from langgraph_mediator.models import achat_model_for, chat_model_for
from langgraph_mediator.nodes.types import GraphNode, graph_node
from langgraph_mediator.state import MediatorContext, MediatorState, ModelCall


def make_execute(executor: Executor | str | None = None) -> GraphNode:
    """Build the node around ``executor`` (a name or ``None``: a chat model built per run)."""

    def execute(state: MediatorState, runtime: Runtime[MediatorContext]) -> dict[str, Any]:
        """Hand the explicit instruction to the Assistant and record its answer."""
        context = MediatorContext.for_run(runtime)
        assistant = _given(executor) or chat_model_for(
            _name(executor), context, context.assistant_model
        )
        answer, calls = run_assistant(assistant, sent_messages(state, context), context.base_url)
        return answered(state, answer, calls)

    async def aexecute(state: MediatorState, runtime: Runtime[MediatorContext]) -> dict[str, Any]:
        context = MediatorContext.for_run(runtime)
        assistant = _given(executor) or await achat_model_for(
            _name(executor), context, context.assistant_model
        )
        sent = sent_messages(state, context)
        answer, calls = await arun_assistant(assistant, sent, context.base_url)
        return answered(state, answer, calls)

    return graph_node(execute, aexecute)


def _given(executor: Executor | str | None) -> Executor | None:
    return None if executor is None or isinstance(executor, str) else executor


def _name(executor: Executor | str | None) -> str | None:
    return executor if isinstance(executor, str) else None


def sent_messages(state: MediatorState, context: MediatorContext) -> list[BaseMessage]:
    """What the Assistant is sent: the instruction (and the history, if so configured)."""
    return assistant_messages(state["instruction"], state["messages"], context.assistant_input)


def answered(state: MediatorState, answer: AIMessage, calls: list[ModelCall]) -> dict[str, Any]:
    """The turn's update once the Assistant answered: its message, usage and answer record."""
    usage = add_calls(state.get("turn_usage"), state["turn"], calls)
    return {"messages": [answer], "turn_usage": usage, **answer_update(state, text_of(answer))}
