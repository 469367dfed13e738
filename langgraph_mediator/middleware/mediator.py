"""``MediatorMiddleware``: the mediator graph's steps inside a ``create_agent`` agent.

* ``before_agent`` (once per run): when the run starts with a new user
  message, read the turn (:func:`~langgraph_mediator.core.open_turn`); an
  underspecified turn is answered with the Mediator's question and the run
  ends, a continuation ("wait, there's more") with an acknowledgement;
  otherwise the ledger is updated and the explicit instruction written
  (:func:`~langgraph_mediator.core.instruction_update`).
* ``wrap_model_call`` (every model call of the run): the agent's model gets
  the instruction instead of the raw, fragmentary history, followed by this
  run's own tool calls and results, so tool loops work as before.
* ``after_agent``: the run's answer is kept, verbatim by turn, for later turns to read
  and refer to.

The ledger, intent, reading, instruction and usage live in the agent's state
(:class:`MediatorAgentState`), so they are checkpointed with the thread and
shown in Studio. Guidelines come from the agent's store, under the run's user.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, cast

from langchain.agents.middleware import (
    AgentMiddleware,
    AgentState,
    ModelRequest,
    ModelResponse,
    hook_config,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.tools import BaseTool
from langgraph.runtime import Runtime

from langgraph_mediator.core import (
    answer_update,
    assistant_messages,
    check_thread_owner,
    clarification_update,
    continuation_update,
    instruction_update,
    next_step,
    open_turn,
    text_of,
)
from langgraph_mediator.models import abuild_chat_model
from langgraph_mediator.state import MediatorContext, MediatorState


class MediatorAgentState(AgentState[Any], MediatorState):
    """The agent's state with the Mediator's fields (ledger, intent, instruction, usage...)."""


def run_messages(messages: list[AnyMessage]) -> list[AnyMessage]:
    """The run's own messages after its user message: the model's tool calls and results."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return messages[index + 1 :]
    return list(messages)


def describe_environment(system_prompt: str | None, tools: Sequence[BaseTool]) -> str:
    """What an agent already has, for the Mediator: its system prompt and its tools."""
    parts = [f"System prompt: {system_prompt.strip()}"] if system_prompt else []
    if tools:
        listed = "; ".join(f"{t.name}: {t.description.strip()[:200]}" for t in tools)
        parts.append(f"Tools it can call: {listed}")
    return "\n".join(parts)


def context_user_id(context: object) -> str | None:
    """The ``user_id`` an agent's own run context carries, if it has one."""
    value = (
        context.get("user_id") if isinstance(context, dict) else getattr(context, "user_id", None)
    )
    return value if isinstance(value, str) and value.strip() else None


class MediatorMiddleware(AgentMiddleware[MediatorAgentState, Any, Any]):
    """Put the Mediator in front of a ``create_agent`` agent's model.

    Args:
        mediator_model: the Mediator's chat model (tool calling); ``None``
            builds one from ``context`` (``mediator_model`` at ``base_url``, or
            the embedded model).
        context: the Mediator's settings (policy, budget, endpoint...);
            ``None`` reads them from the environment. The run's user is the
            agent context's ``user_id`` when it has one, else
            ``context.user_id``; behind LangGraph Server's auth, the caller.
        assistant_environment: what the agent already has, so the Mediator
            does not ask the user for it; :func:`describe_environment` builds
            it from the agent's system prompt and tools. Used when the
            settings carry none of their own.

    """

    state_schema = MediatorAgentState

    def __init__(
        self,
        mediator_model: BaseChatModel | None = None,
        *,
        context: MediatorContext | None = None,
        assistant_environment: str = "",
    ) -> None:
        """Keep the model and settings; nothing is built until a run needs it."""
        super().__init__()
        self.mediator_model = mediator_model
        self.context = context
        self.assistant_environment = assistant_environment
        self.tools = []

    def settings(self, runtime: Runtime[Any]) -> MediatorContext:
        """The Mediator's settings for this run, as the run's (authenticated) user.

        An agent whose context schema is :class:`MediatorContext` gets that
        context, checked as the mediator graph checks it; otherwise the
        middleware's own settings, with the agent context's ``user_id``.
        """
        if isinstance(runtime.context, MediatorContext):
            settings = MediatorContext.for_run(runtime)
        else:
            settings = self.context or MediatorContext()
            claimed = context_user_id(runtime.context)
            if claimed is not None and claimed != settings.user_id:
                settings = replace(settings, user_id=claimed)
            settings = settings.as_caller(getattr(runtime, "server_info", None))
        if self.assistant_environment and not settings.assistant_environment:
            settings = replace(settings, assistant_environment=self.assistant_environment)
        return settings

    @hook_config(can_jump_to=["end"])
    async def abefore_agent(
        self, state: MediatorAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Read a new user message; ask and end the run, or write the instruction."""
        messages = state.get("messages", [])
        if not messages or not isinstance(messages[-1], HumanMessage):
            return None  # no new user message: nothing for the Mediator to read
        settings = self.settings(runtime)
        check_thread_owner(dict(state), settings.user_id, None)

        async def model() -> BaseChatModel:
            return self.mediator_model or await abuild_chat_model(settings, settings.mediator_model)

        opened = await open_turn(state, model, settings, runtime.store)
        turn: Any = {**state, **opened}
        step = next_step(turn)
        if step == "clarify":
            return {**opened, **clarification_update(turn), "jump_to": "end"}
        if step == "wait":
            return {**opened, **continuation_update(turn), "jump_to": "end"}
        return {**opened, **instruction_update(turn)}

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        """Send the model the instruction and this run's tool exchange, not the raw history."""
        instruction = request.state.get("instruction")
        if not isinstance(instruction, str) or not instruction:
            return await handler(request)
        settings = self.settings(request.runtime)
        history = request.messages
        tail = run_messages(history)
        sent = assistant_messages(
            instruction, history[: len(history) - len(tail)], settings.assistant_input
        )
        return await handler(request.override(messages=[*cast(list[AnyMessage], sent), *tail]))

    async def aafter_agent(
        self, state: MediatorAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Keep the run's answer: the next turn is read against it."""
        messages = state.get("messages", [])
        if messages and isinstance(messages[-1], AIMessage) and messages[-1].name != "mediator":
            return answer_update(state, text_of(messages[-1]))
        return None
