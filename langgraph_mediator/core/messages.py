"""User-message helpers: validation before anything is written, and the turn's text."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage

from langgraph_mediator.errors import InvalidMessageError


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
    """
    pending: list[str] = []
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            break
        if isinstance(message, HumanMessage):
            pending.append(text_of(message))
    return "\n".join(reversed(pending))
