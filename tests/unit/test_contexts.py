"""The two graphs' run contexts: what they share, and how a node reads either."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from langgraph_mediator import MediatorContext, RefinerContext
from langgraph_mediator.state import ModelSettings


def test_the_refiner_context_offers_no_mediator_setting() -> None:
    names = {f.name for f in fields(RefinerContext)}
    assert "refiner_model" in names and "base_url" in names
    assert not names & {"clarification_policy", "assistant_model", "user_id", "single_task"}
    assert "refiner_model" not in {f.name for f in fields(MediatorContext)}


def test_a_mediator_context_gives_the_refiner_its_endpoint() -> None:
    mediator = MediatorContext(base_url="http://endpoint.test/v1", api_key="k", max_tokens=77)
    refiner = RefinerContext.from_runtime(mediator)
    assert isinstance(refiner, RefinerContext)
    assert (refiner.base_url, refiner.api_key, refiner.max_tokens) == (
        "http://endpoint.test/v1", "k", 77,
    )  # fmt: skip


def test_from_runtime_reads_none_dicts_and_instances() -> None:
    assert isinstance(MediatorContext.from_runtime(None), MediatorContext)
    same = MediatorContext(user_id="bob")
    assert MediatorContext.from_runtime(same) is same
    from_server = MediatorContext.from_runtime({"user_id": "carol", "unknown": 1})
    assert from_server.user_id == "carol"
    with pytest.raises(TypeError, match="MediatorContext expected a dict or a dataclass"):
        MediatorContext.from_runtime("alice")


def test_every_context_field_describes_itself_for_studio() -> None:
    for schema in (ModelSettings, MediatorContext, RefinerContext):
        missing = [f.name for f in fields(schema) if not f.metadata.get("description")]
        assert missing == [], f"{schema.__name__}: {missing}"


@pytest.mark.parametrize(
    ("name", "raw", "says"),
    [
        ("MEDIATOR_MAX_QUESTIONS", "two", "MEDIATOR_MAX_QUESTIONS='two' is not a whole number"),
        ("MEDIATOR_TEMPERATURE", "warm", "MEDIATOR_TEMPERATURE='warm' is not a number"),
        ("MEDIATOR_SINGLE_TASK", "maybe", "MEDIATOR_SINGLE_TASK='maybe' is neither true nor false"),
    ],
)
def test_a_malformed_environment_setting_names_the_variable_and_an_example(
    name: str, raw: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError, match=re.escape(says) + ".*e.g. " + name):
        MediatorContext()


def test_single_task_reads_the_usual_spellings_and_the_chat_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from langgraph_mediator.cli import build_parser
    from langgraph_mediator.cli.common import context_from

    monkeypatch.setenv("MEDIATOR_SINGLE_TASK", "1")
    assert MediatorContext().single_task is True
    monkeypatch.setenv("MEDIATOR_SINGLE_TASK", "no")
    assert MediatorContext().single_task is False
    assert context_from(build_parser().parse_args(["chat", "--single-task"])).single_task is True
    assert context_from(build_parser().parse_args(["chat"])).single_task is False
