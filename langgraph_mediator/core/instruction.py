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
STANDING_HEADER = "For the whole conversation (the user said these once; they apply too):"
ANSWERS_HEADER = (
    "Your earlier answers the user refers to (verbatim, as you gave them; where a "
    "requirement above says otherwise, the requirement holds):"
)
NEEDED_HEADER = (
    "Needed but not given (do not invent values for these: answer in terms of them, "
    "or say what the answer depends on):"
)
ASSUMABLE_HEADER = "Not given yet (state what you assume for each):"
_MARKER = re.compile(r"^----- (?:end of )?([RA])\d+(?: \(turn \d+\))? -----$")
_SCAFFOLD = (
    "Requirements (all of them apply",
    MATERIAL_HEADER,
    STANDING_HEADER,
    ANSWERS_HEADER,
    NEEDED_HEADER,
    ASSUMABLE_HEADER,
    "Give your complete answer to the task",
)


def instruction_content(instruction: str) -> str:
    """What the Mediator took from the user: the instruction less scaffolding and answers.

    Headings, material markers and list markers are the instruction's own;
    the Assistant's earlier answers it carries are the Assistant's words. What
    remains is for checks that ask which of the user's facts it states.
    """
    kept = [
        line.removeprefix("Task: ").removeprefix("- ")
        for line in without_answers(instruction).splitlines()
        if not (_MARKER.match(line) or line.startswith(_SCAFFOLD))
    ]
    return "\n".join(kept)


def without_answers(instruction: str) -> str:
    """The instruction less the Assistant's earlier answers it carries verbatim.

    What is left is what the Mediator wrote and the user gave: where a check
    asks whether the instruction still states something the user withdrew, an
    old answer quoted whole (and overridden by the requirements) is not it.
    """
    kept: list[str] = []
    in_answer = False
    for line in instruction.splitlines():
        marker = _MARKER.match(line)
        if marker and marker.group(1) == "A":
            in_answer = not line.startswith("----- end of")
            continue
        if not in_answer:
            kept.append(line)
    return "\n".join(kept)


def _verbatim(label: str, turn: int, text: str) -> list[str]:
    return [f"----- {label} (turn {turn}) -----", text, f"----- end of {label} -----"]


def build_instruction(intent: Intent, requirements: list[Requirement]) -> str:
    """The explicit instruction: goal, requirements, standing ones, verbatim texts, open details.

    Material is the blocks of the user's messages the Mediator passed on;
    answers are the Assistant's earlier answers the user referred to.
    """
    lines = [f"Task: {intent['goal'].strip()}"]
    by_kind: dict[str, list[Requirement]] = {"requirement": [], "material": [], "answer": []}
    standing = [r for r in requirements if r.get("scope") == "thread"]
    for r in requirements:
        # What the user said for the whole conversation gets its own part, so it reads as
        # holding for every task; standing material is still material.
        if r not in standing or r.get("kind", "requirement") != "requirement":
            by_kind[r.get("kind", "requirement")].append(r)
    if by_kind["requirement"]:
        lines.append("Requirements (all of them apply; they are the user's latest word):")
        lines.extend(f"{i}. {r['text'].strip()}" for i, r in enumerate(by_kind["requirement"], 1))
    if standing_texts := [r for r in standing if r.get("kind", "requirement") == "requirement"]:
        lines.append(STANDING_HEADER)
        lines.extend(f"- {r['text'].strip()}" for r in standing_texts)
    # Material and answers go whole, between markers naming them and their turn: a summary
    # would lose exactly what the user pasted or pointed at.
    if by_kind["material"]:
        lines.append(MATERIAL_HEADER)
        for r in by_kind["material"]:
            lines.extend(_verbatim(r["id"], r["turn"], r["text"]))
    if by_kind["answer"]:
        lines.append(ANSWERS_HEADER)
        for r in by_kind["answer"]:
            turn = r.get("answer_turn", r["turn"])
            lines.extend(_verbatim(f"A{turn}", turn, r["text"]))
    # Last, what the Mediator found missing but did not ask for (budget spent, a policy that
    # does not ask, a question passed over): the Assistant must not fill it in silently.
    lines.extend(_open_details(intent))
    lines.append("Give your complete answer to the task as now specified.")
    return "\n".join(lines)


def _open_details(intent: Intent) -> list[str]:
    """The instruction's last parts: details needed and not given, then assumable ones."""
    needed = list(dict.fromkeys(m.strip() for m in intent.get("missing_information", [])))
    needed = [m for m in needed if m]
    # A detail listed as both is needed: inventing a value is the worse mistake.
    assumable = [
        a
        for a in dict.fromkeys(a.strip() for a in intent.get("assumable_details", []))
        if a and a not in needed
    ]
    lines = [NEEDED_HEADER, *(f"- {m}" for m in needed)] if needed else []
    return lines + ([ASSUMABLE_HEADER, *(f"- {a}" for a in assumable)] if assumable else [])


def assistant_messages(
    instruction: str, history: Sequence[AnyMessage], assistant_input: AssistantInput
) -> list[BaseMessage]:
    """What the Assistant sees: the instruction, after the history when so configured."""
    message = HumanMessage(instruction)
    # The instruction restates everything in force, so it can stand alone.
    if assistant_input == "instruction":
        return [message]
    earlier: list[AnyMessage] = list(history)
    while earlier and isinstance(earlier[-1], HumanMessage):
        earlier.pop()  # the turn's raw message is what the instruction restates
    return [*earlier, message]
