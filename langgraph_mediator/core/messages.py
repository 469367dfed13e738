"""User-message helpers: validation before anything is written, and the turn's text.

What a client may add to a thread, in any graph of this package, is human messages of
text. :func:`check_client_messages` is that rule for a run's input before the run
exists (LangGraph Server's auth door calls it); inside the graphs, where LangGraph has
already checkpointed the input, :func:`pending_user_text` refuses a turn whose newest
message is not a human one, and :func:`assistant_history` keeps every system message
the thread holds away from the Assistant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    MessageLikeRepresentation,
    SystemMessage,
    convert_to_messages,
)

from langgraph_mediator.errors import InvalidMessageError

MessageT = TypeVar("MessageT", bound=BaseMessage)

HUMAN_MESSAGE_SHAPE = '{"role": "user", "content": "<the text>"}'
"""How a client sends a user message (LangGraph's wire shape); error messages point at it."""

WHY_NOT_ACCEPTED = {
    "system": "the system prompt is the server's, never a client's",
    "ai": "the Assistant's and the Mediator's replies are written by the graph",
    "tool": "tool results come from the agent's own tools",
    "function": "tool results come from the agent's own tools",
    "remove": "a run cannot remove messages from its thread",
}
"""Why a client may not send each kind of message, for the refusal to say."""


def validate_user_message(text: object, *, max_chars: int = 20_000) -> str:
    """Return ``text`` if it can be a turn; raise :class:`InvalidMessageError` otherwise.

    Call it before sending a message to the graph: LangGraph checkpoints the
    input before the first node runs, so a message rejected inside the graph
    would already be in the thread. Bytes must be valid UTF-8.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidMessageError(f"The message is not valid UTF-8 ({exc.reason}).") from exc
    if not isinstance(text, str):
        raise InvalidMessageError(f"The message must be text, got {type(text).__name__}.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: bytes a reader could not decode
        raise InvalidMessageError(
            "The message is not valid UTF-8 (it holds bytes that could not be decoded)."
        ) from exc
    if not text.strip():
        raise InvalidMessageError("The message is empty: type what you need.")
    if len(text) > max_chars:
        raise InvalidMessageError(
            f"The message has {len(text):,} characters; the limit is {max_chars:,} "
            "(MEDIATOR_MAX_MESSAGE_CHARS)."
        )
    return text


def check_client_messages(messages: list[object], *, max_chars: int) -> list[str]:
    """The texts of the messages a client sends as a run's input, once each may be a turn.

    The rule: a client adds human messages of text to a thread, nothing else.
    Each message, a LangGraph wire dict (``{"role"/"type": ..., "content": ...}``),
    a ``(role, text)`` pair, a string or a message object, must be a human
    message whose content is text (a string, or text blocks only) that passes
    :func:`validate_user_message` with ``max_chars``. Pure: call it before the
    run exists, so a refused input writes nothing. No messages give ``[]``.

    Raises:
        InvalidMessageError: a message is not a human message (system, ai, tool,
            remove...), holds anything but text, or its text is empty, too long
            or not valid UTF-8; the message says what to send instead.

    """
    if not isinstance(messages, list):
        raise InvalidMessageError(
            f"A run's messages must be a list of messages, got {type(messages).__name__}: "
            f"send [{HUMAN_MESSAGE_SHAPE}]."
        )
    try:
        converted = convert_to_messages(cast(list[MessageLikeRepresentation], messages))
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise InvalidMessageError(
            f"A run's input holds something that is not a message: send {HUMAN_MESSAGE_SHAPE}."
        ) from exc
    return [
        client_message_text(message, position, max_chars=max_chars)
        for position, message in enumerate(converted, start=1)
    ]


def client_message_text(message: BaseMessage, position: int, *, max_chars: int) -> str:
    """The text of message ``position`` of a run's input, if it is a human message of text.

    Raises:
        InvalidMessageError: as :func:`check_client_messages` says.

    """
    if not isinstance(message, HumanMessage):
        raise InvalidMessageError(
            f"Message {position} of the run's input is {kind_of(message)} message, and a client "
            f"sends only human messages ({not_accepted_because(message)}). "
            f"Send the user's text as {HUMAN_MESSAGE_SHAPE}."
        )
    return validate_user_message(content_text(message.content, position), max_chars=max_chars)


def kind_of(message: BaseMessage) -> str:
    """The message's type with its article, for error messages: "an ai", "a system"."""
    return f"{'an' if message.type[:1] in 'aeiou' else 'a'} {message.type}"


def not_accepted_because(message: BaseMessage) -> str:
    """Why a client may not send ``message``, in a few words."""
    return WHY_NOT_ACCEPTED.get(message.type, "only the user speaks through a run's input")


def content_text(content: str | list[str | dict[str, Any]], position: int) -> str:
    """A client message's text: its string content, or its text blocks joined.

    Any other block (an image, a file, a tool call) is refused: the Mediator
    reads text, and a block it cannot read must not reach the Assistant unread.

    Raises:
        InvalidMessageError: a block that is not text.

    """
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        else:
            raise InvalidMessageError(
                f"Message {position} of the run's input holds a {block.get('type')!r} block; "
                f"a message holds text only. Send the text as {HUMAN_MESSAGE_SHAPE}."
            )
    return "".join(texts)  # as text_of joins them, so the graph reads what was checked


def text_of(message: BaseMessage) -> str:
    """The plain text of a message whose content may be a list of blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content]
    return "".join(parts)


def pending_user_text(messages: Sequence[AnyMessage]) -> str:
    """The text of every user message since the last AI message, oldest first.

    Usually one message; more when an earlier turn failed (endpoint down) and
    the user sent another: the turn then reads both, so nothing is lost.
    Messages of other kinds in between are not the user's text and are left
    out (:func:`assistant_history` keeps system ones from the Assistant too).

    Raises:
        InvalidMessageError: the thread's newest message is not a human message:
            the run added none (or added a system, ai or tool message last),
            so there is no turn to read.

    """
    if messages and not isinstance(messages[-1], HumanMessage):
        newest = messages[-1]
        raise InvalidMessageError(
            f"This run adds no user message: the thread's newest message is {kind_of(newest)} "
            f"message, and a turn starts only with a human one ({not_accepted_because(newest)}). "
            f"Send the user's text as {HUMAN_MESSAGE_SHAPE}."
        )
    pending: list[str] = []
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            break
        if isinstance(message, HumanMessage):
            pending.append(text_of(message))
    return "\n".join(reversed(pending))


def assistant_history(messages: Sequence[MessageT]) -> list[MessageT]:
    """The thread's messages the Assistant may be shown: all but system messages.

    Neither the package's prompts nor an agent's own system prompt is ever
    stored in a thread, so a system message there came from a client; shown
    to the Assistant it would speak with a system prompt's authority.
    """
    return [message for message in messages if not isinstance(message, SystemMessage)]
