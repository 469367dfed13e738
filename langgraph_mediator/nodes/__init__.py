"""The nodes of both graphs, one module each, in a folder per graph.

* :mod:`.mediator`: ``detect_intent``, ``clarify``, ``wait_for_more``,
  ``classify_feedback``, ``execute``; thin shells over
  :mod:`langgraph_mediator.core`, which holds the Mediator's prompt and logic;
* :mod:`.refiner`: ``diagnose``, ``propose_guidelines``, ``merge_guidelines``,
  ``write_guidelines``; thin shells over :mod:`langgraph_mediator.core.refiner`, the
  Refiner's core, which holds its prompts, model calls and logic (the checks
  a set passes before it is stored among them).

No node imports another node: what two nodes share lives in a core, or in a
graph folder's non-node modules (the Refiner's ``caller``, which reads the run's
user and store from the LangGraph runtime, something no core does).
"""
