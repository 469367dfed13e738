"""The nodes of both graphs, one module each, in a folder per graph.

* :mod:`.mediator`: ``detect_intent``, ``clarify``, ``wait_for_more``,
  ``classify_feedback``, ``execute``; thin shells over
  :mod:`langgraph_mediator.core`, which holds the Mediator's prompt and logic;
* :mod:`.refiner`: ``diagnose``, ``propose_guidelines``, ``merge_guidelines``,
  ``write_guidelines``, with the Refiner's prompts beside them.

No node imports another node: what two nodes share lives in the core, or in a
graph folder's non-node modules (the Refiner's ``prompts`` and ``calls``).
"""
