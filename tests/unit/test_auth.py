"""Custom auth without a server: verifiers, identity binding, run-context checks, the Store rule.

The same rules run end to end through ``langgraph dev`` in
``tests/server/test_server_security.py``; here each is checked on its own,
with the cases a server test cannot reach cheaply (expired or forged JWTs, a
tampered token file, a state edited between Refiner nodes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from langgraph.runtime import ServerInfo
from langgraph_sdk import Auth
from langgraph_sdk.auth.types import AuthContext, StudioUser

from langgraph_mediator.auth import server
from langgraph_mediator.auth.verifiers import (
    AuthNotConfigured,
    ClosedVerifier,
    InvalidToken,
    JwtVerifier,
    OpenVerifier,
    TokenFileVerifier,
    add_token,
    token_hash,
    verifier_from_env,
)
from langgraph_mediator.errors import RunContextError, UserMismatchError
from langgraph_mediator.identity import ANY_USER_PERMISSION, bound_user_id, caller_identity
from langgraph_mediator.state import MediatorContext, RefinerContext

HTTPException = Auth.exceptions.HTTPException


class User:
    """A user as the server hands it to handlers and runs (identity and permissions)."""

    def __init__(self, identity: str, permissions: tuple[str, ...] = ("mediator:self",)) -> None:
        self.identity, self.permissions = identity, list(permissions)
        self.is_authenticated, self.display_name = True, identity


def on_server(user: Any = None, context: Any = None) -> Any:
    """A runtime as LangGraph Server builds it for a run (``server_info`` set)."""
    info = ServerInfo(assistant_id="a", graph_id="mediator", user=user)
    return SimpleNamespace(context=context, server_info=info, store=None)


# --- verifiers ---------------------------------------------------------------------------------


def test_a_token_file_keeps_hashes_only_and_verifies_each_users_token(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    alice, bob = add_token(path, "alice"), add_token(path, "bob")
    second = add_token(path, "alice")
    text = path.read_text()
    assert alice not in text and bob not in text and token_hash(alice) in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    verifier = TokenFileVerifier(path)
    assert [verifier.verify(t) for t in (alice, bob, second)] == ["alice", "bob", "alice"]
    with pytest.raises(InvalidToken, match="unknown token"):
        verifier.verify("guess")


def test_a_token_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    add_token(path, "alice")
    verifier = TokenFileVerifier(path)
    late = add_token(path, "carol")
    assert verifier.verify(late) == "carol"


@pytest.mark.parametrize(
    ("content", "names"),
    [
        ('{"alice": ["plain-token"]}', "never tokens"),
        ('["alice"]', "must hold an object"),
        ("{not json", "not a JSON token file"),
        ('{"../etc": ["sha256:' + "0" * 64 + '"]}', "not a valid user id"),
    ],
)
def test_a_malformed_token_file_refuses_with_what_is_wrong(
    tmp_path: Path, content: str, names: str
) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(content)
    with pytest.raises(AuthNotConfigured, match=names):
        TokenFileVerifier(path).verify("anything")


def test_an_identity_must_be_a_usable_user_id(tmp_path: Path) -> None:
    with pytest.raises(InvalidToken):
        add_token(tmp_path / "t.json", "alice\nadmin")


SECRET = "a-shared-secret-of-at-least-32-bytes!!"


def hs256(claims: dict[str, Any], key: str = SECRET) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def test_a_jwt_verifier_accepts_a_valid_token_and_names_what_is_wrong_with_others() -> None:
    verifier = JwtVerifier(key=SECRET, algorithms=["HS256"], audience="mediator")
    future = int(time.time()) + 600
    assert verifier.verify(hs256({"sub": "alice", "exp": future, "aud": "mediator"})) == "alice"
    bad = {
        "expired": hs256({"sub": "alice", "exp": int(time.time()) - 10, "aud": "mediator"}),
        "forged": hs256({"sub": "alice", "exp": future, "aud": "mediator"}, "another-secret-" * 3),
        "other audience": hs256({"sub": "alice", "exp": future, "aud": "someone-else"}),
        "no expiry": hs256({"sub": "alice", "aud": "mediator"}),
        "no subject": hs256({"exp": future, "aud": "mediator"}),
        "bad subject": hs256({"sub": "a/../b", "exp": future, "aud": "mediator"}),
        "unsigned": jwt.encode({"sub": "alice", "exp": future}, None, algorithm="none"),
        "not a jwt": "abc.def",
    }
    for name, token in bad.items():
        with pytest.raises(InvalidToken) as refused:
            verifier.verify(token)
        assert token not in str(refused.value), f"{name}: the message echoes the token"


def test_a_jwt_verifier_checks_tokens_of_an_identity_provider_by_public_key() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    token = jwt.encode({"sub": "bob", "exp": int(time.time()) + 60}, private, algorithm="RS256")
    assert JwtVerifier(key=public, algorithms=["RS256"]).verify(token) == "bob"
    with pytest.raises(InvalidToken):  # the classic confusion: HS256 keyed with the public key
        JwtVerifier(key=public, algorithms=["RS256"]).verify(forged_hs256(public, "bob"))


def forged_hs256(secret: str, subject: str) -> str:
    """An HS256 JWT signed by hand (PyJWT itself refuses to sign with a public key)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps({"sub": subject, "exp": int(time.time()) + 60}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{part(signature)}"


@pytest.mark.parametrize(
    ("env", "kind"),
    [
        ({}, ClosedVerifier),
        ({"MEDIATOR_AUTH": "none"}, OpenVerifier),
        ({"MEDIATOR_AUTH_TOKENS_FILE": "/tmp/x.json"}, TokenFileVerifier),
        ({"MEDIATOR_AUTH_JWT_SECRET": SECRET}, JwtVerifier),
        ({"MEDIATOR_AUTH_JWT_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----"}, JwtVerifier),
    ],
)
def test_the_environment_chooses_the_verifier(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], kind: type
) -> None:
    for name in [k for k in os.environ if k.startswith("MEDIATOR_AUTH")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert isinstance(verifier_from_env(), kind)


def test_with_no_verifier_every_request_is_refused_with_the_settings_to_set() -> None:
    with pytest.raises(AuthNotConfigured, match="MEDIATOR_AUTH_TOKENS_FILE"):
        ClosedVerifier().verify("anything")


async def test_authenticate_refuses_missing_malformed_and_unknown_tokens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.json"
    token = add_token(path, "alice")
    monkeypatch.setattr(server, "server_verifier", lambda: TokenFileVerifier(path))
    assert (await server.authenticate({b"authorization": f"Bearer {token}".encode()}))[
        "identity"] == "alice", "langgraph-api passes ASGI headers"  # fmt: skip
    assert (await server.authenticate({"Authorization": f"Bearer {token}"}))[
        "identity"] == "alice", "Aegra passes a dict of str"  # fmt: skip
    for header in (None, "", "Bearer ", f"Basic {token}", "Bearer wrong"):
        with pytest.raises(HTTPException) as refused:
            await server.authenticate(
                None if header is None else {b"authorization": header.encode()}
            )
        assert refused.value.status_code == 401
    with pytest.raises(HTTPException):
        await server.authenticate({b"x-authorization": f"Bearer {token}".encode()})


# --- identity ----------------------------------------------------------------------------------


def test_a_run_acts_as_its_caller_and_a_claim_of_another_user_is_an_error() -> None:
    alice = ServerInfo(assistant_id="a", graph_id="g", user=User("alice"))
    assert caller_identity(alice) == "alice"
    assert bound_user_id("alice", alice) == "alice"
    assert bound_user_id("default", alice, unclaimed="default") == "alice"
    with pytest.raises(UserMismatchError, match="authenticated as 'alice'"):
        bound_user_id("bob", alice, unclaimed="default")


@pytest.mark.parametrize(
    "user", [None, User("ops", (ANY_USER_PERMISSION,)), StudioUser("langgraph-studio-user")]
)
def test_without_auth_operators_and_studio_name_the_user(user: Any) -> None:
    info = ServerInfo(assistant_id="a", graph_id="g", user=user)
    assert bound_user_id("carol", info) == "carol"
    assert bound_user_id("carol", None) == "carol"


def test_the_mediator_context_takes_the_callers_identity() -> None:
    context = MediatorContext.for_run(on_server(User("alice"), MediatorContext()))
    assert context.user_id == "alice"
    with pytest.raises(UserMismatchError):
        MediatorContext.for_run(on_server(User("alice"), MediatorContext(user_id="bob")))


# --- run context -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "env"),
    [
        ("base_url", "http://attacker.example/v1", "OPENAI_BASE_URL"),
        ("api_key", "sk-mine", "OPENAI_API_KEY"),
        ("mediator_model", "gpt-4-32k", "MEDIATOR_MODEL"),
        ("assistant_model", "gpt-4-32k", "MEDIATOR_ASSISTANT_MODEL"),
        ("request_timeout", 0.001, "MEDIATOR_TIMEOUT"),
        ("max_retries", 50, "MEDIATOR_MAX_RETRIES"),
        ("max_tokens", 100_000, "MEDIATOR_MAX_TOKENS"),
        ("max_message_chars", 10**9, "MEDIATOR_MAX_MESSAGE_CHARS"),
    ],
)
def test_a_server_run_may_not_set_an_endpoint_setting(field: str, value: Any, env: str) -> None:
    context = MediatorContext(**{field: value})
    with pytest.raises(RunContextError) as refused:
        MediatorContext.for_run(on_server(User("alice"), context))
    assert f"{field} ({env})" in str(refused.value) and str(value) not in str(refused.value)
    assert MediatorContext.for_run(SimpleNamespace(context=context, server_info=None)) is context


def test_a_server_run_may_set_the_per_run_fields() -> None:
    context = MediatorContext(clarification_policy="never", clarification_mode="interrupt",
                              max_questions_per_task=1, single_task=True, temperature=0.3,
                              assistant_input="instruction_and_history")  # fmt: skip
    assert MediatorContext.for_run(on_server(User("alice"), context)).single_task is True
    assert set(MediatorContext.per_run_fields()) == {
        "user_id", "clarification_policy", "clarification_mode", "max_questions_per_task",
        "assistant_input", "single_task", "temperature", "assistant_environment",
    }  # fmt: skip
    with pytest.raises(RunContextError, match="refiner_model"):
        RefinerContext.for_run(on_server(User("alice"), RefinerContext(refiner_model="x")))


def test_a_question_budget_is_bounded() -> None:
    with pytest.raises(ValueError, match="0..20"):
        MediatorContext(max_questions_per_task=10_000)


# --- the run-input check and the Store rule ---------------------------------------------------


def ctx(resource: str, action: str, user: Any = None) -> AuthContext:
    user = user or User("alice")
    return AuthContext(permissions=list(getattr(user, "permissions", [])), user=user,
                       resource=resource, action=action)  # type: ignore[arg-type]  # fmt: skip


def run_value(**kwargs: Any) -> dict[str, Any]:
    """A new run as langgraph-api describes it to ``create_run`` handlers."""
    return {"thread_id": None, "metadata": {}, "kwargs": kwargs}


def aegra_run_value(**kwargs: Any) -> dict[str, Any]:
    """The same run as Aegra describes it: the run's arguments at the top level."""
    return {"thread_id": "t", "assistant_id": "mediator", "metadata": {}, **kwargs}


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"input": {"messages": [{"role": "user", "content": ""}]}}, 422),
        ({"input": {"messages": [{"role": "user", "content": "x" * 1_000_000}]}}, 422),
        ({"input": {"messages": [{"type": "human", "content": [{"type": "text", "text": " "}]}]}},
         422),
        ({"command": {"resume": "   "}}, 422),
        ({"input": {"messages": [{"role": "user", "content": "hi"}]},
          "context": {"base_url": "http://x/v1"}}, 422),
        ({"input": {"messages": "hi"}, "context": {"user_id": "bob"}}, 403),
        ({"input": {"user_id": "bob", "pairs": []}}, 403),
    ],
)  # fmt: skip
@pytest.mark.parametrize("shape", [run_value, aegra_run_value], ids=["langgraph-api", "aegra"])
async def test_a_run_is_refused_before_it_exists(
    kwargs: dict[str, Any], status: int, shape: Callable[..., dict[str, Any]]
) -> None:
    with pytest.raises(HTTPException) as refused:
        await server.checked_run(ctx("threads", "create_run"), shape(**kwargs))
    assert refused.value.status_code == status


async def test_a_run_cannot_hide_its_context_in_the_other_shape() -> None:
    both = {**run_value(input={"messages": "hi"}), "context": {"user_id": "bob"}}
    with pytest.raises(HTTPException) as refused:
        await server.checked_run(ctx("threads", "create_run"), both)
    assert refused.value.status_code == 403


async def test_an_accepted_run_is_stamped_with_its_caller() -> None:
    value = run_value(input={"messages": [{"role": "user", "content": "hi"}]},
                      context={"user_id": "alice", "single_task": True})  # fmt: skip
    value["metadata"] = {"owner": "bob", "created_by": "system"}
    assert await server.checked_run(ctx("threads", "create_run"), value) == {"owner": "alice"}
    assert value["metadata"] == {"owner": "alice"}


@pytest.mark.parametrize(
    ("action", "namespace", "allowed"),
    [
        ("get", ("guidelines", "alice"), True),
        ("search", ("guidelines", "alice", "versions"), True),
        ("delete", ("guidelines", "alice"), True),
        ("get", ("guidelines", "bob"), False),
        ("search", ("guidelines", "bob", "versions"), False),
        ("delete", ("guidelines", "bob"), False),
        ("get", ("notes", "alice"), False),
        ("put", ("guidelines", "alice"), False),
    ],
)
async def test_the_store_rule(action: str, namespace: tuple[str, ...], allowed: bool) -> None:
    value: dict[str, Any] = {"namespace": namespace, "key": "current"}
    if allowed:
        await server.own_guidelines_only(ctx("store", action), value)
    else:
        with pytest.raises(HTTPException) as refused:
            await server.own_guidelines_only(ctx("store", action), value)
        assert refused.value.status_code == 403


@pytest.mark.parametrize(
    ("action", "field"), [("search", "namespace_prefix"), ("list_namespaces", "prefix")]
)
async def test_the_store_rule_reads_aegras_request_bodies(action: str, field: str) -> None:
    await server.own_guidelines_only(ctx("store", action), {field: ["guidelines", "alice"]})
    with pytest.raises(HTTPException) as refused:
        await server.own_guidelines_only(ctx("store", action), {field: ["guidelines", "bob"]})
    assert refused.value.status_code == 403


async def test_a_wide_store_search_is_narrowed_to_the_callers_namespace() -> None:
    value: dict[str, Any] = {"namespace": ("guidelines",)}
    await server.own_guidelines_only(ctx("store", "search"), value)
    assert value["namespace"] == ("guidelines", "alice")
    value = {"namespace": ()}
    await server.own_guidelines_only(ctx("store", "list_namespaces"), value)
    assert value["namespace"] == ("guidelines", "alice")


async def test_studio_is_refused_unless_the_server_verified_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    studio = StudioUser("langgraph-studio-user")
    monkeypatch.delenv("LANGGRAPH_AUTH_TYPE", raising=False)
    monkeypatch.delenv("MEDIATOR_AUTH_TRUST_STUDIO", raising=False)
    monkeypatch.setattr(server, "server_verifier", ClosedVerifier)
    with pytest.raises(HTTPException, match="MEDIATOR_AUTH_TRUST_STUDIO"):
        await server.own_threads(ctx("threads", "search", studio), {})
    monkeypatch.setenv("LANGGRAPH_AUTH_TYPE", "langsmith")
    assert await server.own_threads(ctx("threads", "search", studio), {}) is None


def test_the_shipped_langgraph_json_turns_auth_on() -> None:
    config = json.loads((Path(__file__).parents[2] / "langgraph.json").read_text())
    assert config["auth"]["path"] == "langgraph_mediator.auth.server:auth"
    assert not config["auth"].get("disable_studio_auth")


def test_the_token_command_prints_a_token_once_and_stores_its_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from langgraph_mediator.cli import main

    path = tmp_path / "tokens.json"
    assert main(["token", "alice", "--file", str(path)]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert TokenFileVerifier(path).verify(token) == "alice" and token not in path.read_text()
    assert main(["token", "[red]alice", "--file", str(path)]) == 2
    assert "[red]alice" in capsys.readouterr().out, "the bad name is printed as text"


async def test_with_auth_none_every_caller_is_an_operator_who_sees_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server, "server_verifier", OpenVerifier)
    user = await server.authenticate(None)
    assert user["permissions"] == [ANY_USER_PERMISSION]
    operator = User(user["identity"], tuple(user["permissions"]))
    assert await server.own_threads(ctx("threads", "search", operator), {}) is None
    with pytest.raises(HTTPException, match="refiner graph"):
        await server.own_guidelines_only(ctx("store", "put", operator), {"namespace": ()})
    run = MediatorContext.for_run(on_server(operator, MediatorContext(user_id="carol")))
    assert run.user_id == "carol"
