"""An instant chat model, a bare one-node chat graph and the mediator's bare shape: baselines.

:class:`InstantChatModel` answers at once, so what a benchmark times is the
graph, the checkpointer and the serialization, not a model. Its structured
replies are read off the prompt (each user message becomes one requirement),
and it reports token usage (characters / 4) so the usage accounting runs too.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from langgraph_mediator.core.prompts import message_in_prompt
from langgraph_mediator.evals.canned import CannedChatModel
from langgraph_mediator.state import InputState, MediatorState


def _tokens(messages: list[BaseMessage], reply: str) -> UsageMetadata:
    prompt = sum(len(str(m.content)) for m in messages) // 4 + 1
    completion = len(reply) // 4 + 1
    return UsageMetadata(
        input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion
    )


class InstantChatModel(CannedChatModel):
    """Replies at once: a MediatorReading when tools are bound, else a short answer."""

    structured: bool = False
    answer: str = "Done: here is the result."

    @property
    def _llm_type(self) -> str:
        return "instant"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        """Structured output by function calling: remember to answer with a tool call."""
        return self.model_copy(update={"structured": True})

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        if not self.structured:
            return AIMessage(self.answer, usage_metadata=_tokens(messages, self.answer))
        found = message_in_prompt(str(messages[-1].content))
        text = found.strip()[:400] if found is not None else "the task"
        # A compact reading, as the prompt asks: empty lists left out, an unchanged goal empty.
        args = {
            "task_type": "",
            "goal": "",
            "feedback": "new_information",
            "new_requirements": [text],
        }
        call = {"name": "MediatorReading", "args": args, "id": "call-instant", "type": "tool_call"}
        return AIMessage("", tool_calls=[call], usage_metadata=_tokens(messages, str(args)))


def build_bare_graph(
    model: BaseChatModel, checkpointer: BaseCheckpointSaver[str] | None = None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The baseline: one node that sends the whole history to ``model``."""

    async def chat(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("chat", chat)
    builder.add_edge(START, "chat")
    return builder.compile(checkpointer=checkpointer, name="bare")


def build_shape_graph(
    model: BaseChatModel, checkpointer: BaseCheckpointSaver[str] | None = None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The mediator graph's shape with none of its work: LangGraph's own cost of that shape.

    The same state schema and the same three steps of a common turn
    (``detect_intent``, ``classify_feedback``, ``execute``), making the same
    two model calls, but reading, ledger and instruction left out. What the
    mediator graph costs above this is the package's own code.
    """

    async def detect_intent(state: MediatorState) -> dict[str, Any]:
        await model.ainvoke(state["messages"][-1:])
        return {"turn": state.get("turn", 0) + 1}

    async def classify_feedback(state: MediatorState) -> dict[str, Any]:
        return {}

    async def execute(state: MediatorState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"][-1:])]}

    builder = StateGraph(MediatorState, input_schema=InputState)
    builder.add_node("detect_intent", detect_intent)
    builder.add_node("classify_feedback", classify_feedback)
    builder.add_node("execute", execute)
    builder.add_edge(START, "detect_intent")
    builder.add_edge("detect_intent", "classify_feedback")
    builder.add_edge("classify_feedback", "execute")
    return builder.compile(checkpointer=checkpointer, name="mediator-shape")
