"""wait_for_more: the user said more is coming, so the Assistant is not asked yet.

A continuation ("wait, there's more", or the "ok" of a user whose guidelines
say it means "go on") changes nothing in the ledger; answering it would be the
premature attempt Laban et al. measure. The Mediator acknowledges and ends
the turn; the next message is read against the same ledger.
"""

from __future__ import annotations

from typing import Any

from langgraph_mediator.core import continuation_update
from langgraph_mediator.state import MediatorState


def wait_for_more(state: MediatorState) -> dict[str, Any]:
    """Keep the ledger as it is and reply with an acknowledgement."""
    return continuation_update(state)
