"""The Refiner core: plain functions over plain data, no LangGraph node in it.

* :mod:`.prompts`: what the Refiner is told, step by step (diagnose, propose, merge);
* :mod:`.calls`: its model, and one structured call that fails loudly, its usage recorded;
* :mod:`.diagnosis`: the run's pairs validated, and each pair's misreadings asked for;
* :mod:`.proposal`: rules proposed from the diagnoses, screened against the validator;
* :mod:`.merge`: the candidates folded into the set in force (settled, every id accounted for);
* :mod:`.write`: the checks a set passes, once more, before it is stored.

It sits in :mod:`langgraph_mediator.core` beside the Mediator's modules, as the
Refiner's nodes, graph and state sit beside the Mediator's (``nodes/refiner``,
``graphs/refiner``, ``state/refiner``), and it uses none of them. The refiner
graph's nodes (:mod:`langgraph_mediator.nodes.refiner`) are thin shells over these
functions: they read the run (its user, its store, its settings); nothing here does.
"""

from langgraph_mediator.core.refiner.calls import (
    aask_refiner,
    arefiner_model,
    ask_refiner,
    refiner_model,
)
from langgraph_mediator.core.refiner.diagnosis import adiagnose_pairs, diagnose_pairs, parse_pairs
from langgraph_mediator.core.refiner.merge import amerge_sets, assemble, merge_sets, settle_merge
from langgraph_mediator.core.refiner.proposal import apropose, propose, screen
from langgraph_mediator.core.refiner.write import checked_write, refusal

__all__ = [
    "aask_refiner",
    "adiagnose_pairs",
    "amerge_sets",
    "apropose",
    "arefiner_model",
    "ask_refiner",
    "assemble",
    "checked_write",
    "diagnose_pairs",
    "merge_sets",
    "parse_pairs",
    "propose",
    "refiner_model",
    "refusal",
    "screen",
    "settle_merge",
]
