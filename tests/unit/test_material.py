"""The material channel: blocks of a message passed on verbatim, never re-typed."""

from __future__ import annotations

from langgraph_mediator.core.material import (
    MATERIAL_MIN_CHARS,
    block_list,
    evident_material,
    message_blocks,
    needs_block_list,
)

CODE = "```python\ndef f(x):\n\n    return x\n```"
TABLE = "| city | pop |\n|---|---|\n| Lisbon | 545000 |"


def test_a_code_block_with_blank_lines_is_one_block() -> None:
    blocks = message_blocks(f"fix this:\n\n{CODE}\n\nthanks")
    assert [b.text for b in blocks] == ["fix this:", CODE, "thanks"]
    assert [b.label for b in blocks] == ["B1", "B2", "B3"]


def test_code_tables_and_long_text_are_evident_material_short_text_is_not() -> None:
    text = "x" * MATERIAL_MIN_CHARS
    blocks = message_blocks(f"here\n\n{CODE}\n\n{TABLE}\n\n{text}\n\nshort note")
    assert [b.evident for b in blocks] == [False, True, True, True, False]


def test_a_short_message_is_not_listed_as_blocks() -> None:
    assert not needs_block_list(message_blocks("in Celsius"))
    assert needs_block_list(message_blocks(f"fix this:\n\n{CODE}"))


def test_the_block_list_shows_labels_sizes_and_openings_only() -> None:
    long = "word " * 400
    listed = block_list(message_blocks(f"summarise:\n\n{long}"))
    assert listed.startswith("B1 (10 chars): summarise:\nB2 (")
    assert len(listed) < 300 and listed.endswith("[...]")


def test_evident_material_is_added_to_what_the_reading_named_unknown_labels_dropped() -> None:
    blocks = message_blocks(f"notes\n\nsecond paragraph\n\n{CODE}")
    chosen, added = evident_material(blocks, ["b2", "B9"])
    assert [b.label for b in chosen] == ["B2", "B3"]
    assert added == ["B3"]
