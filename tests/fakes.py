"""Scripted chat models for unit tests (and the resume worker's subprocesses).

A :class:`ScriptedChatModel` replays the replies it is given, one per call, and
records every prompt it saw. Its ``bind_tools`` returns itself, so
``with_structured_output(method="function_calling")`` parses whatever tool call
the script holds: scripting a reply scripts the structured output.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import openai
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata

UNUSED_ENDPOINT = "http://unused.invalid/v1"
"""A base_url that keeps MediatorContext from starting the embedded server."""


class ScriptedChatModel(GenericFakeChatModel):
    """Replays scripted replies in order and records each prompt in ``seen``."""

    seen: list[list[BaseMessage]] = []

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


class FlakyModel(ScriptedChatModel):
    """Fails as an unreachable endpoint while ``down`` is set, else replays its script."""

    down: bool = True

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise openai.APIConnectionError(request=httpx.Request("POST", UNUSED_ENDPOINT))
        return super()._generate(messages, *args, **kwargs)


def scripted(*replies: AIMessage | str) -> ScriptedChatModel:
    """A fresh scripted model (its own ``seen`` list) replaying ``replies``."""
    messages: Iterable[AIMessage | str] = iter(replies)
    return ScriptedChatModel(messages=messages, seen=[])


def usage(prompt: int, completion: int) -> UsageMetadata:
    """Token counts as a provider would report them on a reply."""
    return UsageMetadata(
        input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion
    )


def tool_reply(
    name: str, args: dict[str, Any], *, tokens: tuple[int, int] | None = None
) -> AIMessage:
    """A reply that calls tool ``name`` with ``args`` (how structured output arrives)."""
    return AIMessage(
        "",
        tool_calls=[{"name": name, "args": args, "id": f"call-{name}", "type": "tool_call"}],
        usage_metadata=usage(*tokens) if tokens else None,
    )


def reading(
    feedback: str,
    *,
    goal: str = "Convert a temperature.",
    task_type: str = "math",
    new: list[str] | None = None,
    changes: list[dict[str, str]] | None = None,
    missing: list[str] | None = None,
    question: str = "",
    assumable: list[str] | None = None,
    material: list[str] | None = None,
    tokens: tuple[int, int] | None = None,
    standing: list[str] | None = None,
    answers: list[str] | None = None,
    earlier_task: str = "",
) -> AIMessage:
    """A scripted MediatorReading tool call (the v3 fields only when given)."""
    args: dict[str, Any] = {
        "task_type": task_type, "goal": goal, "feedback": feedback,
        "new_requirements": new or [], "changes": changes or [],
        "missing_information": missing or [], "clarifying_question": question,
        "assumable_details": assumable or [], "material": material or [],
    }  # fmt: skip
    v3 = {"standing": standing, "answers": answers, "earlier_task": earlier_task}
    args |= {name: value for name, value in v3.items() if value}
    return tool_reply("MediatorReading", args, tokens=tokens)


def supersede(requirement_id: str, replacement: str, reason: str = "") -> dict[str, str]:
    """One change of a correction reading."""
    return {"requirement_id": requirement_id, "action": "supersede",
            "replacement": replacement, "reason": reason}  # fmt: skip


RESUME_SCRIPT: dict[int, tuple[str, dict[str, Any]]] = {
    1: ("Write a function that converts temperatures.",
        {"task_type": "code", "goal": "Convert temperatures.", "feedback": "new_task",
         "new_requirements": ["The function converts temperatures."]}),
    2: ("Input is in Fahrenheit.",
        {"task_type": "code", "goal": "Convert temperatures.", "feedback": "new_information",
         "new_requirements": ["The input is in Fahrenheit."]}),
    3: ("no, Kelvin",
        {"task_type": "code", "goal": "Convert temperatures.", "feedback": "correction",
         "changes": [{"requirement_id": "R2", "action": "supersede",
                      "replacement": "The input is in Kelvin.", "reason": "user said Kelvin"}]}),
}  # fmt: skip
"""Turn -> (user text, Mediator reading): a code task whose turn 3 corrects turn 2.

The subprocess workers that prove a thread resumes in a new process play it.
"""


class ChatThread:
    """One conversation through the mediator graph: a scripted Mediator and Assistant."""

    def __init__(
        self, mediator: ScriptedChatModel, assistant: ScriptedChatModel | None = None,
        **context: Any,
    ) -> None:  # fmt: skip
        from langgraph.checkpoint.memory import InMemorySaver

        from langgraph_mediator import MediatorContext, build_mediator_graph

        self.mediator = mediator
        self.assistant = assistant or scripted(*["an answer"] * 10)
        self.graph = build_mediator_graph(
            self.assistant, mediator_model=mediator, checkpointer=InMemorySaver()
        )
        self.context = MediatorContext(base_url=UNUSED_ENDPOINT, **context)
        self.config: Any = {"configurable": {"thread_id": "t"}}

    async def say(self, text: str) -> dict[str, Any]:
        """Send one user message; the thread's state after the turn."""
        from langchain_core.messages import HumanMessage

        return await self.graph.ainvoke(  # type: ignore[no-any-return]
            {"messages": [HumanMessage(text)]}, self.config, context=self.context
        )

    def prompt(self, call: int = -1) -> str:
        """The turn the Mediator read in its ``call``-th call (default: the last)."""
        return str(self.mediator.seen[call][1].content)
