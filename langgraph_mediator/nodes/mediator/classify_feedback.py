"""classify_feedback: correction, confirmation or new information, applied to the ledger.

This node exists because reading a fragmentary correction as a confirmation is
the failure Liu et al. name. A correction supersedes exactly the requirements it
contradicts (the ledger keeps which, and why), a confirmation keeps the ledger
as it is, new information adds. The node then writes the one explicit, fully
specified instruction the Assistant will receive.
"""

from __future__ import annotations

from typing import Any

from langgraph_mediator.core import instruction_update
from langgraph_mediator.state import MediatorState


def classify_feedback(state: MediatorState) -> dict[str, Any]:
    """Apply the reading's feedback kind to the ledger and rebuild the instruction."""
    return instruction_update(state)
