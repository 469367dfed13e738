"""Text helpers both graphs share: fencing untrusted text, and one comparison key."""

from __future__ import annotations

import re

FENCE_OPEN = "<<<"
FENCE_CLOSE = ">>>"


def fence(text: str) -> str:
    """Wrap untrusted text as data; fence markers inside it are neutralised."""
    inner = text.replace(FENCE_OPEN, "‹‹‹").replace(FENCE_CLOSE, "›››")
    return FENCE_OPEN + inner + FENCE_CLOSE


def comparison_key(text: str) -> str:
    """What two texts must share to count as the same rule or requirement.

    Case, runs of whitespace and final punctuation are ignored.
    """
    return re.sub(r"[\s.;:!]+$", "", " ".join(text.lower().split()))
