"""``--db`` is checked before anything starts: one clear line, and nothing created."""

from __future__ import annotations

from pathlib import Path

import pytest

from langgraph_mediator.errors import DatabaseError
from langgraph_mediator.persistence import check_database, database_problem, open_persistence


def test_an_unsupported_url_scheme_is_refused_not_taken_for_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    problem = database_problem("mysql://root@localhost/app")
    assert problem is not None and "mysql://" in problem and "postgresql://" in problem
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_does_not_exist_is_an_error_not_created(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.sqlite"
    problem = database_problem(str(target))
    assert problem is not None and str(tmp_path / "no" / "such" / "dir") in problem
    assert not (tmp_path / "no").exists()


def test_a_new_file_in_an_existing_folder_is_fine_and_memory_always_is(tmp_path: Path) -> None:
    assert database_problem(str(tmp_path / "new.sqlite")) is None
    assert database_problem(":memory:") is None


def test_resuming_from_a_database_that_is_not_there_creates_no_empty_one(tmp_path: Path) -> None:
    target = tmp_path / "typo.sqlite"
    problem = database_problem(str(target), must_exist=True)
    assert problem is not None and "nothing to resume" in problem
    assert not target.exists()


def test_a_file_that_is_not_sqlite_or_a_folder_is_named(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert "not a SQLite database" in (database_problem(str(notes)) or "")
    assert "is a folder" in (database_problem(str(tmp_path)) or "")


async def test_a_postgres_server_that_does_not_answer_fails_fast_with_the_password_masked() -> None:
    from langgraph_mediator.models.local_server import free_port

    url = f"postgresql://root:s3cret@127.0.0.1:{free_port()}/test"
    with pytest.raises(DatabaseError, match="Postgres does not answer") as caught:
        await check_database(url)
    assert "s3cret" not in str(caught.value)


async def test_open_persistence_refuses_what_it_would_have_created(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="does not exist"):
        async with open_persistence(tmp_path / "missing" / "x.sqlite"):
            pass
    assert not (tmp_path / "missing").exists()
