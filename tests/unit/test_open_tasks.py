"""The open family: authored threads whose last turn depends on something said earlier.

The shipped set loads and is big enough per axis; every rule of the format is
enforced on load (each broken variant of a valid record is refused with a
message naming the field); the substring check the harness uses folds case and
white space; the loader filters by axis and limit.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from langgraph_mediator.evals.datasets import dataset_path
from langgraph_mediator.evals.open_tasks import (
    OPEN_AXES,
    OpenFormatError,
    contains,
    iter_open_conversations,
    load_open_conversations,
    normalised,
    parse_open_conversation,
)

CONVERSATIONS = load_open_conversations()

VALID: dict[str, Any] = {
    "conversation_id": "open/user_fact/test",
    "axis": "user_fact",
    "turns": [
        {
            "user": "I have chronic back pain. Firm mattress?",
            "assistant": "Medium-firm; gentle exercise helps.",
        },
        {
            "user": "Unrelated: a weekend in Porto?",
            "assistant": "Ribeira, the Douro, port cellars.",
        },
        {"user": "Any morning exercise in the hotel room?"},
    ],
    "needed": ["back pain"],
    "stale": ["Firm mattress"],
    "rubric": "Are the exercises gentle on the back?",
    "notes": "a health fact travels to a later topic",
}


def variant(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(VALID)
    for key, value in changes.items():
        record[key] = value
    return record


def with_turns(*turns: dict[str, str]) -> dict[str, Any]:
    return variant(turns=list(turns))


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_the_shipped_set_is_large_enough_on_every_axis() -> None:
    axes = Counter(c.axis for c in CONVERSATIONS)
    assert len(CONVERSATIONS) >= 48
    assert set(axes) == set(OPEN_AXES)
    assert min(axes.values()) >= 9, axes
    ids = [c.conversation_id for c in CONVERSATIONS]
    assert len(ids) == len(set(ids))
    assert all(c.conversation_id.startswith(f"open/{c.axis}/") for c in CONVERSATIONS)


def test_the_shipped_set_has_stale_facts_and_varied_lengths() -> None:
    assert sum(1 for c in CONVERSATIONS if c.stale) >= 10
    lengths = Counter(len(c.turns) for c in CONVERSATIONS)
    assert min(lengths) >= 3 and max(lengths) <= 9, lengths
    assert sum(n for length, n in lengths.items() if 4 <= length <= 6) > len(CONVERSATIONS) / 2


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: c.conversation_id)
def test_needed_facts_come_from_earlier_turns_only(conversation: Any) -> None:
    history = [t for turn in conversation.history for t in (turn.user, turn.assistant)]
    assert all(turn.assistant for turn in conversation.history)
    assert conversation.turns[-1].assistant is None
    assert 1 <= len(conversation.needed) <= 5
    for value in (*conversation.needed, *conversation.stale):
        assert any(contains(text, value) for text in history), value
    for value in conversation.needed:
        assert not contains(conversation.final_message, value), value
    assert conversation.rubric.endswith("?")
    assert conversation.split_key == conversation.conversation_id


def test_the_shipped_file_is_utf8_with_unescaped_text() -> None:
    text = dataset_path("open_conversations.jsonl").read_text(encoding="utf-8")
    assert "\\u" not in text  # written with ensure_ascii=False
    assert "°" in text


def test_a_valid_record_parses_into_history_and_final_message() -> None:
    conversation = parse_open_conversation(VALID)
    assert len(conversation.history) == 2
    assert conversation.final_message == "Any morning exercise in the hotel room?"
    assert conversation.needed == ("back pain",)
    assert conversation.stale == ("Firm mattress",)


BROKEN = {
    "unknown axis": (variant(axis="persona"), "axis", "must be one of"),
    "last turn answered": (
        with_turns(*VALID["turns"][:2], {"user": "Any exercise?", "assistant": "Squats."}),
        "turns[2].assistant",
        "answers live",
    ),
    "earlier turn unanswered": (
        with_turns(VALID["turns"][0], {"user": "Unrelated: Porto?"}, VALID["turns"][2]),
        "turns[1].assistant",
        "every turn before the last",
    ),
    "needed missing from history": (variant(needed=["sciatica"]), "needed[0]", "before the last"),
    "needed only in final message": (
        variant(needed=["back pain", "exercise"]),
        "needed[1]",
        "final user message",
    ),
    "too many needed": (variant(needed=["back pain"] * 6), "needed", "1 to 5"),
    "stale missing from history": (variant(stale=["Hotel Marlowe"]), "stale[0]", "before the last"),
    "unknown field": (variant(difficulty="hard"), "difficulty", "remove it"),
    "empty rubric": (variant(rubric="  "), "rubric", "non-empty"),
    "overlong rubric": (variant(rubric="Is it? " * 100), "rubric", "600"),
    "single turn": (with_turns({"user": "Any exercise?"}), "turns", "at least 2"),
    "empty user message": (
        with_turns(VALID["turns"][0], {"user": " ", "assistant": "Hi."}, VALID["turns"][2]),
        "turns[1].user",
        "non-empty",
    ),
}


@pytest.mark.parametrize(("record", "field", "rule"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_record_is_refused_naming_the_field(
    record: dict[str, Any], field: str, rule: str
) -> None:
    parse_open_conversation(VALID)  # the variants differ from a record that passes
    with pytest.raises(OpenFormatError) as refused:
        parse_open_conversation(record, "open.jsonl:7")
    message = str(refused.value)
    assert f"field '{field}'" in message
    assert rule in message
    assert "open.jsonl:7" in message and "open/user_fact/test" in message


def test_contains_folds_case_and_white_space() -> None:
    assert normalised("  Brewed  Slow,\n\tSipped BRIGHT ") == "brewed slow, sipped bright"
    assert contains("Tagline: brewed slow,\nsipped   bright!", "Brewed Slow, Sipped Bright")
    assert not contains("Brewed Slow, Sipped Light", "Brewed Slow, Sipped Bright")
    assert not contains("backpain", "back pain")


def test_load_filters_by_axis_and_limit() -> None:
    only = load_open_conversations(axes=["topic_return", "self_reference"])
    assert only and {c.axis for c in only} == {"topic_return", "self_reference"}
    assert len(only) == sum(c.axis in {"topic_return", "self_reference"} for c in CONVERSATIONS)
    first = load_open_conversations(axes=["user_fact"], limit=3)
    assert [c.conversation_id for c in first] == [
        c.conversation_id for c in CONVERSATIONS if c.axis == "user_fact"
    ][:3]
    with pytest.raises(ValueError, match="Unknown axis"):
        load_open_conversations(axes=["persona"])


def test_duplicate_ids_and_missing_files_are_errors(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "open.jsonl", [VALID, VALID])
    with pytest.raises(OpenFormatError, match=r"open\.jsonl:2 .*'conversation_id'.*duplicate"):
        list(iter_open_conversations(path))
    missing = tmp_path / "absent.jsonl"
    with pytest.raises(FileNotFoundError, match="absent.jsonl"):
        load_open_conversations(missing)


def test_a_custom_file_loads(tmp_path: Path) -> None:
    other = variant(conversation_id="open/user_fact/other")
    path = write_jsonl(tmp_path / "open.jsonl", [VALID, other])
    assert [c.conversation_id for c in load_open_conversations(path)] == [
        "open/user_fact/test",
        "open/user_fact/other",
    ]
