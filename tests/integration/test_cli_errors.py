"""The CLI's failure modes: one clear message, a non-zero exit, the thread intact."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from langgraph_mediator import build_mediator_graph
from langgraph_mediator.guidelines import aput_guidelines
from langgraph_mediator.models.local_server import free_port
from langgraph_mediator.persistence import open_persistence


def run_cli(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "langgraph_mediator.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


@pytest.fixture
def unreachable_env() -> dict[str, str]:
    return {
        **os.environ,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "MEDIATOR_MAX_RETRIES": "0",
        "COLUMNS": "200",
    }


def test_demo_with_unreachable_endpoint_names_the_setting(unreachable_env: dict[str, str]) -> None:
    done = run_cli("demo", env=unreachable_env)
    assert done.returncode == 2
    assert "Cannot reach the model endpoint" in done.stdout
    assert "OPENAI_BASE_URL" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


async def test_chat_with_unreachable_endpoint_keeps_the_thread(
    unreachable_env: dict[str, str], tmp_path: Path
) -> None:
    db = str(tmp_path / "chat.sqlite")
    done = run_cli("chat", "--db", db, "--thread", "t1", "--new", env=unreachable_env,
                   stdin="Convert 20 degrees to Fahrenheit.\n")  # fmt: skip
    assert done.returncode == 2
    assert "OPENAI_BASE_URL" in done.stdout
    async with open_persistence(db) as persistence:
        graph = build_mediator_graph(checkpointer=persistence.checkpointer)
        values = (await graph.aget_state({"configurable": {"thread_id": "t1"}})).values
    assert [m.content for m in values["messages"]] == ["Convert 20 degrees to Fahrenheit."]
    assert "ledger" not in values


async def test_chat_rejects_blank_input_and_writes_nothing(
    unreachable_env: dict[str, str], tmp_path: Path
) -> None:
    db = str(tmp_path / "chat.sqlite")
    done = run_cli(
        "chat", "--db", db, "--thread", "t2", "--new", env=unreachable_env, stdin="   \n/quit\n"
    )
    assert done.returncode == 2, "piped input that is rejected is an error for the script"
    assert "The message is empty" in done.stdout
    assert "nothing was saved" in done.stdout
    async with open_persistence(db) as persistence:
        assert (
            await persistence.checkpointer.aget_tuple({"configurable": {"thread_id": "t2"}}) is None
        )


def test_bad_policy_is_a_clear_error() -> None:
    env = {**os.environ, "MEDIATOR_CLARIFY_POLICY": "sometimes", "OPENAI_BASE_URL": "http://x/v1"}
    done = run_cli("demo", env=env)
    assert done.returncode == 2
    assert "clarification_policy" in done.stdout and "sometimes" in done.stdout


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` in its user part (trust auth ignores it)."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    host = parts.netloc.split("@")[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def test_a_password_in_the_db_url_is_never_printed(
    unreachable_env: dict[str, str], postgres_url: str
) -> None:
    db = with_password(postgres_url, "hunter2-secret")
    done = run_cli("chat", "--db", db, env=unreachable_env, stdin="/quit\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hunter2-secret" not in done.stdout + done.stderr
    assert ":***@" in done.stdout, "the location is still shown, masked"


def test_a_thread_id_with_markup_is_printed_as_text(
    unreachable_env: dict[str, str], tmp_path: Path
) -> None:
    db = str(tmp_path / "chat.sqlite")
    done = run_cli("chat", "--db", db, "--thread", "[/red]x[bold]", "--new",
                   env=unreachable_env, stdin="/thread\n/quit\n")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.count("[/red]x[bold]") == 2, "in the banner and for /thread"


async def test_stored_guideline_text_is_printed_as_text(
    unreachable_env: dict[str, str], tmp_path: Path
) -> None:
    db = str(tmp_path / "g.sqlite")
    rule = "Ask for the [local] units before [/red] assuming any of them."
    async with open_persistence(db) as persistence:
        await aput_guidelines(persistence.store, "alice", [rule], source="[bold]manual")
    shown = run_cli("guidelines", "show", "--user", "alice", "--db", db, env=unreachable_env)
    history = run_cli("guidelines", "history", "--user", "alice", "--db", db, env=unreachable_env)
    assert shown.returncode == history.returncode == 0, shown.stdout + history.stdout
    assert "[local]" in shown.stdout and "[/red]" in shown.stdout
    assert "[bold]manual" in history.stdout


@pytest.mark.parametrize(
    ("db", "says"),
    [
        ("mysql://root@127.0.0.1/app", "mysql:// is not supported"),
        ("no/such/dir/x.sqlite", "does not exist"),
        ("postgresql://root:pw-secret@127.0.0.1:{port}/test", "Postgres does not answer"),
    ],
)
def test_a_bad_db_fails_fast_in_one_line_and_creates_nothing(
    db: str, says: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"}  # the model would start
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "langgraph_mediator.cli", "chat", "--db",
         db.format(port=free_port())],
        input="hello\n", capture_output=True, text=True, timeout=120, env={**env, "COLUMNS": "300"},
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert time.monotonic() - began < 15, "checked before the model server starts"
    assert says in done.stdout and len(done.stdout.strip().splitlines()) == 1, done.stdout
    assert "embedded model" not in done.stdout and "Traceback" not in done.stderr
    assert "pw-secret" not in done.stdout
    assert list(tmp_path.iterdir()) == [], "no folder or file was created"


def test_resuming_a_thread_from_a_mistyped_db_path_leaves_no_empty_database(
    unreachable_env: dict[str, str], tmp_path: Path
) -> None:
    typo = tmp_path / "chta.sqlite"
    done = run_cli("chat", "--db", str(typo), "--thread", "t1", env=unreachable_env, stdin="")
    assert done.returncode == 2 and "nothing to resume" in done.stdout
    assert not typo.exists()


@pytest.mark.parametrize(
    "stdin",
    [b"x" * 1_000_000 + b"\n", b"caf\xe9 \xff\xfe\n"],
    ids=["one-megabyte", "invalid-utf8"],
)
def test_a_rejected_piped_message_exits_non_zero_and_stops(
    stdin: bytes, unreachable_env: dict[str, str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "langgraph_mediator.cli", "chat", "--db",
         str(tmp_path / "c.sqlite"), "--thread", "t", "--new"],
        input=stdin + b"a later line that must not be sent\n", capture_output=True,
        timeout=120, env=unreachable_env, check=False,
    )  # fmt: skip
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 2, out
    assert "nothing was saved" in out and "Cannot reach" not in out


def test_a_malformed_setting_is_one_clear_line(unreachable_env: dict[str, str]) -> None:
    done = run_cli("chat", "--db", ":memory:", env={**unreachable_env,
                   "MEDIATOR_MAX_QUESTIONS": "two"}, stdin="hi\n")  # fmt: skip
    assert done.returncode == 2
    assert "MEDIATOR_MAX_QUESTIONS='two' is not a whole number" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_an_eval_on_an_unreachable_endpoint_stops_at_once_with_one_message(
    unreachable_env: dict[str, str], tmp_path: Path
) -> None:
    # Named models: the endpoint is first needed by a conversation, not asked for its model.
    named = {**unreachable_env, "MEDIATOR_MODEL": "m", "MEDIATOR_ASSISTANT_MODEL": "m"}
    done = run_cli("eval", "--tasks", "corrections", "--limit", "4", "--settings", "FULL,SHARDED",
                   "--components", "none", "--offline", "--out", str(tmp_path), "--run", "down",
                   env=named)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join(done.stdout.split())  # Rich wraps long lines
    assert "No conversation reached it; nothing was recorded" in said
    assert said.count("Cannot reach the model endpoint") == 1
    assert not (tmp_path / "down" / "conversations.jsonl").exists()


def test_an_eval_with_no_model_named_stops_before_any_conversation(
    unreachable_env: dict[str, str], tmp_path: Path
) -> None:
    done = run_cli("eval", "--tasks", "corrections", "--limit", "1", "--settings", "FULL",
                   "--components", "none", "--offline", "--out", str(tmp_path), "--run", "down",
                   env=unreachable_env)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join(done.stdout.split())
    assert said.count("Cannot reach the model endpoint") == 1 and "MEDIATOR_MODEL" in said
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "down" / "conversations.jsonl").exists()
