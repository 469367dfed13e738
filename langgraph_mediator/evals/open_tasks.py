"""Open conversations: real threads, where what the last answer needs was said turns earlier.

The sharded tasks reveal one task piece by piece. Real threads are open: several
requests, follow-ups, edits of the Assistant's own earlier drafts, topic switches
and returns, preferences and facts stated once for the whole thread. This family
measures whether what the final answer needs reaches the Assistant.

One JSON object per line (UTF-8)::

    {"conversation_id": "open/standing_instruction/bullets-trip",
     "axis": "standing_instruction",
     "turns": [{"user": "...", "assistant": "..."}, {"user": "..."}],
     "needed": ["bullet", "back pain"],
     "stale": ["Hotel Marlowe"],
     "rubric": "Is the answer a bulleted list, and ...?",
     "notes": "one line on what the conversation tests"}

* ``axis``: what the last turn depends on, one of :data:`OPEN_AXES` --
  ``standing_instruction`` (format, length, words to avoid, persona, stated once
  for the thread), ``user_fact`` (a fact about the user stated under another
  topic), ``versioned_editing`` (revert to, pick from or combine earlier versions
  of the Assistant's text), ``topic_return`` (back to a topic left earlier) and
  ``self_reference`` (something the Assistant itself stated earlier).
* ``turns``: a fixed history, so every setting sees the same one. Every turn but
  the last carries a canned ``assistant`` answer; the last is a user message only,
  answered live and judged.
* ``needed``: 1 to 5 strings the Assistant's final input must contain
  (case-insensitive, white space collapsed, see :func:`contains`). Each appears in
  a turn before the last and not in the final user message: they are the facts
  that have to travel.
* ``stale`` (optional): strings from earlier turns the final answer must not rely
  on (a withdrawn preference, a rejected version, a corrected fact).
* ``rubric``: one yes/no question a judge answers about the final answer.
* ``notes`` (optional): one line on what the conversation tests.

Records are validated on load; an error names the file, line, conversation_id
and field, and says what to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from langgraph_mediator.evals.datasets import dataset_path
from langgraph_mediator.jsonl import RecordPlace, read_jsonl

OpenAxis = Literal[
    "standing_instruction", "user_fact", "versioned_editing", "topic_return", "self_reference"
]
OPEN_AXES: tuple[str, ...] = get_args(OpenAxis)

DATASET_NAME = "open_conversations.jsonl"
MAX_NEEDED = 5
MAX_RUBRIC_CHARS = 600
MAX_MESSAGE_CHARS = 4000

_FIELDS = ("conversation_id", "axis", "turns", "needed", "stale", "rubric", "notes")
_TURN_FIELDS = ("user", "assistant")


class OpenFormatError(ValueError):
    """An open-conversation record is malformed; the message names the record and the field."""


@dataclass(frozen=True)
class OpenTurn:
    """One exchange: the user's message and the canned answer (``None`` on the last turn)."""

    user: str
    assistant: str | None


@dataclass(frozen=True)
class OpenConversation:
    """One open conversation: a fixed history, a final user message and what judges it."""

    conversation_id: str
    axis: OpenAxis
    turns: tuple[OpenTurn, ...]
    needed: tuple[str, ...]
    stale: tuple[str, ...]
    rubric: str
    notes: str

    @property
    def history(self) -> tuple[OpenTurn, ...]:
        """The answered turns before the last, identical for every setting."""
        return self.turns[:-1]

    @property
    def final_message(self) -> str:
        """The last user message, the one the Assistant answers live."""
        return self.turns[-1].user

    @property
    def split_key(self) -> str:
        """A stable key for splitting conversations into train/test."""
        return self.conversation_id


def normalised(text: str) -> str:
    """``text`` lower-cased with every run of white space collapsed to one space."""
    return " ".join(text.split()).lower()


def contains(haystack: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``haystack``, ignoring case and white-space differences."""
    return normalised(needle) in normalised(haystack)


def _text(value: Any, limit: int | None = None) -> str | None:
    """``value`` stripped if it is a non-empty string within ``limit`` characters, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    if limit is not None and len(value) > limit:
        return None
    return value.strip()


def _parse_turns(record: dict[str, Any], place: RecordPlace) -> tuple[OpenTurn, ...]:
    turns = record.get("turns")
    if not isinstance(turns, list) or len(turns) < 2:
        raise place.field_error("turns", "must be a list of at least 2 {user, assistant} turns")
    parsed: list[OpenTurn] = []
    last = len(turns) - 1
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise place.field_error(f"turns[{i}]", "must be an object {user, assistant}")
        unknown = sorted(set(turn) - set(_TURN_FIELDS))
        if unknown:
            raise place.field_error(
                f"turns[{i}]", f"has unknown keys {unknown}; keep only user, assistant"
            )
        user = _text(turn.get("user"), MAX_MESSAGE_CHARS)
        if user is None:
            raise place.field_error(
                f"turns[{i}].user",
                f"must be a non-empty string of at most {MAX_MESSAGE_CHARS} characters",
            )
        if i == last:
            # The final answer is produced live; a canned one would leak into every setting.
            if turn.get("assistant") is not None:
                raise place.field_error(
                    f"turns[{i}].assistant",
                    "must be absent on the last turn, which the Assistant answers live",
                )
            parsed.append(OpenTurn(user=user, assistant=None))
            continue
        assistant = _text(turn.get("assistant"), MAX_MESSAGE_CHARS)
        if assistant is None:
            raise place.field_error(
                f"turns[{i}].assistant",
                "must be a canned answer (a non-empty string of at most "
                f"{MAX_MESSAGE_CHARS} characters) on every turn before the last",
            )
        parsed.append(OpenTurn(user=user, assistant=assistant))
    return tuple(parsed)


def _history_texts(turns: tuple[OpenTurn, ...]) -> list[str]:
    return [text for turn in turns[:-1] for text in (turn.user, turn.assistant) if text]


def _parse_strings(
    record: dict[str, Any], place: RecordPlace, name: str, *, required: bool
) -> tuple[str, ...]:
    values = record.get(name, None if required else [])
    if not isinstance(values, list):
        raise place.field_error(name, "must be a list of strings")
    if required and not 1 <= len(values) <= MAX_NEEDED:
        raise place.field_error(
            name,
            f"must hold 1 to {MAX_NEEDED} strings; it has {len(values)}, keep the most distinctive",
        )
    strings: list[str] = []
    for i, value in enumerate(values):
        text = _text(value)
        if text is None:
            raise place.field_error(f"{name}[{i}]", "must be a non-empty string")
        strings.append(text)
    return tuple(strings)


def _check_placement(
    turns: tuple[OpenTurn, ...],
    needed: tuple[str, ...],
    stale: tuple[str, ...],
    place: RecordPlace,
) -> None:
    history = _history_texts(turns)
    final = turns[-1].user
    for name, values in (("needed", needed), ("stale", stale)):
        for i, value in enumerate(values):
            if not any(contains(text, value) for text in history):
                raise place.field_error(
                    f"{name}[{i}]",
                    f"{value!r} must appear verbatim (case and white space aside) in a turn "
                    "before the last; quote the earlier message exactly",
                )
            if name == "needed" and contains(final, value):
                raise place.field_error(
                    f"needed[{i}]",
                    f"{value!r} is in the final user message, so it need not travel; "
                    "list a fact that only earlier turns hold",
                )


def parse_open_conversation(record: Any, where: str = "record") -> OpenConversation:
    """Validate one record and normalise it into an :class:`OpenConversation`."""
    if not isinstance(record, dict):
        raise OpenFormatError(f"{where}: an open-conversation record must be a JSON object")
    cid = _text(record.get("conversation_id"))
    if cid is None:
        raise OpenFormatError(f"{where}: field 'conversation_id' must be a non-empty string")
    place = RecordPlace(where, "conversation_id", cid, OpenFormatError)
    unknown = sorted(set(record) - set(_FIELDS))
    if unknown:
        raise place.field_error(
            ", ".join(unknown),
            f"is not part of the format; remove it (allowed: {', '.join(_FIELDS)})",
        )
    axis = record.get("axis")
    if axis not in OPEN_AXES:
        raise place.field_error("axis", f"must be one of {', '.join(OPEN_AXES)}; got {axis!r}")
    turns = _parse_turns(record, place)
    needed = _parse_strings(record, place, "needed", required=True)
    stale = _parse_strings(record, place, "stale", required=False)
    _check_placement(turns, needed, stale, place)
    rubric = _text(record.get("rubric"), MAX_RUBRIC_CHARS)
    if rubric is None:
        raise place.field_error(
            "rubric",
            f"must be one non-empty yes/no question of at most {MAX_RUBRIC_CHARS} characters",
        )
    notes = record.get("notes", "")
    if not isinstance(notes, str):
        raise place.field_error("notes", "must be a string (one line) when present")
    return OpenConversation(
        conversation_id=cid,
        axis=axis,
        turns=turns,
        needed=needed,
        stale=stale,
        rubric=rubric,
        notes=notes.strip(),
    )


def iter_open_conversations(path: str | Path) -> Iterator[OpenConversation]:
    """Yield the conversations of a JSONL file, validating each; duplicate ids are an error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No open-conversation file at {path}")
    seen: set[str] = set()
    for where, record in read_jsonl(path, error=OpenFormatError):
        conversation = parse_open_conversation(record, where)
        if conversation.conversation_id in seen:
            raise RecordPlace(
                where, "conversation_id", conversation.conversation_id, OpenFormatError
            ).field_error("conversation_id", "is a duplicate; give each conversation its own id")
        seen.add(conversation.conversation_id)
        yield conversation


def load_open_conversations(
    path: str | Path | None = None,
    *,
    axes: Iterable[str] | None = None,
    limit: int | None = None,
) -> list[OpenConversation]:
    """Load the open conversations of ``path`` (default: the shipped set), optionally filtered.

    ``axes`` keeps only those axes (an unknown axis is a ``ValueError``, not an
    empty result); ``limit`` keeps the first ``limit`` after filtering.
    """
    wanted = set(axes) if axes is not None else None
    if wanted is not None and not wanted <= set(OPEN_AXES):
        unknown = ", ".join(sorted(wanted - set(OPEN_AXES)))
        raise ValueError(f"Unknown axis {unknown}; choose from {', '.join(OPEN_AXES)}")
    source = dataset_path(DATASET_NAME) if path is None else Path(path)
    conversations = [
        c for c in iter_open_conversations(source) if wanted is None or c.axis in wanted
    ]
    return conversations[:limit] if limit is not None else conversations
