"""Who is calling a LangGraph Server deployment, and what they may touch.

* :mod:`langgraph_mediator.auth.server`: the ``langgraph_sdk.Auth`` object
  named under ``"auth"`` in ``langgraph.json`` (authentication, owner stamping
  and filtering, the store rule, the run-input checks).
* :mod:`langgraph_mediator.auth.verifiers`: how a bearer token becomes an
  identity (a token file of hashes, or JWTs), chosen by environment.
* :mod:`langgraph_mediator.auth.run_input`: the one door every run's input
  passes before the run exists; :mod:`langgraph_mediator.auth.origins`: the
  pages a browser may call the server from (Studio's).

What the graphs read off the authenticated user, so a run acts as its caller
whatever its context claims, lives a floor lower, in
:mod:`langgraph_mediator.identity`: ``state`` uses it without importing ``auth``.

Importing this package imports none of them; the server loads ``server``.
"""
