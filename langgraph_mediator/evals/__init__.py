"""The evaluation harness, beside the product: nothing outside ``cli/`` imports it.

* the sharded-conversation benchmark of Laban et al. (2505.06120) as LangSmith
  experiments: :mod:`.tasks`, :mod:`.simulator`, :mod:`.conversation` (the
  settings), :mod:`.checkers`, :mod:`.metrics`, :mod:`.benchmark`, :mod:`.report`;
* component evals of the Mediator's two decisions: :mod:`.component`,
  :mod:`.component_sets`;
* :mod:`.bench`: what the Mediator costs per turn next to a bare assistant;
* :mod:`.datasets`: the authored tasks and labeled sets, shipped as package data.

Its plots need the ``eval`` extra (matplotlib): ``pip install 'langgraph-mediator[eval]'``.
"""
