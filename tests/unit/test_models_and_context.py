"""Endpoint errors name the setting to change; the context validates and reads the environment."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import openai
import pytest

from langgraph_mediator import MediatorContext, RefinerContext
from langgraph_mediator.errors import ModelEndpointError
from langgraph_mediator.models import aguarded_call, build_chat_model, endpoint_error
from langgraph_mediator.models.local_server import LocalModelError, LocalModelServer
from langgraph_mediator.state import ModelSettings

REQUEST = httpx.Request("POST", "http://endpoint.test/v1/chat/completions")


def status_error(cls: type[openai.APIStatusError], code: int) -> openai.APIStatusError:
    return cls("failed", response=httpx.Response(code, request=REQUEST), body=None)


@pytest.mark.parametrize(
    ("exc", "setting"),
    [
        (openai.APIConnectionError(request=REQUEST), "OPENAI_BASE_URL"),
        (openai.APITimeoutError(request=REQUEST), "MEDIATOR_TIMEOUT"),
        (status_error(openai.AuthenticationError, 401), "OPENAI_API_KEY"),
        (status_error(openai.PermissionDeniedError, 403), "OPENAI_API_KEY"),
        (status_error(openai.NotFoundError, 404), "MEDIATOR_MODEL"),
        (status_error(openai.InternalServerError, 500), "HTTP 500"),
    ],
)
def test_endpoint_errors_name_the_setting(exc: Exception, setting: str) -> None:
    translated = endpoint_error(exc, "http://endpoint.test/v1")
    assert isinstance(translated, ModelEndpointError)
    assert setting in str(translated) and "http://endpoint.test/v1" in str(translated)


def test_other_errors_are_not_translated() -> None:
    assert endpoint_error(ValueError("x"), None) is None


async def test_guarded_call_raises_the_clear_error_and_times_success() -> None:
    async def down() -> None:
        raise openai.APIConnectionError(request=REQUEST)

    with pytest.raises(ModelEndpointError, match="embedded local model server"):
        await aguarded_call(down, base_url=None)

    async def up() -> str:
        return "ok"

    result, seconds = await aguarded_call(up, base_url=None)
    assert result == "ok" and seconds >= 0


def test_context_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIATOR_USER_ID", "carol")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.test/v1")
    monkeypatch.setenv("MEDIATOR_MODEL", "m1")
    monkeypatch.setenv("MEDIATOR_CLARIFY_POLICY", "never")
    monkeypatch.setenv("MEDIATOR_MAX_QUESTIONS", "5")
    monkeypatch.setenv("MEDIATOR_SINGLE_TASK", "true")
    context = MediatorContext()
    assert (context.user_id, context.base_url, context.clarification_policy) == (
        "carol", "http://env.test/v1", "never",
    )  # fmt: skip
    refiner = RefinerContext()
    assert context.mediator_model == context.assistant_model == refiner.refiner_model == "m1"
    assert context.max_questions_per_task == 5 and context.single_task


def test_context_rejects_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIATOR_CLARIFY_POLICY", "sometimes")
    with pytest.raises(ValueError, match="MEDIATOR_CLARIFY_POLICY"):
        MediatorContext()
    monkeypatch.delenv("MEDIATOR_CLARIFY_POLICY")
    with pytest.raises(ValueError, match="assistant_input"):
        MediatorContext(assistant_input="everything")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_questions_per_task"):
        MediatorContext(max_questions_per_task=-1)
    with pytest.raises(ValueError, match="user_id"):
        MediatorContext(user_id="  ")


def test_context_from_runtime_accepts_none_dicts_and_instances() -> None:
    assert isinstance(MediatorContext.from_runtime(None), MediatorContext)
    from_dict = MediatorContext.from_runtime({"user_id": "dan", "not_a_field": 1})
    assert from_dict.user_id == "dan"
    instance = MediatorContext(user_id="eve")
    assert MediatorContext.from_runtime(instance) is instance


def test_chat_models_are_built_for_the_configured_endpoint_and_cached_per_loop() -> None:
    context = MediatorContext(base_url="http://endpoint.test/v1", api_key="k", max_tokens=77)
    loop_a, loop_b = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        model = build_chat_model(context, "gpt-x", loop=loop_a)
        assert model.model_name == "gpt-x"
        assert str(model.openai_api_base) == "http://endpoint.test/v1"
        assert model.extra_body == {"max_tokens": 77}
        assert build_chat_model(context, "gpt-x", loop=loop_a) is model
        assert build_chat_model(context, "gpt-x", loop=loop_b) is not model
    finally:
        loop_a.close()
        loop_b.close()


def test_endpoint_errors_never_show_a_key_in_the_url() -> None:
    url = "http://user:sk-secret@endpoint.test/v1?api_key=sk-other"
    error = endpoint_error(openai.APIConnectionError(request=REQUEST), url)
    assert error is not None
    assert "sk-secret" not in str(error) and "sk-other" not in str(error)
    assert "http://user:***@endpoint.test/v1?api_key=***" in str(error)


def test_a_provider_prefixed_model_goes_through_init_chat_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from langchain_openai import ChatOpenAI

    from langgraph_mediator.models import build_chat_model
    from langgraph_mediator.models.chat import provider_of

    assert provider_of("anthropic:claude-sonnet-4-5") == "anthropic"
    assert provider_of("qwen2.5:7b") is None and provider_of("gpt-4o-mini") is None
    at_endpoint = build_chat_model(ModelSettings(base_url="http://x/v1", api_key="k"),
                                   "openai:gpt-4o-mini")  # fmt: skip
    assert isinstance(at_endpoint, ChatOpenAI) and at_endpoint.openai_api_base == "http://x/v1"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    hosted = build_chat_model(ModelSettings(base_url=None, max_tokens=99), "openai:gpt-4o-mini")
    assert isinstance(hosted, ChatOpenAI) and hosted.openai_api_base in (None, "")
    assert hosted.model_name == "gpt-4o-mini" and hosted.max_tokens == 99
    plain = build_chat_model(ModelSettings(base_url="http://x/v1"), "qwen2.5:7b")
    assert isinstance(plain, ChatOpenAI) and plain.model_name == "qwen2.5:7b"


def test_a_provider_without_its_package_names_the_package_to_install() -> None:
    from langgraph_mediator.models import build_chat_model

    with pytest.raises(ValueError, match="pip install langchain-anthropic"):
        build_chat_model(ModelSettings(base_url="http://x/v1"), "anthropic:claude-sonnet-4-5")


def test_the_embedded_servers_prompt_cache_is_sized_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert LocalModelServer(model_path=tmp_path / "m.gguf").prompt_cache_mb == 256
    monkeypatch.setenv("MEDIATOR_LOCAL_PROMPT_CACHE_MB", "0")
    assert LocalModelServer(model_path=tmp_path / "m.gguf").prompt_cache_mb == 0
    monkeypatch.setenv("MEDIATOR_LOCAL_PROMPT_CACHE_MB", "lots")
    with pytest.raises(LocalModelError, match="MEDIATOR_LOCAL_PROMPT_CACHE_MB='lots'"):
        LocalModelServer(model_path=tmp_path / "m.gguf")
