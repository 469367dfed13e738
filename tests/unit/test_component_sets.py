"""The component-eval sets: sizes, balance, consistency, and errors on malformed records."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from langgraph_mediator.evals.component_sets import (
    DATASETS_DIR,
    FeedbackItem,
    UnderspecItem,
    load_feedback_items,
    load_underspec_items,
)

LABELS = ("correction", "confirmation", "new_information")


@pytest.fixture(scope="module")
def feedback() -> list[FeedbackItem]:
    return load_feedback_items()


@pytest.fixture(scope="module")
def underspec() -> list[UnderspecItem]:
    return load_underspec_items()


def test_default_paths_are_the_repo_datasets() -> None:
    repo_datasets = (
        Path(__file__).resolve().parents[2] / "langgraph_mediator" / "evals" / "datasets"
    )
    assert repo_datasets == DATASETS_DIR
    assert (DATASETS_DIR / "feedback_classification.jsonl").is_file()
    assert (DATASETS_DIR / "underspecification.jsonl").is_file()


def test_feedback_set_is_large_and_balanced(feedback: list[FeedbackItem]) -> None:
    assert len(feedback) >= 66
    counts: Counter[str] = Counter(item.label for item in feedback)
    assert set(counts) == set(LABELS)
    assert all(counts[label] >= 20 for label in LABELS), counts


def test_feedback_ids_are_unique(feedback: list[FeedbackItem]) -> None:
    ids = [item.id for item in feedback]
    assert len(ids) == len(set(ids))


def test_feedback_has_hard_cases_of_several_kinds(feedback: list[FeedbackItem]) -> None:
    hard = [item for item in feedback if item.hard_case]
    assert len(hard) >= 20
    tags = Counter(item.hard_case for item in hard)
    for tag in ("fragment_correction", "yes_but", "bare_yes_after_question"):
        assert tags[tag] >= 3, tags
    assert tags["addition_not_correction"] >= 3, tags
    # The named traps carry the label a careful reader gives them.
    expected = {
        "fragment_correction": "correction",
        "yes_but": "correction",
        "implicit_correction": "correction",
        "bare_yes_after_question": "confirmation",
        "polite_confirmation": "confirmation",
        "addition_not_correction": "new_information",
    }
    for item in hard:
        if item.hard_case in expected:
            assert item.label == expected[item.hard_case], item.id


def test_feedback_last_answer_is_the_last_assistant_turn(feedback: list[FeedbackItem]) -> None:
    for item in feedback:
        assistant = [t.content for t in item.prior_turns if t.role == "assistant"]
        if assistant:
            assert item.last_answer == assistant[-1], item.id
        assert item.prior_turns[-1].role == "assistant", item.id


def test_feedback_corrections_say_what_they_change(feedback: list[FeedbackItem]) -> None:
    for item in feedback:
        assert bool(item.corrects.strip()) == (item.label == "correction"), item.id
        assert item.requirements, item.id
        assert item.message.strip(), item.id


def test_underspec_set_is_large_and_balanced(underspec: list[UnderspecItem]) -> None:
    assert len(underspec) >= 44
    missing = sum(item.missing for item in underspec)
    assert missing >= 18
    assert len(underspec) - missing >= 18


def test_underspec_ids_are_unique(underspec: list[UnderspecItem]) -> None:
    ids = [item.id for item in underspec]
    assert len(ids) == len(set(ids))


def test_underspec_details_match_the_label(underspec: list[UnderspecItem]) -> None:
    for item in underspec:
        assert bool(item.missing_detail.strip()) == item.missing, item.id
        assert not (item.missing and item.answerable_with_default), item.id
    staged = [item for item in underspec if item.prior_turns]
    assert sum(item.missing for item in staged) >= 3
    assert sum(not item.missing for item in staged) >= 3


def _feedback_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "fb-x",
        "label": "confirmation",
        "prior_turns": [
            {"role": "user", "content": "What's 2 + 2?"},
            {"role": "assistant", "content": "4."},
        ],
        "last_answer": "4.",
        "requirements": ["Compute 2 + 2."],
        "message": "thanks",
        "hard_case": "",
        "corrects": "",
    }
    record.update(overrides)
    return record


def _write(path: Path, records: list[dict[str, Any] | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_valid_tmp_file_loads(tmp_path: Path) -> None:
    path = _write(tmp_path / "fb.jsonl", [_feedback_record()])
    [item] = load_feedback_items(path)
    assert item.label == "confirmation"
    assert item.prior_turns[1].content == "4."


def test_malformed_label_names_file_line_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "fb.jsonl", [_feedback_record(), _feedback_record(id="fb-y", label="maybe")]
    )
    with pytest.raises(ValueError, match=r"fb\.jsonl:2: field 'label'"):
        load_feedback_items(path)


def test_missing_field_and_nested_field_are_named(tmp_path: Path) -> None:
    record = _feedback_record()
    del record["message"]
    with pytest.raises(ValueError, match=r"fb\.jsonl:1: field 'message'"):
        load_feedback_items(_write(tmp_path / "fb.jsonl", [record]))
    bad_turn = _feedback_record(prior_turns=[{"role": "system", "content": "x"}], last_answer="")
    with pytest.raises(ValueError, match=r"fb\.jsonl:1: field 'prior_turns\.0\.role'"):
        load_feedback_items(_write(tmp_path / "fb.jsonl", [bad_turn]))


def test_inconsistent_records_are_rejected(tmp_path: Path) -> None:
    stale = _feedback_record(last_answer="5.")
    with pytest.raises(ValueError, match=r"fb\.jsonl:1: field 'last_answer'"):
        load_feedback_items(_write(tmp_path / "fb.jsonl", [stale]))
    silent = _feedback_record(label="correction")
    with pytest.raises(ValueError, match=r"fb\.jsonl:1: field 'corrects'"):
        load_feedback_items(_write(tmp_path / "fb.jsonl", [silent]))
    vague = {"id": "us-x", "message": "Paint my room.", "missing": True}
    with pytest.raises(ValueError, match=r"us\.jsonl:1: field 'missing_detail'"):
        load_underspec_items(_write(tmp_path / "us.jsonl", [vague]))


def test_bad_json_and_duplicate_ids_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"fb\.jsonl:2: not valid JSON"):
        load_feedback_items(_write(tmp_path / "fb.jsonl", [_feedback_record(), "{oops"]))
    with pytest.raises(ValueError, match=r"fb\.jsonl:2: field 'id': duplicate"):
        load_feedback_items(_write(tmp_path / "fb.jsonl", [_feedback_record(), _feedback_record()]))
