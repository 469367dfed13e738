"""execute: the Assistant does the task from the Mediator's explicit instruction.

The executor is pluggable. By default it is a ChatOpenAI built from the run's
context; an app may pass any chat model, any Runnable that takes a list of
messages, or any compiled LangGraph graph with a ``messages`` key (a ReAct
agent with tools, say). It receives the explicit instruction, not the raw,
fragmentary history, unless ``assistant_input="instruction_and_history"``.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable
from langgraph.pregel import Pregel
from langgraph.runtime import Runtime

from langgraph_mediator.messages import text_of
from langgraph_mediator.models import abuild_chat_model, call_record, guarded_call, model_label
from langgraph_mediator.state import MediatorContext, MediatorState, ModelCall, TurnUsage

Executor = BaseChatModel | Runnable[Any, Any]
"""What can do the task: a chat model, a Runnable, or a compiled graph."""


def assistant_messages(state: MediatorState, context: MediatorContext) -> list[BaseMessage]:
    """What the Assistant sees: the instruction, after the history when so configured."""
    instruction = HumanMessage(state["instruction"])
    if context.assistant_input == "instruction":
        return [instruction]
    history: list[AnyMessage] = list(state["messages"])
    while history and isinstance(history[-1], HumanMessage):
        history.pop()  # the turn's raw message is what the instruction restates
    return [*history, instruction]


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


async def run_executor(
    executor: Executor, messages: list[BaseMessage], base_url: str | None
) -> tuple[AIMessage, list[BaseMessage], float]:
    """Invoke the executor with the right input shape for its kind."""
    payload: Any = {"messages": messages} if isinstance(executor, Pregel) else messages
    result, seconds = await guarded_call(lambda: executor.ainvoke(payload), base_url=base_url)
    answer, produced = answer_and_new_messages(result, len(messages))
    return answer, produced, seconds


def execution_calls(produced: list[BaseMessage], label: str, seconds: float) -> list[ModelCall]:
    """One usage record per AI message the executor produced (an agent may make several)."""
    replies: list[BaseMessage | None] = [m for m in produced if isinstance(m, AIMessage)]
    replies = replies or [None]
    return [call_record("execute", label, m, seconds / len(replies)) for m in replies]


def make_execute(executor: Executor | None = None) -> Any:
    """Build the node around ``executor`` (``None``: the context's assistant model)."""

    async def execute(state: MediatorState, runtime: Runtime[MediatorContext]) -> dict[str, Any]:
        """Hand the explicit instruction to the Assistant and record its answer."""
        context = MediatorContext.from_runtime(runtime.context)
        assistant = executor or await abuild_chat_model(context, context.assistant_model)
        sent = assistant_messages(state, context)
        answer, produced, seconds = await run_executor(assistant, sent, context.base_url)
        label = (
            model_label(assistant)
            if isinstance(assistant, BaseChatModel)
            else type(assistant).__name__
        )
        usage = state.get("turn_usage") or TurnUsage(turn=state["turn"], calls=[], fallback=None)
        usage = {**usage, "calls": [*usage["calls"], *execution_calls(produced, label, seconds)]}
        return {"messages": [answer], "last_answer": text_of(answer), "turn_usage": usage}

    return execute
