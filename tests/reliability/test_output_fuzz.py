"""Fuzzed Mediator output: whatever the Mediator model returns, the turn completes.

Hypothesis writes the Mediator's replies as an OpenAI-compatible endpoint would send them:
tool-call arguments that are malformed JSON, readings with wrong types, missing fields,
strings far beyond ``max_length``, lists over their caps, empty arguments, the wrong tool,
no tool call at all, random text, and (so the retry path is fuzzed too) valid readings.
Each turn gets two replies, the first call's and the retry's, and must end as
``detect_intent`` documents: a reply that validates is used; otherwise the retry is; when
neither does, the turn falls back (``turn_usage.fallback`` records why), passes the user's
message through (a bare "yes" mid-task with no question open is a confirmation, as
documented), never asks, and the Assistant still answers. The ledger stays valid.

The replies reach the graph two ways: through the scripted fake model, as ChatOpenAI would
parse them (this is how malformed argument strings get in: the stub only sends JSON it
encodes itself), and over HTTP through the real ChatOpenAI client from :class:`OpenAIStub`.
Arguments that are valid JSON but not an object (the client cannot even build a message
from them) have their own test below: they count as malformed and fall back the same way.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fakes import UNUSED_ENDPOINT, reading, scripted
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, HumanMessage, InvalidToolCall, ToolCall
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call
from langgraph.checkpoint.memory import InMemorySaver
from openai_stub import OpenAIStub, Reply, tool_name
from openai_stub import ToolCall as StubToolCall
from pydantic import ValidationError

from langgraph_mediator import MediatorContext, build_mediator_graph
from langgraph_mediator.session import MediatorSession, TurnResult
from langgraph_mediator.state import MediatorReading
from langgraph_mediator.text import is_acknowledgement

Record = Callable[..., None]

ANSWER = "The Assistant's answer."
SETUP_MESSAGE = "Convert 20 degrees."
SETUP_READING = {"task_type": "math", "goal": "Convert a temperature.", "feedback": "new_task",
                 "new_requirements": [SETUP_MESSAGE]}  # fmt: skip
FALLBACK = "malformed Mediator output twice: "
ERROR_CHARS = 300
"""``ask_structured`` keeps the last 300 characters of a parsing error."""

FUZZ = settings(
    max_examples=40, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
"""Modest and repeatable; ``database=None`` keeps ``.hypothesis/`` out of the work tree."""
FUZZ_OVER_HTTP = settings(FUZZ, max_examples=20)


@dataclass(frozen=True)
class RawReply:
    """One Mediator reply as the endpoint sends it: text, and maybe one tool call."""

    kind: str
    content: str = ""
    tool: str | None = None
    arguments: str | None = None
    """The tool call's ``arguments`` string, exactly as sent (it need not be JSON)."""

    def parsed_arguments(self) -> Any:
        """The arguments as ChatOpenAI reads them (``None`` when they are not JSON)."""
        if not self.arguments:
            return {}
        try:
            return json.loads(self.arguments, strict=False)
        except ValueError:
            return None

    def non_object_json(self) -> bool:
        """Arguments that parse to a truthy non-object (no AIMessage holds them: own test)."""
        value = self.parsed_arguments()
        return bool(value) and not isinstance(value, dict)

    def over_http(self) -> bool:
        """Whether OpenAIStub can send it (it JSON-encodes a dict of arguments itself)."""
        return self.tool is None or isinstance(self.parsed_arguments(), dict)

    def as_ai_message(self) -> AIMessage:
        """The message ChatOpenAI makes of it (as ``_convert_dict_to_message`` does)."""
        calls: list[ToolCall] = []
        invalid: list[InvalidToolCall] = []
        if self.tool is not None:
            raw = {"id": "call_fuzz", "type": "function",
                   "function": {"name": self.tool, "arguments": self.arguments}}  # fmt: skip
            try:
                calls.append(parse_tool_call(raw, return_id=True))  # type: ignore[arg-type]
            except OutputParserException as exc:
                invalid.append(make_invalid_tool_call(raw, str(exc)))
        return AIMessage(self.content, tool_calls=calls, invalid_tool_calls=invalid)

    def as_stub_reply(self) -> Reply:
        """What OpenAIStub should answer to send it."""
        if self.tool is None:
            return self.content
        return StubToolCall(self.tool, self.parsed_arguments())

    def validates(self) -> bool:
        """The oracle: a MediatorReading call whose arguments pass the schema."""
        if self.tool != "MediatorReading":
            return False
        arguments = self.parsed_arguments()
        if not isinstance(arguments, dict):
            return False
        try:
            MediatorReading.model_validate(arguments)
        except ValidationError:
            return False
        return True


def call(kind: str, arguments: Any, tool: str = "MediatorReading") -> RawReply:
    """A tool-call reply whose arguments are ``arguments`` JSON-encoded."""
    return RawReply(kind, tool=tool, arguments=json.dumps(arguments))


# --- strategies -------------------------------------------------------------------------

short_text = st.text(max_size=60)
feedback = st.sampled_from(["new_task", "new_information", "correction", "confirmation"])
changes = st.lists(
    st.fixed_dictionaries(
        {"requirement_id": st.sampled_from(["R1", "R2", "R9", " R1 ", ""]),
         "action": st.sampled_from(["supersede", "retract"])},
        optional={"replacement": short_text, "reason": short_text},
    ),
    max_size=3,
)  # fmt: skip
valid_arguments = st.fixed_dictionaries(
    {"task_type": st.sampled_from(["math", "code", "summary", "general", ""]),
     "goal": st.text(max_size=120), "feedback": feedback},
    optional={"new_requirements": st.lists(short_text, max_size=4), "changes": changes,
              "missing_information": st.lists(st.text(max_size=40), max_size=2),
              "clarifying_question": short_text},
)  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | short_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short_text, inner, max_size=3),
    max_leaves=6,
)
LIMITS = {"task_type": 40, "goal": 300, "clarifying_question": 300}


@st.composite
def wrong_types(draw: st.DrawFn) -> RawReply:
    """A valid reading with one field replaced by a value of another JSON type."""
    arguments = draw(valid_arguments)
    name = draw(st.sampled_from(sorted(MediatorReading.model_fields)))
    return call("wrong type", {**arguments, name: draw(json_values)})


@st.composite
def missing_fields(draw: st.DrawFn) -> RawReply:
    """A valid reading with some fields left out (required ones among them, or not)."""
    arguments = draw(valid_arguments)
    dropped = draw(st.sets(st.sampled_from(sorted(arguments)), min_size=1))
    return call("missing field", {k: v for k, v in arguments.items() if k not in dropped})


@st.composite
def huge_strings(draw: st.DrawFn) -> RawReply:
    """A string field, requirement or note far beyond its ``max_length``."""
    arguments = draw(valid_arguments)
    size = draw(st.integers(min_value=301, max_value=200_000))
    huge = draw(st.characters(codec="utf-8", exclude_categories=["Cs"])) * size
    where = draw(st.sampled_from([*LIMITS, "new_requirements", "missing_information"]))
    return call("huge string", {**arguments, where: huge if where in LIMITS else [huge]})


@st.composite
def over_the_caps(draw: st.DrawFn) -> RawReply:
    """More requirements, changes or missing details than the schema allows."""
    arguments = draw(valid_arguments)
    where, cap = draw(st.sampled_from([("new_requirements", 8), ("missing_information", 4)]))
    items = draw(st.lists(short_text, min_size=cap + 1, max_size=cap + 40))
    return call("over the list cap", {**arguments, where: items})


@st.composite
def malformed_json(draw: st.DrawFn) -> RawReply:
    """Arguments that are not JSON: cut short, with trailing junk, Python repr, or noise."""
    arguments = draw(valid_arguments)
    encoded = json.dumps(arguments)
    text = draw(st.one_of(
        st.integers(1, max(1, len(encoded) - 1)).map(lambda n: encoded[:n]),
        short_text.map(lambda junk: encoded + "}" + junk),
        st.just(repr(arguments)),
        st.just(encoded.replace('"', "'")),
        st.text(min_size=1, max_size=200),
    ))  # fmt: skip
    return RawReply("malformed JSON", tool="MediatorReading", arguments=text)


EMPTY = [RawReply("empty", tool="MediatorReading", arguments=""), call("empty", {}),
         RawReply("empty")]  # fmt: skip
fuzzed_replies = st.one_of(
    valid_arguments.map(lambda arguments: call("valid", arguments)),
    wrong_types(),
    missing_fields(),
    huge_strings(),
    over_the_caps(),
    malformed_json(),
    st.sampled_from(EMPTY),
    valid_arguments.map(lambda arguments: call("wrong tool", arguments, tool="Answer")),
    st.text(max_size=300).map(lambda text: RawReply("no tool call", content=text)),
)
messages = st.one_of(
    st.sampled_from(["Convert 20 degrees.", "in Celsius", "no, 5 of them", "yes"]),
    st.text(min_size=1, max_size=400).filter(str.strip),
)


@dataclass(frozen=True)
class Scenario:
    """One fuzzed turn: the user's words, whether a task is under way, two Mediator replies."""

    message: str
    mid_task: bool
    first: RawReply
    retry: RawReply


scenarios = st.builds(Scenario, messages, st.booleans(), fuzzed_replies, fuzzed_replies)
stub_scenarios = st.builds(
    Scenario, messages, st.booleans(),
    fuzzed_replies.filter(RawReply.over_http), fuzzed_replies.filter(RawReply.over_http),
)  # fmt: skip
PINNED = [
    Scenario("Convert 20 degrees.", False, RawReply("malformed JSON", tool="MediatorReading",
             arguments='{"task_type": "math", "goal": "Conv'), RawReply("no tool call", "Sure!")),
    Scenario("and in Kelvin", True, call("wrong type", {**SETUP_READING, "feedback": 3}),
             call("wrong type", {**SETUP_READING, "new_requirements": "Kelvin"})),
    Scenario("x", False, RawReply("empty", tool="MediatorReading", arguments=""),
             RawReply("empty")),
    Scenario("make it long", True, call("huge string", {**SETUP_READING, "goal": "g" * 100_000}),
             call("over the list cap", {**SETUP_READING, "new_requirements": ["r"] * 50})),
    Scenario("yes", True, RawReply("empty"), RawReply("no tool call", content="Yes!")),
    Scenario("hello", True, call("wrong tool", SETUP_READING, tool="Answer"),
             call("valid", {**SETUP_READING, "feedback": "new_information"})),
]  # fmt: skip
"""Every kind at least once per run, whatever Hypothesis draws."""


# --- checks -----------------------------------------------------------------------------


@dataclass
class Tally:
    """What the fuzzing saw, for RELIABILITY.md."""

    examples: int = 0
    fallbacks: int = 0
    retried_then_parsed: int = 0
    parsed_first_time: int = 0
    over_http: int = 0
    seconds: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)


def expected_calls(scenario: Scenario) -> int:
    """Mediator calls the fuzzed turn makes: one, or two when the first reply is malformed."""
    return 1 if scenario.first.validates() else 2


def expects_fallback(scenario: Scenario) -> bool:
    """Whether neither reply validates, so the turn must fall back."""
    return not scenario.first.validates() and not scenario.retry.validates()


def assert_ledger_valid(state: dict[str, Any]) -> None:
    """Ids run R1..Rn, every entry is well formed, the instruction lists what is in force."""
    ledger = state.get("ledger", [])
    assert [r["id"] for r in ledger] == [f"R{n}" for n in range(1, len(ledger) + 1)]
    ids = {r["id"] for r in ledger}
    for requirement in ledger:
        assert isinstance(requirement["text"], str) and requirement["text"].strip()
        assert 1 <= requirement["turn"] <= state["turn"]
        assert 1 <= requirement["task"] <= state["task_number"]
        assert requirement["status"] in ("active", "superseded", "retracted")
        assert requirement.get("superseded_by") in (None, *ids)
    if state.get("instruction") and not state.get("should_clarify"):
        for requirement in ledger:
            if requirement["status"] == "active" and requirement["task"] == state["task_number"]:
                assert requirement["text"].strip() in state["instruction"]


def normalised(text: str) -> str:
    """Case and spacing folded, as the ledger compares requirements."""
    return " ".join(text.lower().split()).rstrip(".")


def assert_turn_ended_as_documented(
    scenario: Scenario, result: TurnResult, state: dict[str, Any]
) -> None:
    """Parsed replies are used; two malformed ones fall back, pass the message, get answered."""
    usage = result.usage
    assert usage is not None and usage["turn"] == state["turn"] == 1 + scenario.mid_task
    nodes = Counter(c["node"] for c in usage["calls"])
    assert nodes["detect_intent"] == expected_calls(scenario), "one retry, no more"
    fallback = usage["fallback"]
    if expects_fallback(scenario):
        assert fallback is not None and fallback.startswith(FALLBACK)
        assert len(fallback) <= len(FALLBACK) + ERROR_CHARS, "the recorded note stays short"
        assert result.kind == "answer" and result.reply == ANSWER, "the Assistant still answers"
        assert not result.awaiting_answer and not state["should_clarify"]
        if scenario.mid_task and is_acknowledgement(scenario.message):
            # The documented rule: a bare "yes" answers the question open, and with none
            # (the setup's answer asks nothing) it is a confirmation.
            assert state["reading"]["feedback"] == "confirmation"
        else:
            assert normalised(scenario.message) in normalised(state["instruction"]), (
                "the message is passed through"
            )
            assert state["reading"]["feedback"] == (
                "new_information" if scenario.mid_task else "new_task"
            )
        assert state["task_number"] == 1
    else:
        assert fallback is None
        assert result.kind == "clarification" or result.reply == ANSWER
    assert isinstance(state["messages"][-1], AIMessage)
    assert [type(m) for m in state["messages"][:-1:2]] == [HumanMessage] * (1 + scenario.mid_task)
    assert_ledger_valid(state)


def count(tally: Tally, scenario: Scenario, *, over_http: bool) -> None:
    """Add one finished example to the tally."""
    tally.examples += 1
    tally.over_http += over_http
    tally.kinds.update([scenario.first.kind, scenario.retry.kind])
    if expects_fallback(scenario):
        tally.fallbacks += 1
    elif scenario.first.validates():
        tally.parsed_first_time += 1
    else:
        tally.retried_then_parsed += 1


# --- runs -------------------------------------------------------------------------------


def context_for(base_url: str) -> MediatorContext:
    """The documented defaults, spelled out so no environment variable changes the run."""
    return MediatorContext(
        user_id="fuzz", base_url=base_url, api_key="k", clarification_policy="when_missing",
        clarification_mode="end_turn", max_questions_per_task=2, single_task=False,
        max_retries=0, request_timeout=30, max_message_chars=20_000,
    )  # fmt: skip


async def turn_through_fake(scenario: Scenario) -> tuple[TurnResult, dict[str, Any], int]:
    """Run the scenario with the scripted fake Mediator; return result, state, Mediator calls."""
    setup = [reading("new_task", goal="Convert a temperature.", new=[SETUP_MESSAGE])]
    replies = [scenario.first.as_ai_message(), scenario.retry.as_ai_message()]
    mediator = scripted(*(setup if scenario.mid_task else []), *replies)
    graph = build_mediator_graph(
        scripted(ANSWER, ANSWER), mediator_model=mediator, checkpointer=InMemorySaver()
    )
    session = MediatorSession(graph, context_for(UNUSED_ENDPOINT))
    if scenario.mid_task:
        await session.send("t", SETUP_MESSAGE)
    result = await session.send("t", scenario.message)
    return result, await session.state("t"), len(mediator.seen) - scenario.mid_task


class ScriptedEndpoint:
    """Responder for OpenAIStub: Mediator requests get the queued replies, others the answer."""

    def __init__(self) -> None:
        self.queue: list[Reply] = []
        self.mediator_calls = 0

    def __call__(self, body: dict[str, Any]) -> Reply:
        if tool_name(body) != "MediatorReading":
            return ANSWER
        self.mediator_calls += 1
        return self.queue.pop(0) if self.queue else "(no reply scripted)"


async def turn_over_http(
    scenario: Scenario, endpoint: ScriptedEndpoint, base_url: str, thread: str
) -> tuple[TurnResult, dict[str, Any], int]:
    """Run the scenario through ChatOpenAI against the stub; return result, state, calls."""
    setup = [StubToolCall("MediatorReading", SETUP_READING)] if scenario.mid_task else []
    endpoint.queue = [*setup, scenario.first.as_stub_reply(), scenario.retry.as_stub_reply()]
    graph = build_mediator_graph(checkpointer=InMemorySaver())
    session = MediatorSession(graph, context_for(base_url))
    if scenario.mid_task:
        await session.send(thread, SETUP_MESSAGE)
    calls_before = endpoint.mediator_calls
    result = await session.send(thread, scenario.message)
    return result, await session.state(thread), endpoint.mediator_calls - calls_before


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for every example (so ChatOpenAI's client is built once)."""
    running = asyncio.new_event_loop()
    try:
        yield running
    finally:
        running.close()


def pin(examples: list[Scenario]) -> Callable[[Any], Any]:
    """Decorate a ``@given(scenario=...)`` test with every pinned scenario."""

    def decorate(test: Any) -> Any:
        for scenario in reversed(examples):
            test = example(scenario=scenario)(test)
        return test

    return decorate


def test_fuzzed_mediator_output_never_crashes_a_turn(
    loop: asyncio.AbstractEventLoop, record: Record
) -> None:
    tally = Tally()
    began = time.perf_counter()

    @FUZZ
    @given(scenario=scenarios)
    @pin(PINNED)
    def through_the_fake_model(scenario: Scenario) -> None:
        assume(not (scenario.first.non_object_json() or scenario.retry.non_object_json()))
        result, state, calls = loop.run_until_complete(turn_through_fake(scenario))
        assert calls == expected_calls(scenario), "one retry, no more"
        assert_turn_ended_as_documented(scenario, result, state)
        count(tally, scenario, over_http=False)

    with OpenAIStub(endpoint := ScriptedEndpoint()) as stub:

        @FUZZ_OVER_HTTP
        @given(scenario=stub_scenarios)
        @pin([s for s in PINNED if s.first.over_http() and s.retry.over_http()])
        def over_http(scenario: Scenario) -> None:
            assume(not (scenario.first.non_object_json() or scenario.retry.non_object_json()))
            turn = turn_over_http(scenario, endpoint, stub.base_url, "t")
            result, state, calls = loop.run_until_complete(turn)
            assert calls == expected_calls(scenario), "one retry, no more"
            assert_turn_ended_as_documented(scenario, result, state)
            count(tally, scenario, over_http=True)

        through_the_fake_model()
        over_http()

    tally.seconds = time.perf_counter() - began
    assert tally.fallbacks > 0 and tally.parsed_first_time + tally.retried_then_parsed > 0
    record(
        "fuzzed Mediator output", examples=tally.examples, crashes=0,  # a crash fails the test
        fallbacks=tally.fallbacks, retried_then_parsed=tally.retried_then_parsed,
        parsed_first_time=tally.parsed_first_time, over_http=tally.over_http,
        seconds=round(tally.seconds, 2), kinds=dict(sorted(tally.kinds.items())),
    )  # fmt: skip


@pytest.mark.parametrize("arguments", [[], 0, None, ""], ids=repr)
def test_falsy_non_object_arguments_fall_back(
    loop: asyncio.AbstractEventLoop, arguments: Any
) -> None:
    bad = call("falsy non-object", arguments)
    scenario = Scenario("Convert 20 degrees.", False, bad, bad)
    with OpenAIStub(endpoint := ScriptedEndpoint()) as stub:
        turn = turn_over_http(scenario, endpoint, stub.base_url, "t")
        result, state, calls = loop.run_until_complete(turn)
    assert calls == 2
    assert_turn_ended_as_documented(scenario, result, state)


@pytest.mark.parametrize("arguments", [[1, 2], 42, "a reading", True], ids=repr)
def test_non_object_arguments_fall_back(loop: asyncio.AbstractEventLoop, arguments: Any) -> None:
    bad = call("non-object JSON", arguments)
    scenario = Scenario("Convert 20 degrees.", False, bad, bad)
    with OpenAIStub(endpoint := ScriptedEndpoint()) as stub:
        turn = turn_over_http(scenario, endpoint, stub.base_url, "t")
        result, state, _calls = loop.run_until_complete(turn)
    assert_turn_ended_as_documented(scenario, result, state)
