"""Who is calling a LangGraph Server deployment, and what they may touch.

* :mod:`langgraph_mediator.auth.server`: the ``langgraph_sdk.Auth`` object
  named under ``"auth"`` in ``langgraph.json`` (authentication, owner stamping
  and filtering, the store rule, the run-input checks).
* :mod:`langgraph_mediator.auth.verifiers`: how a bearer token becomes an
  identity (a token file of hashes, or JWTs), chosen by environment.
* :mod:`langgraph_mediator.identity`: what the graphs read off the
  authenticated user, so a run acts as its caller whatever its context claims.

Importing this package imports none of them; the server loads ``server``.
"""
