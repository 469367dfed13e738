"""What a LangGraph Server run may set in its context, and whose run it is.

Through LangGraph Server the run's context comes from a client, not from the
app. A client may tune the fields marked ``per_run`` in the context classes
(sampling, clarification, the user it acts for); the endpoint, key, models,
timeouts and limits belong to the server's environment, and a run that sets
them is refused. The user a run acts for is then bound to its authenticated
caller (:func:`langgraph_mediator.identity.bound_user_id`).

The context classes in :mod:`langgraph_mediator.state.context` call these from
their methods (``for_run``, ``per_run_fields``, ``refuse_server_settings``,
``as_caller``); the fields' ``per_run`` and ``env`` metadata is what is read
here, from any dataclass, so this module never imports the classes back.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from langgraph_mediator.errors import RunContextError
from langgraph_mediator.identity import bound_user_id
from langgraph_mediator.state.environment import default_user_id

if TYPE_CHECKING:
    from _typeshed import DataclassInstance
    from langgraph.runtime import Runtime


def server_info_of(runtime: Runtime[Any]) -> object:
    """The run's ``server_info`` (its authenticated caller), ``None`` outside LangGraph Server."""
    # A Runtime made by hand (tests, embedded callers) may lack the attribute altogether.
    return getattr(runtime, "server_info", None)


def on_server(runtime: Runtime[Any]) -> bool:
    """Whether the run came through LangGraph Server, so its context is a client's."""
    return server_info_of(runtime) is not None


def per_run_fields(settings_class: type[DataclassInstance]) -> list[str]:
    """The fields of ``settings_class`` a LangGraph Server client may set in a run's context."""
    return [f.name for f in fields(settings_class) if f.metadata.get("per_run")]


def refuse_server_settings(settings: DataclassInstance, server: DataclassInstance) -> None:
    """Raise when a server-only field of ``settings`` differs from ``server``'s.

    ``server`` is the same class built from the server's environment alone.

    The message names the fields and their variables, never their values
    (one may be a key).

    Raises:
        RunContextError: a server-only field was set by the run.

    """
    changed = [
        f
        for f in fields(settings)
        if not f.metadata.get("per_run") and getattr(settings, f.name) != getattr(server, f.name)
    ]
    if changed:
        names = ", ".join(f"{f.name} ({f.metadata.get('env')})" for f in changed)
        raise RunContextError(
            f"A run's context may not set {names}: on LangGraph Server the endpoint, "
            "key, models, timeouts and limits come from the server's environment. "
            "Remove them from the run's context; a run may set "
            f"{', '.join(per_run_fields(type(settings)))}."
        )


def caller_user_id(user_id: str, server_info: object) -> str:
    """The user a run acts as: its authenticated caller's identity, else ``user_id``.

    An unset ``user_id`` (the environment's default) becomes the caller's
    identity; another user's is refused.

    Raises:
        UserMismatchError: ``user_id`` names a user other than the caller.

    """
    return bound_user_id(user_id, server_info, unclaimed=default_user_id())
