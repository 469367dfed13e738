"""The explicit instruction, and what the Assistant is sent.

The instruction restates the goal and every requirement in force, so the
Assistant needs nothing of the fragmentary history to do the task.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.messages import AnyMessage, BaseMessage, HumanMessage

from langgraph_mediator.state.context import AssistantInput
from langgraph_mediator.state.mediator import Intent, Requirement

MATERIAL_HEADER = "Material the user gave (verbatim; use it as given):"
_MATERIAL_MARKER = re.compile(r"^----- (?:end of )?R\d+(?: \(turn \d+\))? -----$")
_SCAFFOLD = (
    "Requirements (all of them apply",
    MATERIAL_HEADER,
    "Not given yet (state what you assume",
    "Give your complete answer to the task",
)


def instruction_content(instruction: str) -> str:
    """The instruction less its own scaffolding (headings, material markers, list numbers).

    What remains is what the Mediator took from the user, for checks that ask
    which facts an instruction states.
    """
    kept = []
    for line in instruction.splitlines():
        if line.startswith(_SCAFFOLD) or _MATERIAL_MARKER.match(line):
            continue
        kept.append(line.removeprefix("Task: "))
    return "\n".join(kept)


def build_instruction(intent: Intent, requirements: list[Requirement]) -> str:
    """The explicit instruction: goal, requirements in force, material, then what is missing.

    Material (blocks of the user's messages the Mediator passed on) is given
    whole, between markers that name its ledger id and turn, never summarised.
    The "Not given yet" part lists the details the Mediator found missing but
    did not ask for (budget spent, a policy that does not ask, details it
    deemed assumable), so the Assistant states its assumption instead of
    silently lacking them.
    """
    lines = [f"Task: {intent['goal'].strip()}"]
    written = [r for r in requirements if r.get("kind") != "material"]
    material = [r for r in requirements if r.get("kind") == "material"]
    if written:
        lines.append("Requirements (all of them apply; they are the user's latest word):")
        lines.extend(f"{i}. {r['text'].strip()}" for i, r in enumerate(written, 1))
    if material:
        lines.append(MATERIAL_HEADER)
        for r in material:
            lines.extend([f"----- {r['id']} (turn {r['turn']}) -----", r["text"],
                          f"----- end of {r['id']} -----"])  # fmt: skip
    missing = [*intent.get("missing_information", []), *intent.get("assumable_details", [])]
    missing = list(dict.fromkeys(m.strip() for m in missing if m.strip()))
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
