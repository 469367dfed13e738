"""Endpoint faults through the real ChatOpenAI client: down, 401, 500, slower than the timeout.

Each case drives a real :class:`MediatorSession` over ``build_mediator_graph`` (threads in
a SQLite file) against :class:`OpenAIStub`, a real HTTP server on 127.0.0.1. After one
good turn the endpoint fails; the test counts the HTTP attempts (at the stub and at the
client's transport), checks the error is :class:`ModelEndpointError` naming the setting to
change, times the failure against the retry and timeout settings, compares the thread with
what it held before (only the new user message is added, as ``MediatorSession.send``
documents), restores the endpoint and times the first turn that completes.

"Endpoint down" runs the stub in a child process (this file run as a script) and kills it:
a stopped in-process stub goes on serving the connections a client already keeps alive,
a dead process does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from openai_stub import OpenAIStub, Reply, ToolCall, last_user_text, tool_name

from langgraph_mediator import MediatorContext, ModelEndpointError, build_mediator_graph
from langgraph_mediator.persistence import Persistence, open_persistence
from langgraph_mediator.session import MediatorSession

Record = Callable[..., None]

THREAD = "faulty-endpoint-thread"
API_KEY = "sk-test-do-not-echo-0123456789"
ANSWER = "20 degrees Celsius is 68 degrees Fahrenheit."
GOAL = "Convert a temperature."
FIRST, FAILED, NEXT = "Convert 20 degrees.", "The input is in Celsius.", "Round to whole degrees."

MAX_RETRIES = 2
REQUEST_TIMEOUT = 10.0
"""Generous for the cases where the stub answers at once (the machine may be loaded)."""
SLOW_TIMEOUT = 1.0
SLOW_SECONDS = 4.0
SLACK = 2.0
"""Seconds allowed on top of the computed bound for a loaded 2-CPU machine."""


def backoff_ceiling(retries: int) -> float:
    """The longest the OpenAI client sleeps between ``retries`` retries.

    openai-python waits ``0.5 * 2**n`` seconds before retry ``n`` (capped at 8 s)
    less up to 25 % jitter, unless the server sends ``Retry-After`` (the stub does not).
    """
    return sum(min(0.5 * 2**n, 8.0) for n in range(retries))


def pending_message(body: dict[str, Any]) -> str:
    """The user's words in a Mediator request (between the ``<<<`` ``>>>`` fences)."""
    text = last_user_text(body)
    return text.rsplit("NEW USER MESSAGE: <<<", 1)[-1].removesuffix(">>>")


def respond(body: dict[str, Any]) -> Reply:
    """A well-behaved endpoint: the Mediator keeps the message as a requirement; fixed answer."""
    if tool_name(body) != "MediatorReading":
        return ANSWER
    first = "Current task: (none yet)" in last_user_text(body)
    return ToolCall("MediatorReading", {
        "task_type": "math", "goal": GOAL, "feedback": "new_task" if first else "new_information",
        "new_requirements": [pending_message(body)],
    })  # fmt: skip


def fail_after_the_mediator(stub: OpenAIStub) -> Callable[[dict[str, Any]], Reply]:
    """A responder that answers the Mediator, then fails every call (the Assistant's first)."""

    def reply(body: dict[str, Any]) -> Reply:
        answer = respond(body)
        if tool_name(body) == "MediatorReading":
            stub.fault = "error"
        return answer

    return reply


def serve_until_killed(port: int) -> None:
    """Child-process entry: serve :func:`respond` on ``port``, print the URL, never return."""
    stub = OpenAIStub(respond).start(port)
    print(stub.base_url, flush=True)
    while True:
        time.sleep(3600)


class StubProcess:
    """OpenAIStub in a child process: killing it takes the endpoint down for good."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self, port: int = 0) -> str:
        """Start serving (``port=0``: a free one) and return the ``/v1`` URL."""
        paths = [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, __file__, str(port)], stdout=subprocess.PIPE, stderr=log,
                text=True, env=env,
            )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"the stub process did not start: {self.log.read_text()}")
        self.base_url = line
        return line

    @property
    def port(self) -> int:
        """The port the endpoint serves (and is restarted) on."""
        return httpx.URL(self.base_url).port or 0

    def kill(self) -> None:
        """SIGKILL the endpoint: its listening socket and open connections close at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
async def persistence(tmp_path: Path) -> AsyncIterator[Persistence]:
    """Threads and guidelines in a real SQLite file."""
    async with open_persistence(str(tmp_path / "threads.sqlite")) as opened:
        yield opened


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    """A healthy in-process endpoint; tests set its ``fault``."""
    with OpenAIStub(respond, slow_seconds=SLOW_SECONDS) as running:
        yield running


@pytest.fixture
def stub_process(tmp_path: Path) -> Iterator[StubProcess]:
    """An endpoint in a child process, killed at teardown."""
    process = StubProcess(tmp_path / "stub-process.log")
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """URL of every chat request the client's transport sends: each retry is one more."""
    sent: list[str] = []
    original = httpx.AsyncHTTPTransport.handle_async_request

    async def counting(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/chat/completions"):
            sent.append(str(request.url))
        return await original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", counting)
    return sent


def session_at(
    persistence: Persistence,
    base_url: str,
    *,
    timeout: float = REQUEST_TIMEOUT,
    retries: int = MAX_RETRIES,
) -> MediatorSession:
    """A session whose Mediator and Assistant are ChatOpenAI clients of ``base_url``."""
    graph = build_mediator_graph(checkpointer=persistence.checkpointer, store=persistence.store)
    context = MediatorContext(
        user_id="alice", base_url=base_url, api_key=API_KEY, mediator_model="stub-mediator",
        assistant_model="stub-assistant", request_timeout=timeout, max_retries=retries,
        clarification_policy="when_missing",
    )  # fmt: skip
    return MediatorSession(graph, context)


def assert_thread_intact(before: dict[str, Any], after: dict[str, Any], kept: str) -> None:
    """The failed turn added its user message and changed nothing else."""
    assert after["messages"][:-1] == before["messages"]
    last = after["messages"][-1]
    assert isinstance(last, HumanMessage) and last.content == kept
    rest = {key: value for key, value in after.items() if key != "messages"}
    assert rest == {key: value for key, value in before.items() if key != "messages"}


def assert_ledger_valid(state: dict[str, Any]) -> None:
    """Ids run R1..Rn, every entry is well formed, the instruction lists what is in force."""
    ledger = state.get("ledger", [])
    assert [r["id"] for r in ledger] == [f"R{n}" for n in range(1, len(ledger) + 1)]
    for requirement in ledger:
        assert requirement["text"].strip() and 1 <= requirement["turn"] <= state["turn"]
        assert requirement["status"] in ("active", "superseded", "retracted")
        assert 1 <= requirement["task"] <= state["task_number"]
    for requirement in ledger:
        if requirement["status"] == "active" and requirement["task"] == state["task_number"]:
            assert requirement["text"].strip() in state["instruction"]


@dataclass(frozen=True)
class FaultRun:
    """What one fault case measured."""

    error: ModelEndpointError
    attempts: int
    seconds_to_error: float
    recovered_turn_seconds: float

    def figures(self, names: str) -> dict[str, object]:
        """What RELIABILITY.md shows for the case; ``names`` is what the error names."""
        return {
            "attempts": self.attempts, "max_retries": MAX_RETRIES,
            "seconds_to_error": round(self.seconds_to_error, 3), "state_intact": True,
            "recovered_turn_seconds": round(self.recovered_turn_seconds, 3), "names": names,
        }  # fmt: skip


async def run_fault_case(
    session: MediatorSession,
    attempts: list[str],
    inject: Callable[[], None],
    restore: Callable[[], None],
) -> FaultRun:
    """Good turn, fault, failed turn (thread checked), restore, recovery turn (timed)."""
    assert (await session.send(THREAD, FIRST)).reply == ANSWER
    before = await session.state(THREAD)

    inject()
    sent_before = len(attempts)
    began = time.perf_counter()
    with pytest.raises(ModelEndpointError) as caught:
        await session.send(THREAD, FAILED)
    seconds_to_error = time.perf_counter() - began
    failed_attempts = len(attempts) - sent_before
    assert_thread_intact(before, await session.state(THREAD), FAILED)

    restore()
    began = time.perf_counter()
    result = await session.send(THREAD, NEXT)
    recovered = time.perf_counter() - began
    assert result.kind == "answer" and result.reply == ANSWER
    after = await session.state(THREAD)
    assert [r["text"] for r in result.requirements] == [FIRST, f"{FAILED}\n{NEXT}"], (
        "the recovered turn reads the kept message and the new one together"
    )
    assert after["turn"] == before["turn"] + 1, "the failed turn did not count as a turn"
    assert_ledger_valid(after)
    return FaultRun(caught.value, failed_attempts, seconds_to_error, recovered)


async def test_endpoint_down_fails_fast_and_the_next_turn_completes(
    persistence: Persistence, stub_process: StubProcess, attempts: list[str], record: Record
) -> None:
    base_url = stub_process.start()
    session = session_at(persistence, base_url)
    run = await run_fault_case(
        session, attempts, inject=stub_process.kill,
        restore=lambda: stub_process.start(stub_process.port),
    )  # fmt: skip

    assert run.attempts == 1 + MAX_RETRIES, "connection errors are retried max_retries times"
    assert "Cannot reach" in str(run.error) and "OPENAI_BASE_URL" in str(run.error)
    assert base_url in str(run.error)
    assert run.seconds_to_error < backoff_ceiling(MAX_RETRIES) + SLACK
    record("endpoint down", **run.figures("OPENAI_BASE_URL"))


async def test_endpoint_refusing_the_key_fails_at_once_without_retrying(
    persistence: Persistence, stub: OpenAIStub, attempts: list[str], record: Record
) -> None:
    session = session_at(persistence, stub.base_url)
    run = await run_fault_case(
        session, attempts, inject=lambda: setattr(stub, "fault", "refuse"),
        restore=lambda: setattr(stub, "fault", "none"),
    )  # fmt: skip

    assert run.attempts == 1, "a 401 is not retried"
    assert len(stub.requests) == len(attempts) == 2 + run.attempts + 2, "good, failed, recovered"
    assert "refused the API key" in str(run.error) and "OPENAI_API_KEY" in str(run.error)
    assert API_KEY not in str(run.error), "the key itself is never echoed"
    assert run.seconds_to_error < SLACK
    record("endpoint refuses (401)", **run.figures("OPENAI_API_KEY"))


async def test_endpoint_error_is_retried_max_retries_times_then_reported(
    persistence: Persistence, stub: OpenAIStub, attempts: list[str], record: Record
) -> None:
    session = session_at(persistence, stub.base_url)
    run = await run_fault_case(
        session, attempts, inject=lambda: setattr(stub, "fault", "error"),
        restore=lambda: setattr(stub, "fault", "none"),
    )  # fmt: skip

    assert run.attempts == 1 + MAX_RETRIES, "a 5xx is retried max_retries times, no more"
    assert len(stub.requests) == len(attempts) == 2 + run.attempts + 2, "good, failed, recovered"
    assert "HTTP 500" in str(run.error) and stub.base_url in str(run.error)
    assert run.seconds_to_error < backoff_ceiling(MAX_RETRIES) + SLACK
    record("endpoint error (500)", **run.figures("HTTP 500"))


async def test_endpoint_slower_than_the_timeout_is_abandoned_on_every_attempt(
    persistence: Persistence, stub: OpenAIStub, attempts: list[str], record: Record
) -> None:
    session = session_at(persistence, stub.base_url, timeout=SLOW_TIMEOUT)
    run = await run_fault_case(
        session, attempts, inject=lambda: setattr(stub, "fault", "slow"),
        restore=lambda: setattr(stub, "fault", "none"),
    )  # fmt: skip

    assert run.attempts == 1 + MAX_RETRIES, "a timeout is retried max_retries times, no more"
    assert len(stub.requests) == len(attempts) == 2 + run.attempts + 2, "good, failed, recovered"
    assert "did not answer in time" in str(run.error) and "MEDIATOR_TIMEOUT" in str(run.error)
    waited = run.attempts * SLOW_TIMEOUT
    assert waited * 0.95 <= run.seconds_to_error, "each attempt waits the full timeout"
    assert run.seconds_to_error < waited + backoff_ceiling(MAX_RETRIES) + SLACK
    assert run.seconds_to_error < SLOW_SECONDS * run.attempts, "no attempt waited for the reply"
    record(
        "endpoint slower than timeout",
        **run.figures("MEDIATOR_TIMEOUT"),
        request_timeout=SLOW_TIMEOUT,
        endpoint_delay=SLOW_SECONDS,
    )


@pytest.mark.parametrize("retries", [0, 1])
async def test_attempts_follow_the_max_retries_setting(
    persistence: Persistence, stub: OpenAIStub, attempts: list[str], retries: int
) -> None:
    session = session_at(persistence, stub.base_url, retries=retries)
    stub.fault = "error"
    began = time.perf_counter()
    with pytest.raises(ModelEndpointError, match="HTTP 500"):
        await session.send(THREAD, FIRST)
    assert len(attempts) == len(stub.requests) == 1 + retries
    assert time.perf_counter() - began < backoff_ceiling(retries) + SLACK


@pytest.mark.parametrize(
    ("fails", "cut_at"), [("mediator", "detect_intent"), ("assistant", "execute")]
)
async def test_finish_turn_completes_a_turn_cut_off_by_the_endpoint_once(
    persistence: Persistence, stub: OpenAIStub, fails: str, cut_at: str
) -> None:
    session = session_at(persistence, stub.base_url, retries=0)
    await session.send(THREAD, FIRST)
    if fails == "mediator":
        stub.fault = "error"
    else:
        stub.responder = fail_after_the_mediator(stub)
    with pytest.raises(ModelEndpointError, match="HTTP 500"):
        await session.send(THREAD, FAILED)
    assert await session.unfinished_turn(THREAD) == (cut_at,)
    stub.fault, stub.responder = "none", respond

    result = await session.finish_turn(THREAD)
    assert result is not None and result.reply == ANSWER
    values = await session.state(THREAD)
    assert values["turn"] == 2 and [r["text"] for r in values["ledger"]] == [FIRST, FAILED]
    assert [type(m) for m in values["messages"]] == [HumanMessage, AIMessage] * 2
    assert await session.unfinished_turn(THREAD) == ()
    assert_ledger_valid(values)


async def test_an_http_500_message_names_a_setting_to_change(
    persistence: Persistence, stub: OpenAIStub
) -> None:
    session = session_at(persistence, stub.base_url, retries=0)
    stub.fault = "error"
    with pytest.raises(ModelEndpointError) as caught:
        await session.send(THREAD, FIRST)
    assert any(name in str(caught.value) for name in ("OPENAI_BASE_URL", "MEDIATOR_MAX_RETRIES"))


@pytest.mark.parametrize("fails", ["mediator", "assistant"])
async def test_the_next_send_redoes_a_cut_off_turn_once_with_both_messages(
    persistence: Persistence, stub: OpenAIStub, fails: str
) -> None:
    session = session_at(persistence, stub.base_url, retries=0)
    await session.send(THREAD, FIRST)
    if fails == "mediator":
        stub.fault = "error"
    else:
        stub.responder = fail_after_the_mediator(stub)
    with pytest.raises(ModelEndpointError, match="HTTP 500"):
        await session.send(THREAD, FAILED)
    stub.fault, stub.responder = "none", respond

    result = await session.send(THREAD, NEXT)
    assert result.reply == ANSWER
    values = await session.state(THREAD)
    assert values["turn"] == 2, "the cut-off turn is not counted twice"
    assert [r["text"] for r in values["ledger"]] == [FIRST, f"{FAILED}\n{NEXT}"]
    assert [m.content for m in values["messages"]] == [FIRST, ANSWER, FAILED, NEXT, ANSWER]
    assert await session.unfinished_turn(THREAD) == ()
    assert_ledger_valid(values)


if __name__ == "__main__":
    serve_until_killed(int(sys.argv[1]))
