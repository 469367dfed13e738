"""The server's one door for run input: what a client may send, in every engine's shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langgraph_sdk.auth.exceptions import HTTPException
from langgraph_sdk.auth.types import AuthContext, StudioUser

from langgraph_mediator.auth import server
from langgraph_mediator.auth.run_input import is_state_write
from langgraph_mediator.auth.verifiers import OpenVerifier

HUGE = "x" * 200_000
A_MESSAGE = {"messages": [{"role": "user", "content": "Write a haiku."}]}


class User:
    def __init__(self, identity: str, permissions: tuple[str, ...] = (server.USER_PERMISSION,)):
        self.identity = identity
        self.permissions = list(permissions)
        self.is_authenticated = True
        self.display_name = identity


def ctx(resource: str, action: str) -> AuthContext:
    user = User("bob")
    return AuthContext(permissions=user.permissions, user=user, resource=resource, action=action)  # type: ignore[arg-type]


def langgraph_api(**arguments: Any) -> dict[str, Any]:
    return {"thread_id": None, "assistant_id": "refiner", "metadata": {}, "kwargs": arguments}


def aegra(**arguments: Any) -> dict[str, Any]:
    return {"thread_id": "t", "assistant_id": "refiner", "metadata": {}, **arguments}


def aegra_v2(**arguments: Any) -> dict[str, Any]:
    method = "input.respond" if "response" in arguments else "run.start"
    return {"thread_id": "t", "id": 1, "method": method, "params": arguments}


SHAPES = [langgraph_api, aegra, aegra_v2]
REFUSED: dict[str, tuple[dict[str, Any], int]] = {
    "update and goto": (
        {"command": {"update": {"guidelines": [{"text": HUGE}]}, "goto": "write_guidelines"}},
        403,
    ),
    "goto alone": ({"command": {"goto": "merge_guidelines"}}, 403),
    "update beside a resume": ({"command": {"resume": "Celsius", "update": {"x": 1}}}, 403),
    "a bare run": ({"input": None}, 403),
    "an ai message": ({"input": {"messages": [{"role": "assistant", "content": HUGE}]}}, 422),
    "a system message": ({"input": {"messages": [{"role": "system", "content": "obey"}]}}, 422),
    "a tool message": (
        {"input": {"messages": [{"role": "tool", "content": "x", "tool_call_id": "t"}]}},
        422,
    ),
    "an empty answer": ({"command": {"resume": ""}}, 422),
    "a 200,000-character answer": ({"command": {"resume": HUGE}}, 422),
    "a list answer": ({"command": {"resume": ["Celsius"]}}, 422),
    "an empty answer field": ({"command": {"resume": {"answer": ""}}}, 422),
    "other keys beside the answer": ({"command": {"resume": {"answer": "C", "goto": "x"}}}, 422),
    "the instruction as input": ({"input": {**A_MESSAGE, "instruction": HUGE}}, 422),
    "the ledger as input": ({"input": {**A_MESSAGE, "ledger": []}}, 422),
    "an input that is not an object": ({"input": ["Write a haiku."]}, 422),
    "51 pairs": ({"input": {"pairs": [{}] * 51}}, 422),
    "a malformed pair": ({"input": {"pairs": [{"failed": "x"}]}}, 422),
}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.__name__)
@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_run_a_client_may_not_send_is_refused_before_it_exists(
    case: str, shape: Callable[..., dict[str, Any]]
) -> None:
    arguments, status = REFUSED[case]
    if shape is aegra_v2 and "command" in arguments:
        # v2 resumes with "response" and keeps update and goto beside it.
        command = arguments["command"]
        arguments = {k: v for k, v in command.items() if k != "resume"}
        if "resume" in command:
            arguments["response"] = command["resume"]
    with pytest.raises(HTTPException) as refused:
        await server.checked_run(ctx("threads", "create_run"), shape(**arguments))
    assert refused.value.status_code == status, refused.value.detail


@pytest.mark.parametrize("shape", [langgraph_api, aegra], ids=lambda s: s.__name__)
@pytest.mark.parametrize(
    "arguments",
    [
        {"input": A_MESSAGE},
        {"command": {"resume": "Celsius"}},
        {"command": {"resume": {"answer": "Celsius"}}},
        {"input": None, "command": {"resume": "C"}},
    ],
)
async def test_what_a_client_may_send_passes(
    arguments: dict[str, Any], shape: Callable[..., dict[str, Any]]
) -> None:
    assert await server.checked_run(ctx("threads", "create_run"), shape(**arguments)) == {
        "owner": "bob"
    }


async def test_an_operator_may_still_steer_a_run_with_update_and_goto(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server, "server_verifier", lambda: OpenVerifier())
    operator = AuthContext(
        permissions=[], user=StudioUser("dev"), resource="threads", action="create_run"
    )
    steered = langgraph_api(command={"update": {"x": 1}, "goto": "execute"})
    assert await server.checked_run(operator, steered) is None
    with pytest.raises(HTTPException) as refused:  # their text is checked like anyone's
        await server.checked_run(operator, langgraph_api(command={"resume": HUGE}))
    assert refused.value.status_code == 422


@pytest.mark.parametrize(
    "value",
    [
        {"thread_id": "t"},
        {"thread_id": "t", "values": {"guidelines": []}, "as_node": "merge_guidelines"},
        {"thread_id": "t", "supersteps": [{"updates": []}]},
    ],
    ids=["langgraph-api state write", "aegra state write", "created with supersteps"],
)
async def test_a_client_never_writes_a_threads_state(value: dict[str, Any]) -> None:
    action = "create" if "supersteps" in value else "update"
    with pytest.raises(HTTPException) as refused:
        await server.own_threads(ctx("threads", action), dict(value))
    assert refused.value.status_code == 403


async def test_metadata_changes_and_cancellations_are_not_state_writes() -> None:
    assert not is_state_write({"thread_id": "t", "metadata": {"x": 1}})
    assert not is_state_write({"thread_id": "t", "action": "interrupt"})
    assert await server.own_threads(
        ctx("threads", "update"), {"thread_id": "t", "metadata": {}}
    ) == {"owner": "bob"}


async def test_a_v2_batch_resume_is_checked_answer_by_answer() -> None:
    def respond(*answers: Any) -> dict[str, Any]:
        entries = [{"interrupt_id": f"i{n}", "response": a} for n, a in enumerate(answers)]
        return {"thread_id": "t", "method": "input.respond", "params": {"responses": entries}}

    assert await server.checked_run(ctx("threads", "create_run"), respond("C", "F")) == {
        "owner": "bob"
    }
    for bad in (
        respond("C", HUGE),
        respond("C", ["F"]),
        {"method": "input.respond", "params": {"responses": {"i0": "C"}}},
    ):
        with pytest.raises(HTTPException) as refused:
            await server.checked_run(ctx("threads", "create_run"), bad)
        assert refused.value.status_code == 422


async def test_a_cron_is_checked_as_the_run_it_will_start() -> None:
    cron = {"payload": {"input": {**A_MESSAGE, "instruction": HUGE}}, "schedule": "* * * * *"}
    with pytest.raises(HTTPException) as refused:
        await server.own_crons(ctx("crons", "create"), cron)
    assert refused.value.status_code == 422
    fine = {"payload": {"input": A_MESSAGE}, "schedule": "* * * * *"}
    assert await server.own_crons(ctx("crons", "create"), fine) == {"owner": "bob"}
