"""The door attacks (``tests/door_attacks.py``) against each multi-instance engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from door_attacks import ATTACKS, Target
from langgraph_dev import ALICE, BOB
from openai_stub import OpenAIStub
from serving_engines import Engine, Instance


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_the_attack_gets_nowhere_on_the_engine(
    engine: Engine,
    instances: list[Instance],
    mi_tokens: dict[str, str],
    mi_stub: OpenAIStub,
    attack: str,
    record: Callable[..., None],
) -> None:
    target = Target(url=instances[1][0], bob_token=mi_tokens[BOB], alice=ALICE, stub=mi_stub)
    outcome = await ATTACKS[attack](target)
    record(
        f"attack: {attack}",
        attack=True,
        engine=engine.name,
        tried=outcome.tried,
        succeeded=outcome.succeeded,
        statuses=outcome.figures,
    )
    assert outcome.tried and outcome.succeeded == 0, outcome.figures
