"""The explicit instruction, and what the Assistant is sent.

The instruction restates the goal and every requirement in force, so the
Assistant needs nothing of the fragmentary history to do the task.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AnyMessage, BaseMessage, HumanMessage

from langgraph_mediator.state.context import AssistantInput
from langgraph_mediator.state.mediator import Intent, Requirement


def build_instruction(intent: Intent, requirements: list[Requirement]) -> str:
    """The explicit instruction: the goal, then every requirement in force, numbered."""
    lines = [f"Task: {intent['goal'].strip()}"]
    if requirements:
        lines.append("Requirements (all of them apply; they are the user's latest word):")
        lines.extend(f"{i}. {r['text'].strip()}" for i, r in enumerate(requirements, 1))
    lines.append("Give your complete answer to the task as now specified.")
    return "\n".join(lines)


def assistant_messages(
    instruction: str, history: Sequence[AnyMessage], assistant_input: AssistantInput
) -> list[BaseMessage]:
    """What the Assistant sees: the instruction, after the history when so configured."""
    message = HumanMessage(instruction)
    if assistant_input == "instruction":
        return [message]
    earlier: list[AnyMessage] = list(history)
    while earlier and isinstance(earlier[-1], HumanMessage):
        earlier.pop()  # the turn's raw message is what the instruction restates
    return [*earlier, message]
