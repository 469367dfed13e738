"""The door attacks (``tests/door_attacks.py``) against ``langgraph dev`` with auth on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from door_attacks import ATTACKS, Target, studio_still_works
from langgraph_dev import ALICE, BOB
from openai_stub import OpenAIStub


@pytest.fixture
def target(
    server_url: str, open_server_url: str, tokens: dict[str, str], stub: OpenAIStub
) -> Target:
    return Target(url=server_url, bob_token=tokens[BOB], alice=ALICE, stub=stub,
                  open_url=open_server_url)  # fmt: skip


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_the_attack_gets_nowhere(
    target: Target, attack: str, record: Callable[..., None]
) -> None:
    outcome = await ATTACKS[attack](target)
    record(
        f"attack: {attack}",
        attack=True,
        engine="langgraph dev",
        tried=outcome.tried,
        succeeded=outcome.succeeded,
        statuses=outcome.figures,
    )
    assert outcome.tried and outcome.succeeded == 0, outcome.figures


async def test_studio_on_its_own_page_still_gets_in_when_trusted(target: Target) -> None:
    assert await studio_still_works(target) == 200
