"""The origin guard: no page but Studio's reaches the server, preflights included."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from langgraph_mediator.auth import origins
from langgraph_mediator.auth.origins import OriginGuard, allowed_origins

STUDIO = "https://smith.langchain.com"
EVIL = "https://evil.example"


async def everything(request: Request) -> JSONResponse:
    return JSONResponse({"threads": ["alice's"]})


def server(monkeypatch: pytest.MonkeyPatch, **environ: str) -> TestClient:
    """The guard in front of CORS, as langgraph-api orders a custom app's middleware."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    app = Starlette(
        routes=[Route("/threads/search", everything, methods=["GET", "POST"])],
        middleware=[
            Middleware(OriginGuard),
            Middleware(
                CORSMiddleware, allow_origins=[STUDIO], allow_methods=["*"], allow_headers=["*"]
            ),
        ],
    )
    return TestClient(app)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": EVIL, "x-auth-scheme": "langsmith"},
        {"Origin": EVIL, "Content-Type": "text/plain"},
        {"Origin": "null"},
        {"Origin": STUDIO + ".evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"x-auth-scheme": "langsmith"},
    ],
    ids=[
        "other page",
        "other page as Studio",
        "text/plain",
        "null origin",
        "look-alike",
        "cross-site without origin",
        "Studio header without origin",
    ],
)
def test_a_request_from_another_page_is_refused_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    answer = server(monkeypatch).post("/threads/search", headers=headers, content="{}")
    assert answer.status_code == 403
    assert "alice" not in answer.text
    assert "access-control-allow-origin" not in answer.headers


def test_a_preflight_from_another_page_gets_no_cors_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = server(monkeypatch).options(
        "/threads/search",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-auth-scheme",
        },
    )
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers


def test_studio_and_clients_without_a_page_get_through(monkeypatch: pytest.MonkeyPatch) -> None:
    client = server(monkeypatch)
    studio = client.post(
        "/threads/search", headers={"Origin": STUDIO, "x-auth-scheme": "langsmith"}
    )
    assert studio.status_code == 200
    assert studio.headers["access-control-allow-origin"] == STUDIO
    assert client.post("/threads/search").status_code == 200  # the SDK, curl: no Origin


def test_a_studio_header_without_a_page_passes_where_langsmith_verifies_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = server(monkeypatch, LANGGRAPH_AUTH_TYPE="langsmith")
    assert client.post("/threads/search", headers={"x-auth-scheme": "langsmith"}).status_code == 200


def test_the_allowed_origins_can_be_replaced_but_never_by_a_wildcard() -> None:
    mine = {"MEDIATOR_ALLOWED_ORIGINS": "https://langsmith.example.com/, https://b.example"}
    assert allowed_origins(mine) == {"https://langsmith.example.com", "https://b.example"}
    assert allowed_origins({}) == set(origins.STUDIO_ORIGINS)
    with pytest.raises(ValueError, match="may not contain"):
        allowed_origins({"MEDIATOR_ALLOWED_ORIGINS": "*"})


def test_both_servers_custom_apps_carry_the_guard() -> None:
    for app in (origins.app, origins.aegra_app):
        assert any(m.cls is OriginGuard for m in app.user_middleware)
