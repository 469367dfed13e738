"""An example ``create_agent`` ReAct agent with the Mediator in front of its model.

Exported to ``langgraph.json`` as ``agent`` through :func:`make_agent`, a graph
factory: LangGraph Server calls it for each run, so the agent's model is built
from the server's environment at run time (``MEDIATOR_ASSISTANT_MODEL`` at
``OPENAI_BASE_URL``, or the embedded model), never at import. Its context is
:class:`~langgraph_mediator.state.MediatorContext`, as the mediator graph's.
Apps call :func:`build_mediated_agent` with their own model and tools.

A run's input is ``messages`` only, ending with the user's human message: the
Mediator's state (instruction, ledger...) is never input (see
:class:`~langgraph_mediator.middleware.MediatorAgentState`), and a run whose
newest message is not a human one is refused before any model is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from langgraph_mediator.middleware import MediatorMiddleware, describe_environment
from langgraph_mediator.models import ModelChoice, abuild_chat_model
from langgraph_mediator.state import MediatorContext

Unit = Literal["C", "F", "K"]
SYSTEM_PROMPT = (
    "You are a careful assistant. Use convert_temperature for any temperature conversion "
    "and state the result with its unit."
)


@tool
def convert_temperature(value: float, from_unit: Unit, to_unit: Unit) -> float:
    """Convert a temperature between Celsius (C), Fahrenheit (F) and Kelvin (K)."""
    celsius = {"C": value, "F": (value - 32) * 5 / 9, "K": value - 273.15}[from_unit]
    return round({"C": celsius, "F": celsius * 9 / 5 + 32, "K": celsius + 273.15}[to_unit], 4)


AgentTool = BaseTool | Callable[..., Any] | dict[str, Any]
"""A tool in any form ``create_agent`` takes: a tool, a plain function, a tool dict."""


def build_mediated_agent(
    model: str | BaseChatModel,
    tools: Sequence[AgentTool] = (convert_temperature,),
    *,
    system_prompt: str | None = SYSTEM_PROMPT,
    mediator_model: ModelChoice = None,
    context: MediatorContext | None = None,
    checkpointer: BaseCheckpointSaver[str] | None = None,
    store: BaseStore | None = None,
    name: str = "agent",
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A ReAct agent over ``tools`` whose model receives the Mediator's instruction.

    The Mediator is told the agent's system prompt and tools, so it never asks
    the user for what the agent can look up or compute.

    Args:
        model: the agent's model, as ``create_agent`` takes it (a name such as
            ``"openai:gpt-4o-mini"``, or a chat model).
        tools: the agent's tools, in any form ``create_agent`` takes.
        system_prompt: the agent's system prompt (the default suits the example tool).
        mediator_model: the Mediator's model (a name or a chat model; ``None``:
            the context's ``mediator_model``).
        context: the Mediator's settings when a run gives none (``None``: the environment).
        checkpointer: where threads are saved.
        store: where the Mediator reads the user's guidelines.
        name: the agent's name in traces.

    """
    environment = describe_environment(system_prompt, tools)
    mediator = MediatorMiddleware(
        mediator_model, context=context, assistant_environment=environment
    )
    return create_agent(
        model,
        list(tools),
        system_prompt=system_prompt,
        middleware=[mediator],
        context_schema=MediatorContext,
        checkpointer=checkpointer,
        store=store,
        name=name,
    )


async def make_agent(config: RunnableConfig) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The ``langgraph.json`` factory: the example agent on the server's model settings."""
    settings = MediatorContext()
    return build_mediated_agent(await abuild_chat_model(settings, settings.assistant_model))
