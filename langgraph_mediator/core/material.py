"""The verbatim material channel: the parts of a message the Assistant must get whole.

A pasted table, code block or document cannot pass through a reading (a few
short requirements, written by the model). So a message is cut into blocks
(paragraphs; a fenced code block or a table is one block however many lines
it has), the Mediator sees each block's label and opening words, and names the
material ones by label only. The ledger then stores the block's own text, and
the instruction carries it whole: the model never re-types it, and its output
stays bounded however large the material is.

Code blocks, tables and long blocks are material whether or not the reading
names them (:func:`evident_material`), since no requirement of 300 characters
could hold them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MATERIAL_MIN_CHARS = 500
"""A block this long is material by its size alone."""
PREVIEW_CHARS = 100
"""How much of a block the Mediator's prompt shows next to its label."""
MAX_BLOCKS = 12
"""Blocks a message is cut into at most; the rest joins the last one."""

_FENCED_CODE = re.compile(r"^(```|~~~)")
_TABLE_LINE = re.compile(r"^\s*\|.*\|\s*$")
_HTML_BLOCK = re.compile(r"<(table|pre|code)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Block:
    """One block of a message: its label (``B1``...) and its exact text."""

    label: str
    text: str

    @property
    def evident(self) -> bool:
        """Code, a table or a long text: material by its form alone."""
        lines = self.text.splitlines()
        table = sum(bool(_TABLE_LINE.match(line)) for line in lines) >= 2
        code = bool(_FENCED_CODE.match(self.text.lstrip()))
        html = bool(_HTML_BLOCK.search(self.text))
        return code or table or html or len(self.text) >= MATERIAL_MIN_CHARS


def _paragraphs(message: str) -> list[str]:
    """Paragraphs split at blank lines, a fenced code block kept as one."""
    parts: list[str] = []
    current: list[str] = []
    in_code = False
    for line in message.splitlines():
        if _FENCED_CODE.match(line.strip()):
            in_code = not in_code
        # A blank line inside a fence is the code's own: the block reaches the Assistant whole.
        if not line.strip() and not in_code:
            if current:
                parts.append("\n".join(current))
            current = []
            continue
        current.append(line)
    if current:
        parts.append("\n".join(current))
    return parts


def message_blocks(message: str) -> list[Block]:
    """``message`` cut into labelled blocks (at most :data:`MAX_BLOCKS`)."""
    parts = _paragraphs(message)
    # The prompt's list stays bounded; the tail joins the last block rather than being lost.
    if len(parts) > MAX_BLOCKS:
        parts = [*parts[: MAX_BLOCKS - 1], "\n\n".join(parts[MAX_BLOCKS - 1 :])]
    return [Block(f"B{i}", text) for i, text in enumerate(parts, 1)]


def needs_block_list(blocks: list[Block]) -> bool:
    """Whether the Mediator is shown the blocks at all: only when one could be material."""
    # Several short paragraphs that add up to a long text may be one pasted document.
    return any(b.evident for b in blocks) or (
        len(blocks) > 1 and sum(len(b.text) for b in blocks) >= MATERIAL_MIN_CHARS
    )


def opening(text: str, chars: int) -> str:
    """The first ``chars`` characters of ``text``, its white space collapsed: a preview."""
    return " ".join(text.split())[:chars]


def block_list(blocks: list[Block]) -> str:
    """The prompt's list of blocks: label, size and opening words of each."""
    lines = []
    for block in blocks:
        more = " [...]" if len(block.text) > PREVIEW_CHARS else ""
        lines.append(
            f"{block.label} ({len(block.text)} chars): {opening(block.text, PREVIEW_CHARS)}{more}"
        )
    return "\n".join(lines)


def evident_material(blocks: list[Block], named: list[str]) -> tuple[list[Block], list[str]]:
    """The material blocks: those the reading named, plus the evident ones it did not.

    Returns the blocks in message order and the labels added by form alone
    (for ``mediator_notes``). A label that names no block is dropped.
    """
    wanted = {label.strip().upper() for label in named}
    chosen = [b for b in blocks if b.label in wanted or b.evident]
    added = [b.label for b in chosen if b.label not in wanted]
    return chosen, added
