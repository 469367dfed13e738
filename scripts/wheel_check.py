"""Check the built wheel outside the checkout (``python scripts/wheel_check.py``; CI runs it).

Builds the wheel, installs it with its ``eval`` extra into a fresh virtualenv,
and from an empty temporary folder runs ``mediator --help``, a one-task
``mediator eval`` with the component evals against a scripted
OpenAI-compatible stub (``tests/openai_stub.py``, stdlib only), and an import
of ``MediatorMiddleware``, then ``scripts/new_user_calls.py``: the graph and an
agent with the middleware under every sync and async call, models by name,
LangSmith's ``evaluate``. Every command's output is printed; the script exits
non-zero on the first that fails, or when the eval wrote its report anywhere
but the results folder it was given.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from openai_stub import OpenAIStub, Reply, ToolCall, last_user_text, tool_name  # noqa: E402

READING = {
    "task_type": "math",
    "goal": "Solve the problem.",
    "feedback": "new_information",
    "new_requirements": [],
    "changes": [],
    "missing_information": [],
    "clarifying_question": "",
}


QUESTION = {
    **READING,
    "feedback": "new_task",
    "goal": "Convert 20 degrees.",
    "new_requirements": ["Convert 20 degrees."],
    "missing_information": ["the unit"],
    "clarifying_question": "Celsius or Fahrenheit?",
}
"""The reading of "Convert 20 degrees.": the unit is missing (new_user_calls.py's interrupt)."""


def respond(body: dict[str, Any]) -> Reply:
    """A Mediator reading turns as new information, an Assistant answering 42.

    "Convert 20 degrees." with no unit yet is read as missing the unit (a question).
    """
    name = tool_name(body)
    if name == "MediatorReading":
        text = last_user_text(body)
        asks = "Convert 20 degrees." in text and "Celsius" not in text
        return ToolCall(name, QUESTION if asks else READING)
    return "The answer is 42.\n#### 42"


def run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run ``command`` in ``cwd``, print its output, stop the check if it failed."""
    print(f"$ {' '.join(command)}", flush=True)
    done = subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True, check=False)
    print((done.stdout + done.stderr)[-4000:], flush=True)
    if done.returncode != 0:
        raise SystemExit(f"wheel check failed: {command[0]} exited with {done.returncode}")


def build_wheel(out: Path) -> Path:
    """``pip wheel`` of the checkout, without its dependencies."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
    )
    (wheel,) = out.glob("langgraph_mediator-*.whl")
    return wheel


def main() -> int:
    """Build, install, run the three checks from an empty folder."""
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        wheel = build_wheel(base / "dist")
        venv.EnvBuilder(with_pip=True).create(base / "venv")
        python, bin_dir = base / "venv" / "bin" / "python", base / "venv" / "bin"
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"{wheel}[eval]"], check=True
        )
        elsewhere, results = base / "elsewhere", base / "results"
        elsewhere.mkdir()
        stub = OpenAIStub(respond).start(port=0)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIATOR_", "OPENAI_"))}
        env.update(
            OPENAI_BASE_URL=stub.base_url,
            OPENAI_API_KEY="stub",
            LANGSMITH_TRACING="false",
            MEDIATOR_RESULTS_DIR=str(results),
            HOME=str(base / "home"),
        )
        try:
            run([str(bin_dir / "mediator"), "--help"], elsewhere, env)
            # A command line as typed: off the formatter, each flag beside its value.
            run([str(bin_dir / "mediator"), "eval", "--limit", "1", "--runs", "1",
                 "--settings", "FULL", "--offline"], elsewhere, env)  # fmt: skip
            run(
                [
                    str(python),
                    "-c",
                    "from langgraph_mediator.middleware import MediatorMiddleware;"
                    " print('imported', MediatorMiddleware.__name__)",
                ],
                elsewhere,
                env,
            )
            run([str(python), str(ROOT / "scripts" / "new_user_calls.py")], elsewhere, env)
        finally:
            stub.stop()
        reports = sorted(results.glob("*/report.md"))
        print(
            f"reports: {[str(p.relative_to(base)) for p in reports]}; "
            f"files left in the working folder: {sorted(os.listdir(elsewhere))}"
        )
        if not reports or os.listdir(elsewhere):
            raise SystemExit(
                "wheel check failed: the report is not where MEDIATOR_RESULTS_DIR says"
            )
    print("wheel check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
