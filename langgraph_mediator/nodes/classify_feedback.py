"""classify_feedback: correction, confirmation or new information, applied to the ledger.

This node exists because reading a fragmentary correction as a confirmation is
the failure Liu et al. name. A correction supersedes exactly the requirements it
contradicts (the ledger keeps which, and why), a confirmation keeps the ledger
as it is, new information adds. The node then writes the one explicit, fully
specified instruction the Assistant will receive.
"""

from __future__ import annotations

from typing import Any

from langgraph_mediator.state import (
    Intent,
    MediatorReading,
    MediatorState,
    Requirement,
    active_requirements,
    apply_reading,
)


def build_instruction(intent: Intent, requirements: list[Requirement]) -> str:
    """The explicit instruction: the goal, then every requirement in force, numbered."""
    lines = [f"Task: {intent['goal'].strip()}"]
    if requirements:
        lines.append("Requirements (all of them apply; they are the user's latest word):")
        lines.extend(f"{i}. {r['text'].strip()}" for i, r in enumerate(requirements, 1))
    lines.append("Give your complete answer to the task as now specified.")
    return "\n".join(lines)


async def classify_feedback(state: MediatorState) -> dict[str, Any]:
    """Apply the reading's feedback kind to the ledger and rebuild the instruction."""
    reading = MediatorReading.from_state(state["reading"] or {})
    task = state["task_number"]
    ledger, delta = apply_reading(state.get("ledger", []), reading, turn=state["turn"], task=task)
    intent = state["intent"]
    assert intent is not None  # detect_intent always sets it before this node
    return {
        "ledger": ledger,
        "ledger_delta": delta,
        "instruction": build_instruction(intent, active_requirements(ledger, task)),
    }
