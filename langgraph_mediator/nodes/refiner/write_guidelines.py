"""write_guidelines: check the merged set once more, then store it as the user's next version.

A thin shell over :func:`langgraph_mediator.core.refiner.checked_write`, which
re-validates every rule (a run's state can reach this node without the
propose and merge checks) and rebuilds the set from the checked text and
provenance. Skipped (no new version) when the set equals the one in force.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from langgraph_mediator.core.refiner import checked_write
from langgraph_mediator.guidelines import (
    acurrent_version,
    asave_guidelines,
    current_version,
    save_guidelines,
)
from langgraph_mediator.nodes.refiner.caller import guideline_store, refined_user
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import RefinerState


def write_guidelines(state: RefinerState, runtime: Runtime[RefinerContext]) -> dict[str, Any]:
    """Check the new set and save it under ("guidelines", user_id) with its provenance.

    Raises:
        GuidelineRejectedError: a rule, or the set, fails the checks; nothing was written.

    """
    store, user_id = _target(state, runtime)
    new, source = checked_write(state, current_version(store, user_id), user_id)
    if new is None:
        return {}
    version = save_guidelines(store, user_id, new, source=source)
    return {"version": version["version"]}


async def awrite_guidelines(
    state: RefinerState, runtime: Runtime[RefinerContext]
) -> dict[str, Any]:
    """:func:`write_guidelines`, awaiting the store."""
    store, user_id = _target(state, runtime)
    new, source = checked_write(state, await acurrent_version(store, user_id), user_id)
    if new is None:
        return {}
    version = await asave_guidelines(store, user_id, new, source=source)
    return {"version": version["version"]}


def _target(state: RefinerState, runtime: Runtime[RefinerContext]) -> tuple[BaseStore, str]:
    """The store, and whose guidelines the run writes (the caller's)."""
    return guideline_store(runtime), refined_user(state["user_id"], runtime)
