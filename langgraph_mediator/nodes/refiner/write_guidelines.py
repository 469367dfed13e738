"""write_guidelines: store the merged set as the user's next version.

Skipped (no new version) when the merge changed nothing, so re-running the
Refiner on the same evidence does not pile up identical versions.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from langgraph_mediator.guidelines import save_guidelines
from langgraph_mediator.nodes.refiner.calls import refined_user
from langgraph_mediator.state import RefinerContext
from langgraph_mediator.state.refiner import RefinerState


async def write_guidelines(state: RefinerState, runtime: Runtime[RefinerContext]) -> dict[str, Any]:
    """Save the new set under ("guidelines", user_id) with its provenance."""
    if runtime.store is None:
        raise RuntimeError("the refiner graph needs a store: compile it with store=...")
    user_id = refined_user(state["user_id"], runtime)
    new = state.get("guidelines", [])
    old = state.get("existing", [])
    if [g["text"] for g in new] == [g["text"] for g in old]:
        return {}
    pair_ids = sorted({d["pair_id"] for d in state.get("diagnoses", [])})
    version = await save_guidelines(
        runtime.store, user_id, new, source="refine: " + ", ".join(pair_ids)
    )
    return {"version": version["version"]}
