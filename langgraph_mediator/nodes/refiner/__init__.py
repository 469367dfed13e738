"""The refiner graph's four nodes: thin shells over :mod:`langgraph_mediator.core.refiner`.

Each reads the run (its settings, the caller's user id, the store: :mod:`.caller`),
calls the Refiner core and returns the state update.
"""

from langgraph_mediator.nodes.refiner.diagnose import make_diagnose
from langgraph_mediator.nodes.refiner.merge_guidelines import make_merge_guidelines
from langgraph_mediator.nodes.refiner.propose_guidelines import make_propose_guidelines
from langgraph_mediator.nodes.refiner.write_guidelines import awrite_guidelines, write_guidelines

__all__ = [
    "awrite_guidelines",
    "make_diagnose",
    "make_merge_guidelines",
    "make_propose_guidelines",
    "write_guidelines",
]
