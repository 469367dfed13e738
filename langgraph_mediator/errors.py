"""Exceptions the package raises on purpose, each with a message that says what to change."""

from __future__ import annotations


class MediatorError(Exception):
    """Base class of every error raised by langgraph-mediator."""


class InvalidMessageError(MediatorError, ValueError):
    """The user message is empty, whitespace-only or too long; nothing was written."""


class ModelEndpointError(MediatorError, RuntimeError):
    """The model endpoint failed: unreachable, refused the key, or does not know the model.

    The message names the setting to change. The thread keeps the user's
    message; once the endpoint works, ``MediatorSession.finish_turn`` completes
    the cut-off turn, or the next ``send`` redoes it from its start, reading the
    kept message together with the new one. A ``RuntimeError``, so LangGraph
    Server passes its message on to SDK clients instead of "An internal error
    occurred".
    """


class LocalModelError(MediatorError, RuntimeError):
    """The embedded local model server could not be started."""


class ThreadOwnershipError(MediatorError, PermissionError, ValueError):
    """A thread was addressed with a user_id other than the one that created it.

    A ``ValueError`` too, so LangGraph Server shows SDK clients its message.
    """


class UnknownThreadError(MediatorError, LookupError):
    """A thread named for resuming has nothing saved under its id; nothing was written."""


class DatabaseError(MediatorError, ValueError):
    """The database named for threads and guidelines cannot be used; nothing was created.

    The message names the value to change (``--db``, ``MEDIATOR_DB``): an
    unsupported URL scheme, a folder that does not exist, a file that is not
    SQLite, a Postgres server that does not answer, or, when resuming, a
    database that does not exist yet.
    """


class RefinerOutputError(MediatorError, RuntimeError):
    """The Refiner's model gave malformed output twice; nothing was stored."""


class RunContextError(MediatorError, ValueError):
    """A LangGraph Server run's context set a field only the server's environment sets.

    Endpoint, key, model names, timeouts and limits belong to the server;
    nothing was called and nothing was written.
    """


class UserMismatchError(MediatorError, PermissionError, ValueError):
    """A run named a user_id other than its authenticated caller; nothing was written.

    A ``ValueError`` too, so LangGraph Server shows SDK clients its message.
    """


class GuidelineRejectedError(MediatorError, ValueError):
    """The Refiner was about to store a guideline set that fails validation; nothing was written.

    Only a run whose state skipped or was edited past the merge step can hold
    such a set. A ``ValueError`` too, so LangGraph Server shows SDK clients its
    message (which names the refused rules by position and reason, never their text).
    """
