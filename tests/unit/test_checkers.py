"""The answer checkers (math, code, actions, database, judge) and the strategy classifier.

Tasks are small inline records; the released LiC dev records are read from
``../shared/data/lic/sharded_dev.jsonl`` by path (never copied here) and the
tests over them skip when the file is absent.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import scripted, tool_reply
from langchain_core.messages import AIMessage

from langgraph_mediator.evals.checkers import (
    CheckResult,
    check_actions,
    check_answer,
    check_code,
    check_database,
    check_math,
    extract_sql,
    final_number,
    judge_answer,
    normalize_sql,
    parse_calls,
)
from langgraph_mediator.evals.strategy import Strategy, classify_strategy
from langgraph_mediator.evals.tasks import ShardedTask, load_tasks, parse_task

LIC_DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "lic" / "sharded_dev.jsonl"
EXECUTABLE = ("math", "code", "actions", "database")
SHARDS = [{"shard_id": 1, "shard": "Help me with a task."}]


def make_task(family: str, **fields: Any) -> ShardedTask:
    """A minimal valid task of ``family`` with ``fields`` (validated by parse_task)."""
    return parse_task({"task_id": f"unit-{family}", "task": family, "shards": SHARDS, **fields})


# --- math -------------------------------------------------------------------------------------


def math_task(reference: str) -> ShardedTask:
    return make_task("math", answer=f"Worked solution.\n#### {reference}")


def test_math_right_number_passes_and_reports_both_numbers() -> None:
    result = check_math(math_task("10"), "You need 10 cans of paint.")
    assert result.passed and result.score == 1.0
    assert result.detail == "answered 10, expected 10"


def test_math_wrong_number_fails_with_score_zero() -> None:
    result = check_math(math_task("10"), "You need 5 cans of paint.")
    assert not result.passed and result.score == 0.0
    assert result.detail == "answered 5, expected 10"


def test_math_answer_without_a_number_fails() -> None:
    result = check_math(math_task("10"), "You need a few cans of paint.")
    assert not result.passed and result.detail == "no number in the answer"


@pytest.mark.parametrize(
    "answer",
    ["It costs $1,234.50 in total.", "1234.5", "The answer is 1,234.5", r"\boxed{1234.50}"],
)
def test_math_currency_thousands_and_decimal_formats_pass(answer: str) -> None:
    assert check_math(math_task("1,234.50"), answer).passed


def test_math_bold_markdown_number_passes() -> None:
    assert check_math(math_task("42"), "**42**").passed
    assert not check_math(math_task("42"), "**41**").passed


def test_math_negative_reference_needs_the_sign() -> None:
    assert check_math(math_task("-3"), "The temperature fell to -3 degrees.").passed
    assert not check_math(math_task("-3"), "The temperature is 3 degrees.").passed


def test_math_last_number_counts_without_a_marker() -> None:
    task = math_task("10")
    assert check_math(task, "First I got 7, but with two coats it is 10 cans.").passed
    assert not check_math(task, "10 cans for one wall, so 7 in total.").passed


@pytest.mark.parametrize(
    "answer",
    [
        "The answer is 10. It took 3 steps and 2 coats.",
        "Step 1: 50 / 10 = 5.\n#### 10\nThat is 2 coats of 5.",
        r"$\boxed{10}$ (5 cans per coat, 2 coats)",
    ],
)
def test_math_marked_answer_wins_over_later_numbers(answer: str) -> None:
    assert final_number(answer) == 10
    assert check_math(math_task("10"), answer).passed


def test_math_last_of_several_markers_counts() -> None:
    assert not check_math(math_task("10"), "The answer is 10. No wait, the answer is 5.").passed
    assert check_math(math_task("10"), "The answer is 5. No wait, the answer is 10.").passed


def test_math_bold_number_after_answer_is_still_the_marked_answer() -> None:
    assert check_math(math_task("18"), "The answer is **18**. Each of the 3 friends paid 6.").passed


# --- code ---------------------------------------------------------------------------------------


def code_task(test: str, func_name: str = "add") -> ShardedTask:
    return make_task("code", test=test, metadata={"func_name": func_name})


ADD = code_task(
    "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n"
)


def test_code_correct_function_passes_the_tasks_tests() -> None:
    result = check_code(ADD, "Here it is:\n```python\ndef add(a, b):\n    return a + b\n```")
    assert result.passed and result.detail == "tests pass"


def test_code_wrong_function_fails_with_the_assertion() -> None:
    result = check_code(ADD, "```python\ndef add(a, b):\n    return a - b\n```")
    assert not result.passed and result.score == 0.0
    assert "AssertionError" in result.detail


def test_code_crashing_function_fails_with_its_error() -> None:
    result = check_code(ADD, "```python\ndef add(a, b):\n    return a + undefined_name\n```")
    assert not result.passed and "NameError" in result.detail


def test_code_python_block_is_chosen_over_other_blocks() -> None:
    answer = (
        "Output:\n```text\n5\n```\n"
        "Code:\n```python\ndef add(a, b):\n    return a + b\n```\n"
        "Usage:\n```\nadd(2, 3)\n```"
    )
    assert check_code(ADD, answer).passed


def test_code_bare_definition_without_a_fence_is_run() -> None:
    assert check_code(ADD, "def add(a, b):\n    return a + b\n").passed


@pytest.mark.parametrize(
    "answer",
    [
        "I would add the two numbers and return the sum.",
        "```python\ndef plus(a, b):\n    return a + b\n```",
    ],
    ids=["no-code", "wrong-name"],
)
def test_code_without_the_function_fails_clearly(answer: str) -> None:
    result = check_code(ADD, answer)
    assert not result.passed and result.detail == "no definition of add()"


def test_code_infinite_loop_is_stopped_by_the_timeout() -> None:
    began = time.perf_counter()
    result = check_code(
        ADD, "```python\ndef add(a, b):\n    while True:\n        pass\n```", timeout=1.0
    )
    assert time.perf_counter() - began < 8, "the default 10 s timeout would have run"
    assert not result.passed and result.score == 0.0
    assert "timeout" in result.detail


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP server on 127.0.0.1 that never accepts by itself: connections wait in its backlog."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server
    server.close()


def connection_arrived(server: socket.socket) -> bool:
    """Whether some client completed a connection to ``server``."""
    server.settimeout(0.3)
    try:
        client, _ = server.accept()
    except TimeoutError:
        return False
    client.close()
    return True


def probe_task() -> ShardedTask:
    return code_task("def check(candidate):\n    assert candidate() == 'connected'\n", "probe")


NETWORK_PROBES = {
    "socket-connect": (
        "import socket\n"
        "with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:\n"
        "    s.settimeout(2)\n"
        "    s.connect(('127.0.0.1', PORT))\n"
    ),
    "create-connection": (
        "import socket\nwith socket.create_connection(('127.0.0.1', PORT), timeout=2):\n    pass\n"
    ),
    "urllib": (
        "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:PORT/', timeout=2)\n"
    ),
}


def probe_answer(body: str, port: int) -> str:
    lines = body.replace("PORT", str(port)).splitlines()
    indented = "\n".join(f"    {line}" for line in lines)
    return f"```python\ndef probe():\n{indented}\n    return 'connected'\n```"


def test_the_probe_reaches_the_listener_outside_the_checker(listener: socket.socket) -> None:
    """The control: the same probe code does connect when run without the checker's guard."""
    namespace: dict[str, Any] = {}
    port = listener.getsockname()[1]
    code = probe_answer(NETWORK_PROBES["create-connection"], port).strip("`").removeprefix("python")
    exec(code, namespace)
    assert namespace["probe"]() == "connected"
    assert connection_arrived(listener)


@pytest.mark.parametrize("probe", list(NETWORK_PROBES))
def test_code_under_check_gets_no_network(listener: socket.socket, probe: str) -> None:
    port = listener.getsockname()[1]
    result = check_code(probe_task(), probe_answer(NETWORK_PROBES[probe], port), timeout=5.0)
    assert not result.passed
    assert not connection_arrived(listener)


@pytest.mark.parametrize(
    "probe",
    [
        "socket-connect",
        "create-connection",
        "urllib",
    ],
)
def test_blocked_network_is_reported_as_such(listener: socket.socket, probe: str) -> None:
    port = listener.getsockname()[1]
    result = check_code(probe_task(), probe_answer(NETWORK_PROBES[probe], port), timeout=5.0)
    assert "network disabled in the code checker" in result.detail


@pytest.mark.parametrize("module", ["asyncio", "ssl", "http.client"])
def test_a_correct_solution_importing_a_stdlib_module_passes(module: str) -> None:
    answer = f"```python\nimport {module}\n\ndef add(a, b):\n    return a + b\n```"
    result = check_code(ADD, answer)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    "body",
    [
        "import _socket\ns = _socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', PORT))\n"
        "s.close()\n",
        "import importlib, socket\nimportlib.reload(socket)\n"
        "socket.create_connection(('127.0.0.1', PORT), timeout=2).close()\n",
    ],
    ids=["_socket", "reload"],
)
def test_code_under_check_cannot_bypass_the_network_guard(
    listener: socket.socket, body: str
) -> None:
    port = listener.getsockname()[1]
    result = check_code(probe_task(), probe_answer(body, port), timeout=5.0)
    assert not connection_arrived(listener), result.detail


# --- actions ------------------------------------------------------------------------------------


WEATHER = make_task(
    "actions",
    function=[{"name": "get_weather", "parameters": {}}],
    reference_answer=[
        {"get_weather": {"city": ["Paris"], "unit": ["celsius", ""]}},
        {"get_weather": {"city": ["Rome"], "unit": ["celsius", ""]}},
    ],
)


def test_parse_calls_reads_python_call_syntax() -> None:
    assert parse_calls("[get_weather(city='Paris'), get_time(zone='CET', utc=True)]") == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"zone": "CET", "utc": True}),
    ]


@pytest.mark.parametrize(
    "answer",
    [
        '[{"name": "get_weather", "arguments": {"city": "Paris"}}]',
        '{"name": "get_weather", "parameters": {"city": "Paris"}}',
        '[{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}]',
        '[{"get_weather": {"city": "Paris"}}]',
        'Calling it now:\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
    ],
    ids=["list", "parameters-key", "string-arguments", "name-keyed", "fenced"],
)
def test_parse_calls_reads_json_forms(answer: str) -> None:
    assert parse_calls(answer) == [("get_weather", {"city": "Paris"})]


def test_parse_calls_finds_nothing_in_prose() -> None:
    assert parse_calls("I would look up the weather in Paris for you.") == []


@pytest.mark.parametrize(
    "answer",
    [
        "[get_weather(city='Paris'), get_weather(city='Rome')]",
        "[get_weather(city='Rome'), get_weather(city='Paris', unit='celsius')]",
        '[{"name": "get_weather", "arguments": {"city": "Rome"}},'
        ' {"name": "get_weather", "arguments": {"city": "Paris"}}]',
        "get_weather(city='Rome')\nget_weather(city='  paris ')",
    ],
    ids=["python", "reversed-with-optional", "json-reversed", "one-per-line-normalized"],
)
def test_actions_matching_parallel_calls_pass_in_any_order(answer: str) -> None:
    result = check_actions(WEATHER, answer)
    assert result.passed and result.detail == "all calls match"


def test_actions_wrong_argument_value_fails() -> None:
    result = check_actions(WEATHER, "[get_weather(city='Paris'), get_weather(city='Berlin')]")
    assert not result.passed and result.detail.startswith("no call matches")
    assert "Rome" in result.detail


def test_actions_value_outside_the_accepted_list_fails() -> None:
    answer = "[get_weather(city='Paris', unit='fahrenheit'), get_weather(city='Rome')]"
    assert not check_actions(WEATHER, answer).passed


def test_actions_unknown_argument_fails() -> None:
    answer = "[get_weather(city='Paris', days=3), get_weather(city='Rome')]"
    assert not check_actions(WEATHER, answer).passed


def test_actions_missing_required_argument_fails() -> None:
    assert not check_actions(WEATHER, "[get_weather(city='Paris'), get_weather()]").passed


def test_actions_missing_call_fails() -> None:
    result = check_actions(WEATHER, "[get_weather(city='Paris')]")
    assert not result.passed and result.detail == "1 calls, expected 2"


def test_actions_extra_call_fails() -> None:
    answer = "[get_weather(city='Paris'), get_weather(city='Rome'), get_weather(city='Oslo')]"
    result = check_actions(WEATHER, answer)
    assert not result.passed and result.detail == "3 calls, expected 2"


def test_actions_one_call_cannot_satisfy_two_references() -> None:
    assert not check_actions(
        WEATHER, "[get_weather(city='Paris'), get_weather(city='Paris')]"
    ).passed


def test_actions_wrong_function_name_fails() -> None:
    assert not check_actions(
        WEATHER, "[get_forecast(city='Paris'), get_weather(city='Rome')]"
    ).passed


def test_actions_no_calls_fails() -> None:
    result = check_actions(WEATHER, "Sure, I can look up the weather.")
    assert not result.passed and result.detail == "0 calls, expected 2"


def test_actions_module_prefix_and_numeric_types_are_tolerated() -> None:
    task = make_task(
        "actions",
        function=[{"name": "finance.npv"}],
        reference_answer=[{"finance.npv": {"rate": [0.05], "periods": [5]}}],
    )
    assert check_actions(task, "[npv(rate=0.05, periods=5.0)]").passed
    assert not check_actions(task, "[npv(rate=0.5, periods=5)]").passed


def test_actions_booleans_are_not_numbers() -> None:
    task = make_task(
        "actions", function=[{"name": "f"}], reference_answer=[{"f": {"flag": [True]}}]
    )
    assert check_actions(task, "[f(flag=True)]").passed
    assert check_actions(task, '[{"name": "f", "arguments": {"flag": true}}]').passed
    assert not check_actions(task, "[f(flag=1)]").passed


# --- database -----------------------------------------------------------------------------------


SCHEMA = "CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT, kind TEXT, age INTEGER);\n"
DATA = (
    "INSERT INTO pets VALUES (1, 'Rex', 'dog', 3);\n"
    "INSERT INTO pets VALUES (2, 'Tom', 'cat', 1);\n"
    "INSERT INTO pets VALUES (3, 'Fido', 'dog', 1);\n"
    "INSERT INTO pets VALUES (4, 'Rex', 'dog', 5);\n"
)
REFERENCE_SQL = "SELECT DISTINCT name FROM pets WHERE kind = 'dog' AND age > 2"


def db_task(schema: str) -> ShardedTask:
    return make_task("database", schema_sql=schema, reference_sql=REFERENCE_SQL)


def test_database_equivalent_query_passes_by_execution() -> None:
    answer = (
        "```sql\nSELECT p.name FROM pets AS p\nWHERE p.age >= 3 AND p.kind IN ('dog')\n"
        "GROUP BY p.name;\n```"
    )
    result = check_database(db_task(SCHEMA + DATA), answer)
    assert result.passed and result.detail == "execution: result sets compared"


def test_database_row_order_is_ignored() -> None:
    task = make_task(
        "database", schema_sql=SCHEMA + DATA, reference_sql="SELECT id FROM pets ORDER BY id"
    )
    assert check_database(task, "SELECT id FROM pets ORDER BY id DESC").passed


@pytest.mark.parametrize(
    "answer",
    [
        "SELECT name FROM pets WHERE kind = 'dog' AND age > 2",  # duplicates: Rex twice
        "SELECT DISTINCT name FROM pets WHERE kind = 'dog'",  # Fido too
        "SELECT DISTINCT name FROM pets WHERE age > 2 AND kind = 'cat'",
    ],
    ids=["duplicate-rows", "extra-row", "no-rows"],
)
def test_database_wrong_query_fails_by_execution(answer: str) -> None:
    result = check_database(db_task(SCHEMA + DATA), f"```sql\n{answer}\n```")
    assert not result.passed and result.detail == "execution: result sets compared"


@pytest.mark.parametrize(
    "answer",
    [
        '```sql\nselect   distinct NAME\nfrom pets where kind = "dog" and age > 2;\n```',
        "Use SELECT DISTINCT name FROM pets WHERE kind = 'dog' AND age > 2; it lists them.",
    ],
    ids=["case-whitespace-quotes", "bare-in-prose"],
)
def test_database_without_data_compares_normalized_sql(answer: str) -> None:
    result = check_database(db_task(SCHEMA), answer)
    assert result.passed and result.detail == "no data: normalized SQL compared"


def test_database_without_data_an_equivalent_rewrite_fails() -> None:
    answer = "SELECT DISTINCT name FROM pets WHERE age > 2 AND kind = 'dog'"
    result = check_database(db_task(SCHEMA), answer)
    assert not result.passed and result.detail == "no data: normalized SQL compared"


def test_database_without_data_a_wrong_query_fails() -> None:
    assert not check_database(db_task(SCHEMA), "SELECT name FROM pets").passed


def test_database_query_error_fails_with_the_sqlite_message() -> None:
    result = check_database(db_task(SCHEMA + DATA), "SELECT colour FROM pets")
    assert not result.passed and result.detail.startswith("SQL error: no such column")


def test_database_answer_without_sql_fails() -> None:
    result = check_database(db_task(SCHEMA + DATA), "I would count the dogs older than two.")
    assert not result.passed and result.detail == "no SQL in the answer"


def test_extract_sql_and_normalize_sql() -> None:
    assert extract_sql("```\nWITH d AS (SELECT 1) SELECT * FROM d\n```") == (
        "WITH d AS (SELECT 1) SELECT * FROM d"
    )
    assert extract_sql("No query here.") is None
    assert normalize_sql('SELECT  A\nFROM "t" ;') == "select a from 't'"


# --- judge (data2text, summary) -----------------------------------------------------------------


TABLE = make_task(
    "data2text",
    table_html="<table><tr><td>2010</td><td>Ana</td></tr></table>",
    references=["Ana won the race in 2010."],
)
SUMMARY = make_task(
    "summary",
    query="What do reviewers say about the battery?",
    documents=[{"document_index": 0, "document_text": "The battery lasts two days."}],
    insights=[{"insight": "The battery lasts about two days."}],
    shards=[{"shard_id": 1, "shard": "Summarize the reviews.", "doc_idxs": [0]}],
)


def verdict(score: int, rationale: str = "") -> AIMessage:
    """A scripted JudgeVerdict tool call."""
    reply: AIMessage = tool_reply("JudgeVerdict", {"score": score, "rationale": rationale})
    return reply


async def test_judge_high_score_passes_and_is_marked_judged() -> None:
    result = await judge_answer(TABLE, "In 2010 Ana won.", scripted(verdict(10, "All covered.")))
    assert result == CheckResult(1.0, True, "judge 10/10: All covered.", judged=True)


async def test_judge_low_score_fails_and_is_marked_judged() -> None:
    result = await judge_answer(TABLE, "Bob won in 1999.", scripted(verdict(1, "Wrong.")))
    assert result == CheckResult(0.0, False, "judge 1/10: Wrong.", judged=True)


@pytest.mark.parametrize(("score", "passed"), [(5, False), (6, True)])
async def test_judge_pass_threshold_is_half_the_scale(score: int, passed: bool) -> None:
    result = await judge_answer(TABLE, "Ana won.", scripted(verdict(score)))
    assert result.passed is passed and result.score == pytest.approx((score - 1) / 9)


async def test_judge_sees_the_reference_and_the_fenced_answer() -> None:
    model = scripted(verdict(8))
    await judge_answer(TABLE, "Ana won in 2010.", model)
    prompt = str(model.seen[0][-1].content)
    assert "Ana won the race in 2010." in prompt and "<<<Ana won in 2010.>>>" in prompt


async def test_summary_judge_gets_the_insights_as_reference() -> None:
    model = scripted(verdict(9))
    result = await judge_answer(SUMMARY, "Reviewers say two days [Document 0].", model)
    assert result.passed and result.judged
    assert "- The battery lasts about two days." in str(model.seen[0][-1].content)


async def test_judge_malformed_output_twice_fails() -> None:
    model = scripted("I think it is good.", "Score: 9")
    result = await judge_answer(TABLE, "Ana won.", model)
    assert not result.passed and result.judged and result.score == 0.0
    assert result.detail.startswith("judge output malformed twice")
    assert len(model.seen) == 2


async def test_judge_out_of_range_score_is_retried() -> None:
    model = scripted(verdict(11), verdict(7))
    result = await judge_answer(TABLE, "Ana won.", model)
    assert result.passed and result.detail.startswith("judge 7/10") and len(model.seen) == 2


async def test_check_answer_passes_the_judge_model_for_judged_families() -> None:
    passed = await check_answer(SUMMARY, "Two days.", judge=scripted(verdict(9)))
    failed = await check_answer(TABLE, "Bob won.", judge=scripted(verdict(2)))
    assert passed.passed and passed.judged
    assert not failed.passed and failed.judged


async def test_check_answer_without_a_judge_fails_judged_families() -> None:
    result = await check_answer(TABLE, "Ana won in 2010.")
    assert result == CheckResult(0.0, False, "no judge model", judged=True)


async def test_check_answer_routes_executable_families_without_the_judge() -> None:
    judge = scripted()  # any call would fail: the judge must not be asked
    right = await check_answer(math_task("10"), "10 cans.", judge=judge)
    wrong = await check_answer(ADD, "```python\ndef add(a, b):\n    return 0\n```", judge=judge)
    assert right.passed and not right.judged
    assert not wrong.passed and not wrong.judged and judge.seen == []


# --- the released LiC dev records ---------------------------------------------------------------


def lic_tasks() -> dict[str, ShardedTask]:
    if not LIC_DEV.exists():
        return {}
    return {t.task_id: t for t in load_tasks([LIC_DEV], families=EXECUTABLE)}


LIC_TASKS = lic_tasks()
ABSENT = pytest.param(
    "absent", marks=pytest.mark.skip(reason=f"{LIC_DEV} is not beside this checkout")
)


def schema_loads(task: ShardedTask) -> bool:
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(str(task.record["schema_sql"]))
    except sqlite3.Error:
        return False
    finally:
        db.close()
    return True


def lic_params(*, need_reference: bool) -> list[Any]:
    if not LIC_TASKS:
        return [ABSENT]
    params: list[Any] = []
    for task_id, task in LIC_TASKS.items():
        marks: list[pytest.MarkDecorator] = []
        if need_reference and task.family == "code" and "canonical_solution" not in task.record:
            marks.append(pytest.mark.skip(reason="the released code record has no solution"))
        params.append(pytest.param(task_id, marks=marks, id=task_id))
    return params


def reference_calls(task: ShardedTask, syntax: str, drop_last: bool = False) -> str:
    """The reference calls with each parameter's first accepted value ("" = omitted)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for reference in task.record["reference_answer"][: -1 if drop_last else None]:
        name, params = next(iter(reference.items()))
        args = {k: v[0] for k, v in params.items() if v[0] != ""}
        calls.append((name, args))
    if syntax == "json":
        return json.dumps([{"name": name, "arguments": args} for name, args in calls])
    rendered = (f"{n}({', '.join(f'{k}={v!r}' for k, v in a.items())})" for n, a in calls)
    return "[" + ", ".join(rendered) + "]"


def check_reference(task: ShardedTask, syntax: str = "python") -> CheckResult:
    if task.family == "math":
        return check_math(task, task.record["answer"])
    if task.family == "code":
        return check_code(task, f"```python\n{task.record['canonical_solution']}\n```")
    if task.family == "actions":
        return check_actions(task, reference_calls(task, syntax))
    return check_database(task, f"```sql\n{task.record['reference_sql']}\n```")


def check_wrong(task: ShardedTask) -> CheckResult:
    if task.family == "math":
        reference = final_number(task.record["answer"].split("####")[-1])
        assert reference is not None
        return check_math(task, f"The answer is {reference + 1:g}.")
    if task.family == "code":
        name = task.record["metadata"]["func_name"]
        return check_code(task, f"```python\ndef {name}(*args):\n    return None\n```")
    if task.family == "actions":
        return check_actions(task, reference_calls(task, "python", drop_last=True))
    return check_database(task, "```sql\nSELECT 1\n```")


@pytest.mark.parametrize("task_id", lic_params(need_reference=True))
def test_lic_reference_passes_its_checker(task_id: str) -> None:
    task = LIC_TASKS[task_id]
    result = check_reference(task)
    assert result.passed, result.detail
    if task.family == "actions":
        json_result = check_reference(task, "json")
        assert json_result.passed, json_result.detail


@pytest.mark.parametrize("task_id", lic_params(need_reference=False))
def test_lic_wrong_answer_fails_its_checker(task_id: str) -> None:
    assert not check_wrong(LIC_TASKS[task_id]).passed


# --- strategy -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "text", "expected"),
    [
        ("math", "You need 10 cans of paint.", "answer_attempt"),
        ("math", "How large are the walls, in square metres?", "clarification"),
        ("math", "Let me think about how paint coverage works.", "discussion"),
        ("math", "If you mean both coats, 10 cans; if instead one coat, 5 cans.", "hedge"),
        ("math", "I can't help with that.", "refuse"),
        ("math", "   ", "discussion"),
        ("code", "```python\ndef add(a, b):\n    return a + b\n```", "answer_attempt"),
        ("code", "Should add() accept floats as well as integers?", "clarification"),
        (
            "code",
            "Alternatively, if you meant strings:\n```python\ndef add(a, b): ...\n```",
            "hedge",
        ),
        ("code", "I won't write that program.", "refuse"),
        ("code", "The sum of 2 and 3 is 5.", "discussion"),
        ("actions", "[get_weather(city='Paris')]", "answer_attempt"),
        ("actions", "Which city do you want the weather for?", "clarification"),
        ("actions", "I am unable to call that service.", "refuse"),
        ("database", "SELECT name FROM pets WHERE age > 2;", "answer_attempt"),
        ("database", "Should I include cats, or only dogs?", "clarification"),
        ("database", "Depending on whether ties count: SELECT name FROM pets;", "hedge"),
        ("data2text", "In 2010 Ana won the race ahead of Bob and Carla.", "answer_attempt"),
        ("data2text", "Which rows of the table should the sentence cover?", "clarification"),
        ("summary", "Sure, happy to help.", "discussion"),
        ("summary", "I'm not able to summarize these documents.", "refuse"),
    ],
)
def test_classify_strategy_on_clear_examples(family: str, text: str, expected: Strategy) -> None:
    assert classify_strategy(text, family) == expected


def test_strategy_depends_on_what_the_family_can_score() -> None:
    text = "The sum of 2 and 3 is 5."
    assert classify_strategy(text, "math") == "answer_attempt"
    assert classify_strategy(text, "code") == "discussion"
    assert classify_strategy(text, "database") == "discussion"


def test_a_refusal_that_still_answers_is_an_answer_attempt() -> None:
    text = "I can't help with the exact figure, but you need about 10 cans."
    assert classify_strategy(text, "math") == "answer_attempt"
    assert classify_strategy("I can't help with the exact figure.", "math") == "refuse"


def test_a_hedge_word_without_an_answer_is_not_a_hedge() -> None:
    text = "Alternatively, we could talk about the coverage first"
    assert classify_strategy(text, "math") == "discussion"
    assert classify_strategy(text + "?", "math") == "clarification"


def test_a_math_question_quoting_a_number_is_a_clarification() -> None:
    assert classify_strategy("Do you want one coat or 2 coats?", "math") == "clarification"


@pytest.mark.skipif(not LIC_TASKS, reason=f"{LIC_DEV} is not beside this checkout")
def test_a_schema_sqlite_cannot_load_falls_back_to_normalized_sql() -> None:
    unloadable = [t for t in LIC_TASKS.values() if t.family == "database" and not schema_loads(t)]
    assert unloadable, "the dev set has a schema SQLite rejects"
    task = unloadable[0]
    result = check_database(task, f"```sql\n{task.record['reference_sql'].upper()}\n```")
    assert result.passed and "schema does not load in SQLite" in result.detail
    assert not check_database(task, "```sql\nSELECT 1\n```").passed
