"""write_guidelines: store the merged set as the user's next version.

Skipped (no new version) when the merge changed nothing, so re-running the
Refiner on the same evidence does not pile up identical versions.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from langgraph_mediator.guidelines import asave_guidelines, save_guidelines
from langgraph_mediator.nodes.refiner.calls import refined_user
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import Guideline, RefinerState


def write_guidelines(state: RefinerState, runtime: Runtime[RefinerContext]) -> dict[str, Any]:
    """Save the new set under ("guidelines", user_id) with its provenance."""
    store, user_id, new = _to_write(state, runtime)
    if new is None:
        return {}
    version = save_guidelines(store, user_id, new, source=_source(state))
    return {"version": version["version"]}


async def awrite_guidelines(
    state: RefinerState, runtime: Runtime[RefinerContext]
) -> dict[str, Any]:
    """:func:`write_guidelines`, awaiting the store."""
    store, user_id, new = _to_write(state, runtime)
    if new is None:
        return {}
    version = await asave_guidelines(store, user_id, new, source=_source(state))
    return {"version": version["version"]}


def _to_write(
    state: RefinerState, runtime: Runtime[RefinerContext]
) -> tuple[BaseStore, str, list[Guideline] | None]:
    """The store, the user, and the set to write (``None``: the merge changed nothing)."""
    if runtime.store is None:
        raise RuntimeError("the refiner graph needs a store: compile it with store=...")
    user_id = refined_user(state["user_id"], runtime)
    new = state.get("guidelines", [])
    old = state.get("existing", [])
    unchanged = [g["text"] for g in new] == [g["text"] for g in old]
    return runtime.store, user_id, None if unchanged else new


def _source(state: RefinerState) -> str:
    pair_ids = sorted({d["pair_id"] for d in state.get("diagnoses", [])})
    return "refine: " + ", ".join(pair_ids)
