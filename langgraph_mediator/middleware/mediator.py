"""``MediatorMiddleware``: the mediator graph's steps inside a ``create_agent`` agent.

* ``before_agent`` (once per run): read the turn the run's user message opens
  (:func:`~langgraph_mediator.core.open_turn`); a run whose input does not end
  with a human message of valid text is refused (``InvalidMessageError``). An
  underspecified turn is answered with the Mediator's question and the run
  ends, a continuation ("wait, there's more") with an acknowledgement;
  otherwise the ledger is updated and the explicit instruction written
  (:func:`~langgraph_mediator.core.instruction_update`).
* ``wrap_model_call`` (every model call of the run): the agent's model gets
  the instruction instead of the raw, fragmentary history, followed by this
  run's own tool calls and results, so tool loops work as before. No system
  message of the thread is sent: the agent's own system prompt is the only one.
* ``after_agent``: the run's answer is kept, verbatim by turn, for later turns to read
  and refer to.

The ledger, intent, reading, instruction and usage live in the agent's state
(:class:`MediatorAgentState`), so they are checkpointed with the thread and
shown in Studio; none of them is run input, which is ``messages`` only.
Guidelines come from the agent's store, under the run's user.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any, NotRequired, cast

from langchain.agents.middleware import (
    AgentMiddleware,
    AgentState,
    ModelRequest,
    ModelResponse,
    hook_config,
)
from langchain.agents.middleware.types import OmitFromInput
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.tools import BaseTool
from langgraph.runtime import Runtime

from langgraph_mediator.core import (
    answer_update,
    aopen_turn,
    assistant_messages,
    check_thread_owner,
    clarification_update,
    continuation_update,
    instruction_update,
    next_step,
    open_turn,
    text_of,
)
from langgraph_mediator.core.messages import assistant_history
from langgraph_mediator.models import (
    ModelChoice,
    achat_model_for,
    chat_model_for,
    checked_model_choice,
)
from langgraph_mediator.state import MediatorContext
from langgraph_mediator.state.mediator import (
    AnswerRecord,
    AskedQuestion,
    Intent,
    LedgerDelta,
    Requirement,
    TaskRecord,
    TurnUsage,
)


class MediatorAgentState(AgentState[Any]):
    """The agent's state with the Mediator's fields (ledger, intent, instruction, usage...).

    Every Mediator field is :data:`OmitFromInput`: a run's input sets ``messages``
    only, as the mediator graph's ``InputState`` does. Left in the input schema,
    a client could write the instruction the model obeys, or the ledger it is
    built from. The fields are :class:`MediatorState`'s (mypy checks the two
    agree wherever this state is passed as that one); output keeps them all.
    """

    user_id: NotRequired[Annotated[str, OmitFromInput]]
    turn: NotRequired[Annotated[int, OmitFromInput]]
    task_number: NotRequired[Annotated[int, OmitFromInput]]
    ledger: NotRequired[Annotated[list[Requirement], OmitFromInput]]
    intent: NotRequired[Annotated[Intent | None, OmitFromInput]]
    reading: NotRequired[Annotated[dict[str, Any] | None, OmitFromInput]]
    ledger_delta: NotRequired[Annotated[LedgerDelta | None, OmitFromInput]]
    mediator_notes: NotRequired[Annotated[list[str], OmitFromInput]]
    should_clarify: NotRequired[Annotated[bool, OmitFromInput]]
    pending_question: NotRequired[Annotated[str | None, OmitFromInput]]
    questions_asked: NotRequired[Annotated[int, OmitFromInput]]
    questions: NotRequired[Annotated[list[AskedQuestion], OmitFromInput]]
    instruction: NotRequired[Annotated[str, OmitFromInput]]
    last_answer: NotRequired[Annotated[str, OmitFromInput]]
    tasks: NotRequired[Annotated[list[TaskRecord], OmitFromInput]]
    answers: NotRequired[Annotated[list[AnswerRecord], OmitFromInput]]
    turn_usage: NotRequired[Annotated[TurnUsage, OmitFromInput]]


def run_messages(messages: list[AnyMessage]) -> list[AnyMessage]:
    """The run's own messages after its user message: the model's tool calls and results."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return messages[index + 1 :]
    return list(messages)


def describe_environment(
    system_prompt: str | None, tools: Sequence[BaseTool | Callable[..., Any] | dict[str, Any]]
) -> str:
    """What an agent already has, for the Mediator: its system prompt and its tools.

    ``tools`` takes every form ``create_agent`` takes: tools, plain functions
    (named by their name, described by their docstring) and tool dicts.
    """
    parts = [f"System prompt: {system_prompt.strip()}"] if system_prompt else []
    if tools:
        listed = "; ".join(f"{name}: {about[:200]}" for name, about in map(tool_summary, tools))
        parts.append(f"Tools it can call: {listed}")
    return "\n".join(parts)


def tool_summary(tool: BaseTool | Callable[..., Any] | dict[str, Any]) -> tuple[str, str]:
    """A tool's name and one-line description, whatever form it was given in.

    Raises:
        TypeError: ``tool`` is not a tool, a function or a tool dict.

    """
    if isinstance(tool, dict):
        spec = tool.get("function", tool)  # OpenAI's {"type": "function", "function": {...}}
        name = spec.get("name") or tool.get("type") or "tool"
        return str(name), str(spec.get("description") or "").strip()
    if isinstance(tool, BaseTool):
        return tool.name, (tool.description or "").strip()
    if callable(tool):  # create_agent makes a tool of it: named so, described by its docstring
        doc = inspect.getdoc(tool) or ""
        return getattr(tool, "__name__", type(tool).__name__), doc.split("\n\n")[0].strip()
    raise TypeError(
        "describe_environment takes the tools create_agent takes (BaseTool, functions, "
        f"tool dicts); got {type(tool).__name__}."
    )


def context_user_id(context: object) -> str | None:
    """The ``user_id`` an agent's own run context carries, if it has one."""
    value = (
        context.get("user_id") if isinstance(context, dict) else getattr(context, "user_id", None)
    )
    return value if isinstance(value, str) and value.strip() else None


class MediatorMiddleware(AgentMiddleware[MediatorAgentState, Any, Any]):
    """Put the Mediator in front of a ``create_agent`` agent's model.

    Every hook has a sync and an async form, so the agent runs under
    ``invoke``/``stream``/``batch`` and ``ainvoke``/``astream``/``abatch``.

    Args:
        mediator_model: the Mediator's model: a name (``"openai:gpt-4o-mini"``,
            ``"ollama:qwen2.5:7b"``) or a chat model; it must call tools, which
            is checked here. ``None`` builds one from ``context``
            (``mediator_model`` at ``base_url``, or the embedded model).
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
        mediator_model: ModelChoice = None,
        *,
        context: MediatorContext | None = None,
        assistant_environment: str = "",
    ) -> None:
        """Check the model and settings; nothing is built or called until a run needs it.

        Raises:
            TypeError: an argument of the wrong kind (the message says which).
            ValueError: a model name is empty or its provider's package is
                missing, or the model cannot call tools.

        """
        super().__init__()
        self.mediator_model = checked_model_choice(mediator_model, role="Mediator", structured=True)
        if context is not None and not isinstance(context, MediatorContext):
            raise TypeError(
                "context must be a MediatorContext (langgraph_mediator.MediatorContext(...)) "
                f"or None; got {type(context).__name__}."
            )
        if not isinstance(assistant_environment, str):
            raise TypeError(
                "assistant_environment must be text; build it with "
                "describe_environment(system_prompt, tools)."
            )
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
    def before_agent(
        self, state: MediatorAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Read the run's user message; ask and end the run, or write the instruction.

        Raises:
            InvalidMessageError: the run's input does not end with a human message
                of valid text (see :func:`~langgraph_mediator.core.open_turn`);
                nothing reaches a model.
            ThreadOwnershipError: the thread is another user's.

        """
        settings = self._turn_settings(state, runtime)

        def model() -> BaseChatModel:
            return chat_model_for(self.mediator_model, settings, settings.mediator_model)

        return self._turn_update(
            state, open_turn(state, model, settings, runtime.store, "before_agent")
        )

    @hook_config(can_jump_to=["end"])
    async def abefore_agent(
        self, state: MediatorAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """:meth:`before_agent`, awaiting the store and the Mediator's model."""
        settings = self._turn_settings(state, runtime)

        async def model() -> BaseChatModel:
            return await achat_model_for(self.mediator_model, settings, settings.mediator_model)

        return self._turn_update(
            state, await aopen_turn(state, model, settings, runtime.store, "before_agent")
        )

    def _turn_settings(self, state: MediatorAgentState, runtime: Runtime[Any]) -> MediatorContext:
        """The run's settings, once its user is the thread's owner.

        Every new run opens a turn: one whose input does not end with a human
        message is refused when the turn opens, not run on the last turn's
        instruction with whatever the client sent after it.
        """
        settings = self.settings(runtime)
        check_thread_owner(dict(state), settings.user_id, None)
        return settings

    @staticmethod
    def _turn_update(state: MediatorAgentState, opened: dict[str, Any]) -> dict[str, Any]:
        """The opened turn, then what :func:`next_step` says: ask, wait, or instruct."""
        turn: Any = {**state, **opened}
        step = next_step(turn)
        if step == "clarify":
            return {**opened, **clarification_update(turn), "jump_to": "end"}
        if step == "wait":
            return {**opened, **continuation_update(turn), "jump_to": "end"}
        return {**opened, **instruction_update(turn)}

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        """Send the model the instruction and this run's tool exchange, not the raw history."""
        return handler(self._instructed(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        """:meth:`wrap_model_call` for async runs."""
        return await handler(self._instructed(request))

    def _instructed(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        """The request with the instruction in place of the history before this run.

        The agent's system prompt travels apart from the messages, so a system
        message among them came from a client: none reaches the model.
        """
        history = assistant_history(request.messages)
        instruction = request.state.get("instruction")
        if not isinstance(instruction, str) or not instruction:
            return request.override(messages=history)
        settings = self.settings(request.runtime)
        tail = run_messages(history)
        sent = assistant_messages(
            instruction, history[: len(history) - len(tail)], settings.assistant_input
        )
        return request.override(messages=[*cast(list[AnyMessage], sent), *tail])

    def after_agent(
        self, state: MediatorAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Keep the run's answer: the next turn is read against it."""
        messages = state.get("messages", [])
        if messages and isinstance(messages[-1], AIMessage) and messages[-1].name != "mediator":
            return answer_update(state, text_of(messages[-1]))
        return None

    async def aafter_agent(
        self, state: MediatorAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """:meth:`after_agent` (no I/O: the same update)."""
        return self.after_agent(state, runtime)
