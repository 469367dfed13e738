"""Hand-written readings of open conversations, replayed through the real Mediator graph.

Each fixture under ``tests/fixtures/open_readings`` holds the readings a capable
Mediator would give to one conversation of the open family, written by hand from
the exact prompts the code renders (``python -m langgraph_mediator.evals.replay
FILE``). The graph, ledger, tasks, answers and instruction are the code's own. So
these tests fail when a change loses what the last answer needs (a standing
preference, a fact said under another topic, the draft the user points at), or
keeps what the user withdrew; and when the prompts change at all (the digest).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from langgraph_mediator.evals.open_family import OpenSetting
from langgraph_mediator.evals.open_tasks import OPEN_AXES, load_open_conversations
from langgraph_mediator.evals.replay import ReadingsExhausted, replay_open

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "open_readings"
CONVERSATIONS = {c.conversation_id: c for c in load_open_conversations()}
FILES = sorted(FIXTURES.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_at_least_twelve_open_conversations_over_every_axis_have_readings() -> None:
    axes = Counter(CONVERSATIONS[load(path)["conversation_id"]].axis for path in FILES)
    assert len(FILES) >= 12
    assert set(axes) == set(OPEN_AXES) and min(axes.values()) >= 2, axes


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
async def test_the_assistants_final_input_holds_every_needed_fact(path: Path) -> None:
    data = load(path)
    assert data["written_by"].startswith("hand-written"), "a fixture says who wrote it"
    conversation = CONVERSATIONS[data["conversation_id"]]
    try:
        done = await replay_open(conversation, data["readings"], OpenSetting.MEDIATOR)
    except ReadingsExhausted as needed:
        pytest.fail(f"the conversation needs reading {len(data['readings']) + 1}: "
                    f"{needed.prompt[-1].content[-300:]}")  # fmt: skip
    assert done.digest == data["prompts_sha256"], (
        "the prompts changed: rewrite the readings with the replay tool (--write-digest)"
    )
    assert len(done.prompts) == len(data["readings"]), "every reading answers a prompt"
    assert done.result.missing == [], [m.content for m in done.final_input]
    assert done.result.stale == [], "a withdrawn or rejected text still reaches the Assistant"
