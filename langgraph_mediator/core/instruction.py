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
    """The explicit instruction: the goal, every requirement in force, then what is missing.

    The "Not given yet" part lists the details the Mediator found missing but
    did not ask for (budget spent, or a policy that does not ask), so the
    Assistant states its assumption instead of silently lacking them.
    """
    lines = [f"Task: {intent['goal'].strip()}"]
    if requirements:
        lines.append("Requirements (all of them apply; they are the user's latest word):")
        lines.extend(f"{i}. {r['text'].strip()}" for i, r in enumerate(requirements, 1))
    missing = [m.strip() for m in intent.get("missing_information") or [] if m.strip()]
    if missing:
        lines.append("Not given yet (state what you assume for each, or ask the user):")
        lines.extend(f"- {m}" for m in missing)
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
