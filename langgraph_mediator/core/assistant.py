"""Handing the instruction to the Assistant, whatever kind of executor it is.

The executor is pluggable: a chat model, any Runnable that takes a list of
messages, or a compiled LangGraph graph with a ``messages`` key (a ReAct agent
with tools, say). :func:`run_assistant` gives each the input shape it expects,
normalises what it returns into one answer, and counts its model calls. It is
never sent a system message: in a thread, one can only have come from a client.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from langgraph.pregel import Pregel

from langgraph_mediator.core.messages import assistant_history, text_of
from langgraph_mediator.models import aguarded_call, call_record, guarded_call, model_label
from langgraph_mediator.state.mediator import ModelCall

Executor = BaseChatModel | Runnable[Any, Any]
"""What can do the task: a chat model, a Runnable, or a compiled graph."""


def answer_and_new_messages(result: Any, sent: int) -> tuple[AIMessage, list[BaseMessage]]:
    """Normalise an executor's result into the final answer and the messages it produced."""
    if isinstance(result, AIMessage):
        return result, [result]
    if isinstance(result, dict) and isinstance(result.get("messages"), list):
        produced: list[BaseMessage] = result["messages"][sent:]
        finals = [m for m in produced if isinstance(m, AIMessage)]
        if not finals:
            raise TypeError("The executor graph returned no AI message.")
        return AIMessage(text_of(finals[-1])), produced
    if isinstance(result, BaseMessage | str):
        text = result if isinstance(result, str) else text_of(result)
        return AIMessage(text), []
    raise TypeError(
        "An executor must return an AIMessage, a string, or a dict with 'messages'; "
        f"got {type(result).__name__}."
    )


def executor_label(executor: Executor) -> str:
    """The name usage records give the executor: its model, or its type."""
    return model_label(executor) if isinstance(executor, BaseChatModel) else type(executor).__name__


def execution_calls(produced: list[BaseMessage], label: str, seconds: float) -> list[ModelCall]:
    """One usage record per AI message the executor produced (an agent may make several)."""
    replies: list[BaseMessage | None] = [m for m in produced if isinstance(m, AIMessage)]
    replies = replies or [None]
    return [call_record("execute", label, m, seconds / len(replies)) for m in replies]


def run_assistant(
    executor: Executor, messages: list[BaseMessage], base_url: str | None
) -> tuple[AIMessage, list[ModelCall]]:
    """Invoke the executor with the right input shape; its answer and usage records.

    System messages in ``messages`` are dropped (:func:`assistant_history`):
    an Assistant's own system prompt belongs to the executor (a prompt
    template, ``create_agent``'s ``system_prompt``). :func:`arun_assistant`
    is the async form.

    Raises:
        ModelEndpointError: the endpoint behind the executor failed.
        TypeError: the executor returned something that is not an answer.

    """
    messages = assistant_history(messages)
    payload = executor_input(executor, messages)
    result, seconds = guarded_call(lambda: executor.invoke(payload), base_url=base_url)
    answer, produced = answer_and_new_messages(result, len(messages))
    return answer, execution_calls(produced, executor_label(executor), seconds)


async def arun_assistant(
    executor: Executor, messages: list[BaseMessage], base_url: str | None
) -> tuple[AIMessage, list[ModelCall]]:
    """:func:`run_assistant`, awaiting the executor (``ainvoke``)."""
    messages = assistant_history(messages)
    payload = executor_input(executor, messages)
    result, seconds = await aguarded_call(lambda: executor.ainvoke(payload), base_url=base_url)
    answer, produced = answer_and_new_messages(result, len(messages))
    return answer, execution_calls(produced, executor_label(executor), seconds)


def executor_input(executor: Executor, messages: list[BaseMessage]) -> Any:
    """What ``executor`` takes: a graph its ``messages`` key, anything else the list itself."""
    return {"messages": messages} if isinstance(executor, Pregel) else messages
