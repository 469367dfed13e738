"""Custom auth for LangGraph Server: ``"auth": {"path": "langgraph_mediator.auth.server:auth"}``.

* **Authentication**: a bearer token (``Authorization: Bearer <token>``)
  checked by the verifier the environment names
  (:func:`~langgraph_mediator.auth.verifiers.verifier_from_env`); no or a bad
  token gets 401.
* **Ownership**: threads, runs, assistants and crons are stamped
  ``metadata.owner = <identity>`` when made or changed, and every read, search,
  run and delete is filtered by it, so one user never sees another's. The
  graphs' own assistants (``created_by: system``) are readable by all.
* **The Store**: a caller reaches only ``("guidelines", <identity>, ...)``.
  Nobody writes guidelines through the Store API: the refiner graph writes
  them, as its caller, after its validator.
* **Run input**: one door for every graph
  (:mod:`~langgraph_mediator.auth.run_input`): before a run exists, its
  messages (human only), resume answer and input keys are checked (422, nothing
  written), a command may only resume and a thread's state is never written by
  a client (403), its context may not set the server's endpoint, key, models or
  limits (422), and its ``user_id`` may not name another user (403). Crons are
  checked as the runs they will start.
* **Browsers**: only Studio's pages may call the server at all
  (:mod:`~langgraph_mediator.auth.origins`, the custom app in ``langgraph.json``).
* **Operators and Studio**: ``MEDIATOR_AUTH=none`` makes every caller an
  operator who may act for any user. Studio requests (``x-auth-scheme:
  langsmith``) skip :func:`authenticate`; the server verifies them against
  LangSmith only when ``LANGGRAPH_AUTH_TYPE=langsmith`` (a deployment), while
  ``langgraph dev`` lets them through unverified. So Studio users get full
  access when the server verified them, or when ``MEDIATOR_AUTH_TRUST_STUDIO=true``
  says the server is only yours; otherwise 403. ``"disable_studio_auth": true``
  in ``langgraph.json`` sends Studio through :func:`authenticate` like any client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields
from functools import cache
from typing import Any

from langgraph_sdk import Auth

from langgraph_mediator.auth.origins import studio_verified_by_langsmith
from langgraph_mediator.auth.run_input import (
    ForbiddenRunInput,
    check_run_request,
    is_state_write,
    run_argument_sets,
)
from langgraph_mediator.auth.verifiers import (
    AuthNotConfigured,
    InvalidToken,
    OpenVerifier,
    TokenVerifier,
    verifier_from_env,
)
from langgraph_mediator.errors import InvalidMessageError, RunContextError
from langgraph_mediator.guidelines.store import guidelines_namespace
from langgraph_mediator.identity import ANY_USER_PERMISSION, is_studio_user
from langgraph_mediator.state.context import MediatorContext, ModelSettings, RefinerContext

USER_PERMISSION = "mediator:self"
OWNER = "owner"
SYSTEM_ASSISTANTS = {"created_by": "system"}

auth = Auth()


@cache
def server_verifier() -> TokenVerifier:
    """The verifier of this server process (its environment does not change)."""
    return verifier_from_env()


def _refuse(status: int, detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=status, detail=detail)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; 401 without one."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse(401, "Send 'Authorization: Bearer <token>' (see docs/deployment.md, Auth).")
    return token.strip()


def authorization_of(headers: Mapping[Any, Any] | None) -> str | None:
    """The ``Authorization`` header's value from a request's headers, or None.

    langgraph-api passes the ASGI headers (bytes keys, lower-case); Aegra a
    dict of ``str``. Both are read here.
    """
    for key, value in (headers or {}).items():
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if name.lower() == "authorization":
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


@auth.authenticate
async def authenticate(headers: Mapping[Any, Any] | None) -> Auth.types.MinimalUserDict:
    """The caller's identity and permissions, from its bearer token.

    It takes ``headers`` and nothing else: langgraph-api injects handler
    arguments by name, while Aegra calls the handler with the headers as its
    only positional argument (an ``authorization`` parameter would receive
    the whole mapping there).
    """
    authorization = authorization_of(headers)
    verifier = server_verifier()
    if isinstance(verifier, OpenVerifier):
        return {"identity": verifier.identity, "permissions": [ANY_USER_PERMISSION]}
    try:
        identity = verifier.verify(bearer_token(authorization))
    except InvalidToken as exc:
        raise _refuse(401, str(exc)) from exc
    except AuthNotConfigured as exc:
        raise _refuse(401, str(exc)) from exc
    return {"identity": identity, "permissions": [USER_PERMISSION]}


def studio_trusted() -> bool:
    """Whether Studio users were verified by the server, or the operator vouches for them."""
    return (
        studio_verified_by_langsmith()
        or os.environ.get("MEDIATOR_AUTH_TRUST_STUDIO", "").lower() == "true"
        or isinstance(server_verifier(), OpenVerifier)
    )


def owner_of(ctx: Auth.types.AuthContext) -> str | None:
    """The owner tag a caller stamps and is filtered by; ``None`` for who sees everything."""
    user = ctx.user
    if is_studio_user(user):
        if not studio_trusted():
            raise _refuse(
                403,
                "Studio requests are not verified by this server (langgraph dev): set "
                "MEDIATOR_AUTH_TRUST_STUDIO=true on a server only you can reach, or "
                "'disable_studio_auth': true to authenticate Studio like any client.",
            )
        return None
    if ANY_USER_PERMISSION in (ctx.permissions or ()):
        return None
    return str(user.identity)


def stamp_owner(value: Any, owner: str) -> None:
    """Set ``metadata.owner`` on a create or update (a client cannot reassign it)."""
    if not isinstance(value, dict):
        return
    metadata = value.get("metadata")
    if not isinstance(metadata, dict):
        metadata = value["metadata"] = {}
    # In place: the server keeps its own reference to the dict it handed over.
    metadata.pop("created_by", None)
    metadata[OWNER] = owner


def owned(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """Stamp ``value`` and return the owner filter (nothing for operators and Studio)."""
    return owned_by(owner_of(ctx), value)


def owned_by(owner: str | None, value: Any) -> Auth.types.FilterType | None:
    """:func:`owned` for a caller whose owner tag is already known."""
    if owner is None:
        return None
    stamp_owner(value, owner)
    return {OWNER: owner}


@auth.on
async def deny_what_is_not_listed(ctx: Auth.types.AuthContext, value: Any) -> bool:
    """Any resource or action without a handler below is refused."""
    if owner_of(ctx) is None:
        return True
    raise _refuse(403, f"{ctx.resource}.{ctx.action} is not allowed on this server")


@auth.on.threads
async def own_threads(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """Threads: stamped with their owner, and each read, search or delete filtered by it.

    Only the graphs write a thread's state: a caller who is not an operator may not
    (a state write ``as_node`` a Refiner node would skip its validator).
    """
    owner = owner_of(ctx)
    writes = ctx.action in ("create", "update") and isinstance(value, Mapping)
    if owner is not None and writes and is_state_write(value):
        raise _refuse(
            403,
            "A thread's state is written by its graph: send a run with new messages, or "
            "resume with an answer.",
        )
    return owned_by(owner, value)


@auth.on.crons
async def own_crons(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """Crons: as threads; the run a cron will start is checked as any run is."""
    owner = owner_of(ctx)
    if ctx.action in ("create", "update") and isinstance(value, Mapping):
        check_run(value, owner)
    return owned_by(owner, value)


@auth.on.assistants
async def own_assistants(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """Creating, changing or deleting an assistant: only one's own."""
    return owned(ctx, value)


def readable_assistants(ctx: Auth.types.AuthContext) -> Any:
    """One's own assistants and the graphs' own (``created_by: system``)."""
    owner = owner_of(ctx)
    return None if owner is None else {"$or": [{OWNER: owner}, SYSTEM_ASSISTANTS]}


@auth.on.assistants.read
async def read_assistants(ctx: Auth.types.AuthContext, value: Any) -> Any:
    """Reading an assistant: one's own, or one of the graphs' own."""
    return readable_assistants(ctx)


@auth.on.assistants.search
async def search_assistants(ctx: Auth.types.AuthContext, value: Any) -> Any:
    """Searching assistants: as reading."""
    return readable_assistants(ctx)


@auth.on.threads.create_run
async def checked_run(ctx: Auth.types.AuthContext, value: Any) -> Auth.types.FilterType | None:
    """A new run: its input checked before the run exists, then owned like its thread."""
    owner = owner_of(ctx)
    check_run(value, owner)
    return owned_by(owner, value)


def check_run(value: Mapping[str, Any], owner: str | None) -> None:
    """Refuse a run (or a cron's run) whose input, command, context or user the graphs refuse.

    Raises:
        Auth.exceptions.HTTPException: 422 for a malformed message, answer, input or
            context; 403 for state a client may not set, or another user named.

    """
    try:
        for arguments in run_argument_sets(value):
            check_run_owner(arguments, owner)
        check_run_request(value, operator=owner is None)
    except ForbiddenRunInput as exc:
        raise _refuse(403, str(exc)) from exc
    except (InvalidMessageError, RunContextError, ValueError, TypeError) as exc:
        raise _refuse(422, str(exc)) from exc


def check_run_owner(arguments: Mapping[str, Any], owner: str | None) -> None:
    """A caller's run may not set the server's settings, nor name another user.

    Raises:
        RunContextError: the context sets a server-only field.
        Auth.exceptions.HTTPException: 403, the context or input names another user.

    """
    if owner is None:
        return
    context = arguments.get("context") or {}
    if isinstance(context, Mapping):
        refuse_server_fields(context)
        refuse_other_user(context.get("user_id"), owner)
    run_input = arguments.get("input")
    if isinstance(run_input, Mapping):
        refuse_other_user(run_input.get("user_id"), owner)


def refuse_other_user(claimed: object, owner: str) -> None:
    """403 when a run's context or input names a user other than its caller."""
    if claimed is not None and claimed != owner:
        raise _refuse(403, f"This run names user_id {claimed!r}, but you are {owner!r}.")


def refuse_server_fields(context: Mapping[str, Any]) -> None:
    """A client context may differ from the server's environment only in per-run fields."""
    schemas: tuple[type[ModelSettings], ...] = (MediatorContext, RefinerContext)
    for schema in schemas:
        known = {f.name for f in fields(schema)}
        schema.from_runtime(
            {k: v for k, v in context.items() if k in known}
        ).refuse_server_settings()


NAMESPACE_FIELDS = ("namespace", "namespace_prefix", "prefix")
"""Where a Store request names its namespace: langgraph-api always says ``namespace``;
Aegra passes the request body, whose search says ``namespace_prefix`` and whose
namespace listing says ``prefix``. (Aegra applies no in-place narrowing; its own
``store.scopes`` in ``aegra.json`` keeps a wide search inside the caller's space.)"""


@auth.on.store()
async def own_guidelines_only(ctx: Auth.types.AuthContext, value: Any) -> None:
    """The Store: read or delete one's own ``("guidelines", <identity>, ...)``; never put."""
    if ctx.action == "put":
        raise _refuse(
            403,
            "Guidelines are not written through the Store API: run the refiner graph, "
            "which writes them for its caller after its validator.",
        )
    owner = owner_of(ctx)
    if owner is None:
        return
    own = guidelines_namespace(owner)
    field = next((name for name in NAMESPACE_FIELDS if name in value), "namespace")
    namespace = tuple(value.get(field) or ())
    if namespace[: len(own)] == own:
        return
    if ctx.action in ("search", "list_namespaces") and own[: len(namespace)] == namespace:
        value[field] = own  # a wider prefix is narrowed to the caller's own
        return
    raise _refuse(403, f"Only the namespace {list(own)} is yours.")
