"""The identity a run acts as, read off the user LangGraph Server authenticated.

The server hands each run its authenticated user (``runtime.server_info.user``).
A run by an ordinary user acts as that user, whatever ``user_id`` its context
or input claims; a claim naming someone else is an error, never silently
overridden. Two callers may name any user: an operator (the
:data:`ANY_USER_PERMISSION`, granted by ``MEDIATOR_AUTH=none``) and a Studio
developer the server let through. Embedded runs (no server) and servers
without custom auth have no such user: their ``user_id`` is the app's own.
"""

from __future__ import annotations

from typing import Any

from langgraph_mediator.errors import UserMismatchError

ANY_USER_PERMISSION = "mediator:any-user"
"""The permission of a caller who may act for any user_id (operators, trusted Studio)."""

STUDIO_KIND = "StudioUser"


def _field(user: Any, name: str) -> Any:
    """A field of the server's user object, whether it is an object or a mapping."""
    if hasattr(user, name):
        return getattr(user, name)
    getter = getattr(user, "get", None)
    return getter(name) if callable(getter) else None


def is_studio_user(user: Any) -> bool:
    """Whether ``user`` is a LangGraph Studio developer (LangSmith-authenticated)."""
    from langgraph_sdk.auth.types import StudioUser

    return isinstance(user, StudioUser) or _field(user, "kind") == STUDIO_KIND


def may_act_for_anyone(user: Any) -> bool:
    """Operators and Studio developers may name the user a run acts for."""
    permissions = _field(user, "permissions") or ()
    return is_studio_user(user) or ANY_USER_PERMISSION in permissions


def caller_identity(server_info: Any) -> str | None:
    """The identity a run must act as; ``None`` when the run may name its own user."""
    user = getattr(server_info, "user", None)
    if user is None or may_act_for_anyone(user):
        return None
    identity = _field(user, "identity")
    return str(identity) if identity else None


def bound_user_id(claimed: str, server_info: Any, *, unclaimed: str | None = None) -> str:
    """The user_id a run acts as: its caller's identity, else ``claimed``.

    Args:
        claimed: the user_id the run's context or input names.
        server_info: ``runtime.server_info`` (``None`` outside LangGraph Server).
        unclaimed: the value ``claimed`` has when the caller named nobody (the
            context's default); it is replaced by the identity, not refused.

    Raises:
        UserMismatchError: the run names a user other than its authenticated caller.

    """
    identity = caller_identity(server_info)
    if identity is None or claimed == identity:
        return claimed
    if unclaimed is not None and claimed == unclaimed:
        return identity
    raise UserMismatchError(
        f"This run names user_id {claimed!r} but is authenticated as {identity!r}: "
        "a run acts as its caller. Leave user_id out of the run's context (or input) "
        "or set it to the authenticated identity."
    )
