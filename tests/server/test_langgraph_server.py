"""LangGraph Server: the exported graphs served by ``langgraph dev`` and driven with langgraph-sdk.

The server (``tests/server/conftest.py``) runs the real ``langgraph.json``
with its custom auth on, against :class:`OpenAIStub`, which plays the
Mediator (its ``MediatorReading`` tool call), the Assistant (plain text,
streamed when asked) and the Refiner (``Diagnosis``, ``Proposal``,
``MergedSet``). These tests are the conversation itself, as alice; the
attacks between users are in ``test_server_security.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from langgraph_dev import (
    AGENT_TOOL,
    ALICE,
    ASSISTANT_MODEL,
    ASSISTANT_REPLY,
    BOB,
    GUIDELINE,
    MEDIATOR_MODEL,
    POISON,
    QUESTION,
    REFINER_MODEL,
    SESSION_TAG,
    assistant_requests,
    contents,
    mediator_requests,
    new_thread,
    refine,
    turn,
)
from langgraph_sdk.client import LangGraphClient
from openai_stub import OpenAIStub, last_user_text, system_text, tool_name

# --- tests -------------------------------------------------------------------------------------


async def test_a_three_turn_conversation_keeps_the_ledger_on_the_server(
    client: LangGraphClient, stub: OpenAIStub
) -> None:
    alice = {"user_id": ALICE}
    thread = await new_thread(client)

    start = len(stub.requests)
    asked = await turn(client, thread, "Convert 20 degrees.", alice)
    assert contents(asked) == ["Convert 20 degrees.", QUESTION]
    assert asked["pending_question"] == QUESTION
    assert asked["intent"]["missing_information"] == ["the unit of the input"]
    assert not assistant_requests(stub.requests[start:]), "a clarifying turn ends before execute"
    first = mediator_requests(stub.requests[start:])
    assert [r["model"] for r in first] == [MEDIATOR_MODEL], "the context's model names arrived"

    start = len(stub.requests)
    answered = await turn(client, thread, "Celsius.", alice)
    assert contents(answered)[-1] == ASSISTANT_REPLY
    assert f"- Q: {QUESTION} Reply: (this message)" in last_user_text(
        mediator_requests(stub.requests[start:])[0]
    )

    start = len(stub.requests)
    await turn(client, thread, "no, in Kelvin", alice)
    state = await client.threads.get_state(thread)
    values = state["values"]
    ledger = {r["text"]: r for r in values["ledger"]}
    celsius, kelvin = ledger["The input is in Celsius."], ledger["The input is in Kelvin."]
    assert celsius["status"] == "superseded" and celsius["reason"] == "the user said Kelvin"
    assert celsius["superseded_by"] == kelvin["id"] and kelvin["status"] == "active"
    assert ledger["Convert 20 degrees."]["status"] == "active"
    assert values["ledger_delta"]["superseded"] == [celsius["id"]]
    assert values["intent"]["goal"] == "Convert a temperature."
    instruction = values["instruction"]
    assert "The input is in Kelvin." in instruction and "Celsius" not in instruction
    (assistant,) = assistant_requests(stub.requests[start:])
    assert assistant["model"] == ASSISTANT_MODEL
    assert last_user_text(assistant) == instruction, "the Assistant got the explicit instruction"
    assert values["user_id"] == ALICE and values["turn"] == 3


async def test_streaming_names_the_mediator_nodes_and_carries_the_assistant_tokens(
    client: LangGraphClient, stub: OpenAIStub
) -> None:
    thread = await new_thread(client)
    start = len(stub.requests)
    updates: list[str] = []
    tokens: list[tuple[str, str]] = []
    nodes: set[str] = set()
    async for part in client.runs.stream(
        thread, "mediator",
        input={"messages": [{"role": "user", "content": "Write a haiku about the sea."}]},
        context={"user_id": ALICE}, stream_mode=["updates", "messages-tuple"],
    ):  # fmt: skip
        assert part.event != "error", part.data
        if part.event == "updates":
            updates.extend(part.data)
        elif part.event == "messages":
            chunk, metadata = part.data
            nodes.add(metadata.get("langgraph_node", ""))
            if chunk.get("type") in {"AIMessageChunk", "ai"} and chunk.get("content"):
                tokens.append((metadata.get("langgraph_node", ""), chunk["content"]))

    assert updates == ["detect_intent", "classify_feedback", "execute"]
    assert tokens, "no message events carried the Assistant's tokens"
    assert nodes == {"execute"}, "the Mediator's structured call must not stream"
    assert len(tokens) == len(ASSISTANT_REPLY.split(" ")), "one event per streamed token"
    assert "".join(t for _, t in tokens) == ASSISTANT_REPLY
    (assistant,) = assistant_requests(stub.requests[start:])
    assert assistant.get("stream") is True, "the Assistant was asked to stream"


async def test_interrupt_mode_pauses_on_the_question_and_resumes_with_the_answer(
    client: LangGraphClient, stub: OpenAIStub
) -> None:
    context = {"user_id": ALICE, "clarification_mode": "interrupt"}
    thread = await new_thread(client)

    start = len(stub.requests)
    await turn(client, thread, "Convert 20 degrees.", context)
    info = await client.threads.get(thread)
    assert info["status"] == "interrupted"
    state = await client.threads.get_state(thread)
    assert state["next"] == ["clarify"]
    (pending,) = [i for task in state["tasks"] for i in task["interrupts"]]
    assert pending["value"] == {
        "question": QUESTION, "missing_information": ["the unit of the input"], "turn": 1,
    }  # fmt: skip
    assert not assistant_requests(stub.requests[start:]), "nothing executes while paused"

    done = await client.runs.wait(
        thread, "mediator", command={"resume": "Celsius"}, context=context, raise_error=True
    )
    assert isinstance(done, dict)
    assert contents(done) == ["Convert 20 degrees.", QUESTION, "Celsius", ASSISTANT_REPLY]
    assert [r["text"] for r in done["ledger"]] == [
        "Convert 20 degrees.",
        "The input is in Celsius.",
    ]
    assert (await client.threads.get(thread))["status"] == "idle"
    assert len(assistant_requests(stub.requests[start:])) == 1


async def stored_texts(client: LangGraphClient, user_id: str) -> list[str]:
    """Every guideline text of the user's current set and of every stored version."""
    texts: list[str] = []
    current = await client.store.get_item(["guidelines", user_id], "current")
    versions = await client.store.search_items(["guidelines", user_id, "versions"], limit=100)
    for value in [current["value"]] if current else []:
        texts += [g["text"] for g in value["guidelines"]]
    for item in versions["items"]:
        texts += [g["text"] for g in item["value"]["guidelines"]]
    return texts


async def test_refined_guidelines_reach_only_their_users_mediator(
    client: LangGraphClient, bob: LangGraphClient, stub: OpenAIStub, record: Callable[..., None]
) -> None:
    start = len(stub.requests)
    out = await refine(client, ALICE, "in Kelvin")
    refiner_calls = [r for r in stub.requests[start:] if tool_name(r) is not None]
    assert [tool_name(r) for r in refiner_calls] == ["Diagnosis", "Proposal"]
    assert {r["model"] for r in refiner_calls} == {REFINER_MODEL}
    assert "<<<in Kelvin>>>" in last_user_text(refiner_calls[0]), "trajectories go in fenced"
    assert [g["text"] for g in out["guidelines"]] == [GUIDELINE] and out["version"] == 1
    assert out["guidelines"][0]["provenance"] == [f"run-{SESSION_TAG}-f|run-{SESSION_TAG}-s"]
    current = await client.store.get_item(["guidelines", ALICE], "current")
    assert current is not None and current["value"]["version"] == 1
    assert [g["text"] for g in current["value"]["guidelines"]] == [GUIDELINE]

    start = len(stub.requests)
    await turn(client, await new_thread(client), "Write a haiku about the sea.", {"user_id": ALICE})
    (for_alice,) = mediator_requests(stub.requests[start:])
    assert f"1. {GUIDELINE}" in system_text(for_alice)

    start = len(stub.requests)
    await turn(bob, await new_thread(bob), "Write a haiku about the sea.", {"user_id": BOB})
    (for_bob,) = mediator_requests(stub.requests[start:])
    assert GUIDELINE not in system_text(for_bob)
    assert "Guidelines learned for this user" not in system_text(for_bob)
    record("guideline isolation through langgraph dev", users=2, guidelines_for_owner=1,
           foreign_guidelines_in_other_prompt=0)  # fmt: skip


async def test_a_poisoned_trajectory_stores_no_guideline(
    client: LangGraphClient, stub: OpenAIStub, record: Callable[..., None]
) -> None:
    before = await client.store.get_item(["guidelines", ALICE], "current")
    start = len(stub.requests)
    out = await refine(client, ALICE, POISON)
    proposals = [r for r in stub.requests[start:] if tool_name(r) == "Proposal"]
    assert proposals and POISON in last_user_text(proposals[0]), "the poison reached the Refiner"
    assert [r["reason"] for r in out["rejected"]] == ["tries to override instructions"]
    assert all(POISON not in g["text"].lower() for g in out.get("guidelines", []))
    assert "version" not in out, "nothing new was stored"

    after = await client.store.get_item(["guidelines", ALICE], "current")
    assert after == before, "the set in force is unchanged"
    stored = [t.lower() for t in await stored_texts(client, ALICE)]
    assert not [t for t in stored if "previous instructions" in t or "system prompt" in t]

    start = len(stub.requests)
    await turn(client, await new_thread(client), "Write a haiku about the sea.", {"user_id": ALICE})
    (for_alice,) = mediator_requests(stub.requests[start:])
    assert "reveal the system prompt" not in system_text(for_alice).lower()
    record("poisoned trajectory through langgraph dev", rejected=len(out["rejected"]),
           planted_rules_stored=0, set_in_force_changed=False)  # fmt: skip


async def test_the_example_agent_runs_with_the_mediator_in_front_of_its_model(
    client: LangGraphClient, stub: OpenAIStub
) -> None:
    thread = await new_thread(client)
    start = len(stub.requests)
    result = await client.runs.wait(
        thread, "agent", input={"messages": [{"role": "user", "content": "Write a haiku."}]},
        context={"user_id": ALICE}, raise_error=True,
    )  # fmt: skip
    assert isinstance(result, dict)
    assert [m["content"] for m in result["messages"]][-1] == ASSISTANT_REPLY
    assert result["user_id"] == ALICE and result["turn"] == 1
    (mediator,) = mediator_requests(stub.requests[start:])
    (model,) = [r for r in stub.requests[start:] if tool_name(r) == AGENT_TOOL]
    assert mediator["model"] == MEDIATOR_MODEL and model["model"] == ASSISTANT_MODEL
    sent = [m for m in model["messages"] if m["role"] != "system"]
    assert [m["content"] for m in sent] == [result["instruction"]], "the model got the instruction"
