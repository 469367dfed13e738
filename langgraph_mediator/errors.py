"""Exceptions the package raises on purpose, each with a message that says what to change."""

from __future__ import annotations


class MediatorError(Exception):
    """Base class of every error raised by langgraph-mediator."""


class InvalidMessageError(MediatorError, ValueError):
    """The user message is empty, whitespace-only or too long; nothing was written."""


class ModelEndpointError(MediatorError):
    """The model endpoint failed: unreachable, refused the key, or does not know the model.

    The message names the setting to change. The thread keeps the user's
    message; once the endpoint works, ``MediatorSession.finish_turn`` completes
    the cut-off turn, or the next ``send`` redoes it from its start, reading the
    kept message together with the new one.
    """


class LocalModelError(MediatorError):
    """The embedded local model server could not be started."""


class ThreadOwnershipError(MediatorError, PermissionError):
    """A thread was addressed with a user_id other than the one that created it."""


class UnknownThreadError(MediatorError, LookupError):
    """A thread named for resuming has nothing saved under its id; nothing was written."""


class RefinerOutputError(MediatorError):
    """The Refiner's model gave malformed output twice; nothing was stored."""
