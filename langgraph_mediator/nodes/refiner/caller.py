"""What a Refiner node reads of its run: whose guidelines it refines, and the store.

Kept out of the core (:mod:`langgraph_mediator.core.refiner`) since both read the
LangGraph runtime; shared by the nodes that read or write guidelines.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from langgraph_mediator.identity import bound_user_id


def refined_user(state_user_id: str, runtime: Runtime[Any]) -> str:
    """Whose guidelines this run refines: the input's user_id, which must be the caller's.

    Checked by every node that reads or writes guidelines, so a state edited
    between nodes cannot point the run at another user's set.
    """
    return bound_user_id(state_user_id, getattr(runtime, "server_info", None))


def guideline_store(runtime: Runtime[Any]) -> BaseStore:
    """The store the run's guidelines live in (the graph is useless without one)."""
    if runtime.store is None:
        raise RuntimeError("the refiner graph needs a store: compile it with store=...")
    return runtime.store
