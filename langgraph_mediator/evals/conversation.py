"""One simulated conversation per (setting, task, run): the settings of Laban et al., and ours.

* FULL: the fully specified instruction in one turn.
* CONCAT: every shard at once, as a bullet list, in one turn.
* SHARDED: one shard per turn to the bare assistant, which sees the raw history.
* RECAP: SHARDED, then a last turn restating every shard.
* SNOWBALL: every turn restates all shards so far, plus the new one.
* MEDIATOR: SHARDED through the mediator graph; the assistant gets the explicit instruction.
* MEDIATOR+REFINER: MEDIATOR with guidelines learned on a disjoint training split.
* FINAL: MEDIATOR with every shard revealed (no stop at a correct answer), then
  the Assistant answers once from the Mediator's final instruction alone; only
  that answer is scored. FINAL minus FULL is what the rewrite costs, apart from
  the Assistant's own multi-turn behaviour.

Every mediated conversation also records the fidelity of its final
instruction (:mod:`.fidelity`): facts carried, stale, invented, questions asked
and re-asked.

The same executor model answers in every setting. Each answer attempt of an
exactly checkable task is scored as it comes; like the paper, a conversation
stops at its first fully correct answer, and its score is its last scored
attempt (0 when it never attempted an answer).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import BaseStore

from langgraph_mediator.core.ledger import read_as
from langgraph_mediator.core.messages import text_of
from langgraph_mediator.errors import MediatorError, ModelEndpointError
from langgraph_mediator.evals.checkers import CheckResult, check_answer
from langgraph_mediator.evals.fidelity import Fidelity, instruction_fidelity
from langgraph_mediator.evals.simulator import RuleBasedSimulator, UserTurn
from langgraph_mediator.evals.strategy import classify_strategy
from langgraph_mediator.evals.tasks import ShardedTask
from langgraph_mediator.graphs.mediator import build_mediator_graph
from langgraph_mediator.models import usage_of
from langgraph_mediator.state import MediatorContext
from langgraph_mediator.state.context import ASSISTANT_ENVIRONMENT_CHARS


class Setting(StrEnum):
    """The conversation settings an evaluation can run."""

    FULL = "FULL"
    CONCAT = "CONCAT"
    SHARDED = "SHARDED"
    RECAP = "RECAP"
    SNOWBALL = "SNOWBALL"
    MEDIATOR = "MEDIATOR"
    MEDIATOR_REFINER = "MEDIATOR+REFINER"
    FINAL = "FINAL"


NO_GUIDELINES_USER = "eval"
"""The user a mediated conversation runs as when it is to read no guidelines."""
MEDIATED = {Setting.MEDIATOR, Setting.MEDIATOR_REFINER, Setting.FINAL}
JUDGED_FAMILIES = {"data2text", "summary"}
ATTEMPTS = {"answer_attempt", "hedge"}
"""Strategies whose reply carries an answer to score (a hedge is an answer with alternatives)."""


@dataclass
class TurnLog:
    """One turn: the user's text, the reply, and what it cost."""

    user: str
    reply: str
    shard: int | None
    strategy: str
    clarification: bool = False
    instruction: str = ""
    feedback: str = ""
    """How the Mediator read the turn (mediated settings; "" otherwise)."""
    ledger_change: str = ""
    """What the turn did to the ledger, as :func:`~langgraph_mediator.core.describe_delta` says."""
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    score: float | None = None


Outcome = Literal["scored", "context_overflow", "failed"]
"""How a conversation ended.

* ``scored``: it ran to its end (or the model's own output failed it) and was checked;
* ``context_overflow``: a prompt did not fit the model's context window; it
  counts as a failure of that model on that task, and the report names it;
* ``failed``: the endpoint failed (unreachable, timed out, refused the key,
  HTTP 5xx): nothing the model did is measured, so it is not recorded as done
  and a rerun plays it again.
"""

CONTEXT_OVERFLOW_MARKERS = (
    "context window",
    "context length",
    "context_length_exceeded",
    "maximum context",
    "too many tokens",
)
"""How llama.cpp, OpenAI, vLLM and Ollama word a prompt that does not fit."""


def outcome_of(exc: Exception) -> Outcome:
    """Which outcome an exception that ended a conversation means."""
    text = str(exc).lower()
    if any(marker in text for marker in CONTEXT_OVERFLOW_MARKERS):
        return "context_overflow"
    if isinstance(exc, ModelEndpointError | openai.APIConnectionError | openai.APIStatusError):
        return "failed"
    return "scored"


UNREACHABLE_MARKERS = (
    "Cannot reach the model endpoint",
    "did not answer in time",
    "ConnectionError",
    "TimeoutError",
)
"""How a recorded error says the endpoint was never reached (our words or the client's)."""


def is_unreachable(error: str | None) -> bool:
    """Whether a recorded error says the endpoint could not be reached at all."""
    return bool(error) and any(marker in str(error) for marker in UNREACHABLE_MARKERS)


@dataclass
class ConversationResult:
    """A finished conversation, as appended to the results file."""

    setting: str
    task_id: str
    family: str
    run: int
    score: float = 0.0
    judged: bool = False
    detail: str = ""
    turns: list[TurnLog] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    fidelity: dict[str, Any] | None = None
    """:class:`~.fidelity.Fidelity` of the final instruction (mediated settings only)."""
    variant: str = ""
    """The task's ``variant`` (``corrections``: reported as its own family)."""
    outcome: Outcome = "scored"
    """See :data:`Outcome`; only ``failed`` conversations are left out of the results."""

    @property
    def group(self) -> str:
        """The family the report counts it under: its variant if it has one, else its family."""
        return self.variant or self.family

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the results file's line)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConversationResult:
        """Read a results-file line back."""
        turns = [TurnLog(**t) for t in data.get("turns", [])]
        return cls(**{**data, "turns": turns})


@dataclass
class EvalEnvironment:
    """What every conversation of a run shares: models, simulator, store and limits."""

    assistant: BaseChatModel
    mediator: BaseChatModel | None = None
    judge: BaseChatModel | None = None
    simulator: RuleBasedSimulator = field(default_factory=RuleBasedSimulator)
    context: MediatorContext = field(default_factory=MediatorContext)
    store: BaseStore | None = None
    checkpointer: BaseCheckpointSaver[str] | None = None
    """Where MEDIATOR threads are saved (``None``: in memory, one saver per conversation)."""
    refiner_user: str = "eval-refiner"
    extra_turns: int = 4
    """Turns allowed beyond one per shard (answers to the assistant's questions)."""


def final_instruction(turns: Sequence[TurnLog]) -> str:
    """The last instruction the Mediator wrote in ``turns`` (empty when it wrote none)."""
    return next((t.instruction for t in reversed(turns) if t.instruction), "")


def task_system_prompt(task: ShardedTask) -> str | None:
    """What the task's environment gives the assistant in every setting (functions, schema)."""
    if task.family == "actions":
        functions = json.dumps(task.record["function"], indent=1)
        return (
            "You can call these functions:\n" + functions + "\nWhen you are ready to act, "
            "answer with the calls in Python syntax, e.g. [func(a=1), func(a=2)]."
        )
    if task.family == "database":
        return (
            "The database has this schema:\n"
            + str(task.record["schema_sql"])
            + "\nAnswer with one SQL query in a ```sql block."
        )
    if task.family == "code":
        return "When you write the function, give it in one ```python block."
    return None


def assistant_runnable(task: ShardedTask, model: BaseChatModel) -> Runnable[Any, Any]:
    """The executor of every setting: the task's system prompt, then the messages, to ``model``."""
    system = task_system_prompt(task)

    def with_system(messages: list[BaseMessage]) -> list[BaseMessage]:
        return [SystemMessage(system), *messages] if system else list(messages)

    return RunnableLambda(with_system, name="task_environment") | model


def bullet_list(shards: list[str]) -> str:
    """Shards as the bullet list CONCAT, RECAP and SNOWBALL send."""
    return "\n".join(f"- {s}" for s in shards)


class ConversationRunner:
    """Plays one conversation of one setting and scores it."""

    def __init__(
        self,
        env: EvalEnvironment,
        task: ShardedTask,
        setting: Setting,
        run: int,
        user_id: str | None = None,
    ):
        """Prepare a conversation; nothing is called until :meth:`run`.

        ``user_id`` is whose guidelines a mediated conversation reads (default:
        ``env.refiner_user`` under MEDIATOR+REFINER, else a user with none).
        """
        self.env, self.task, self.setting = env, task, setting
        self.user_id = user_id
        self.result = ConversationResult(
            setting=str(setting),
            task_id=task.task_id,
            family=task.family,
            run=run,
            variant=str(task.record.get("variant") or ""),
        )
        self.executor = assistant_runnable(task, env.assistant)
        self.history: list[BaseMessage] = []
        self.last_check: CheckResult | None = None
        self.graph: Any = None
        self.thread_id = ""
        self.final_log: TurnLog | None = None

    async def run(self) -> ConversationResult:
        """Play the conversation; endpoint and mediator errors are recorded, not raised.

        A request the endpoint rejects (e.g. a prompt over the model's context
        window) is recorded too, so the conversation still counts, as a failure.
        """
        began = time.perf_counter()
        try:
            await self._play()
            await self._final_check()
        except (MediatorError, openai.APIError, ValueError, TypeError) as exc:
            self.result.error = f"{type(exc).__name__}: {exc}"[:500]
            self.result.outcome = outcome_of(exc)
        if self.setting in MEDIATED:
            self.result.fidelity = self._fidelity().to_json()
        self.result.seconds = round(time.perf_counter() - began, 3)
        return self.result

    def _fidelity(self) -> Fidelity:
        # FINAL's last turn sends the instruction itself: it is not something the user said.
        turns = [t for t in self.result.turns if t is not self.final_log]
        instruction = final_instruction(turns)
        shards = [self.task.shards[t.shard] for t in turns if t.shard is not None]
        return instruction_fidelity(
            instruction,
            shards,
            [t.user for t in turns],
            record=self.task.record,
            environment=task_system_prompt(self.task) or "",
            questions=[t.reply for t in turns if t.clarification],
        )

    async def _play(self) -> None:
        if self.setting == Setting.FULL:
            await self._turn(UserTurn(self.task.full_instruction, None))
            return
        if self.setting == Setting.CONCAT:
            text = "Here is my task, all of it:\n" + bullet_list(self.task.shards)
            await self._turn(UserTurn(text, None))
            return
        await self._sharded()
        if self.setting == Setting.FINAL:
            await self._final_answer()
        if self.setting == Setting.RECAP and not self._solved():
            recap = "To recap, here is everything I told you:\n" + bullet_list(self.task.shards)
            await self._turn(UserTurn(recap, None))

    async def _sharded(self) -> None:
        revealed: list[int] = []
        turn: UserTurn | None = self.env.simulator.opening(self.task)
        cap = len(self.task.shards) + self.env.extra_turns
        while turn is not None and len(self.result.turns) < cap:
            if turn.shard is not None:
                revealed.append(turn.shard)
            if self.setting == Setting.SNOWBALL and len(revealed) > 1:
                told = [self.task.shards[i] for i in revealed[:-1]]
                turn = UserTurn(f"So far:\n{bullet_list(told)}\nAnd: {turn.text}", turn.shard)
            reply = await self._turn(turn)
            if self._solved() and self.setting != Setting.FINAL:
                return
            said = len(self.result.turns)
            turn = await self.env.simulator.respond(self.task, revealed, reply, said)

    def _solved(self) -> bool:
        return self.last_check is not None and self.last_check.passed

    async def _turn(self, user: UserTurn) -> str:
        if self.setting in MEDIATED:
            log = await self._mediated_turn(user)
        else:
            log = await self._bare_turn(user)
        self.result.turns.append(log)
        attempt = log.strategy in ATTEMPTS and self.setting != Setting.FINAL
        if attempt and self.task.family not in JUDGED_FAMILIES:
            self.last_check = await check_answer(self.task, log.reply)
            log.score = self.last_check.score
        return log.reply

    async def _bare_turn(self, user: UserTurn, history: list[BaseMessage] | None = None) -> TurnLog:
        """One turn of the bare Assistant over ``history`` (default: the conversation's)."""
        messages = self.history if history is None else history
        messages.append(HumanMessage(user.text))
        began = time.perf_counter()
        reply = await self.executor.ainvoke(messages)
        seconds = time.perf_counter() - began
        answer = reply if isinstance(reply, AIMessage) else AIMessage(str(reply))
        messages.append(answer)
        calls, prompt, completion = usage_of([answer])
        text = text_of(answer)
        return TurnLog(
            user=user.text,
            reply=text,
            shard=user.shard,
            strategy=classify_strategy(text, self.task.family),
            calls=calls,
            prompt_tokens=prompt,
            completion_tokens=completion,
            seconds=round(seconds, 3),
        )

    async def _mediated_turn(self, user: UserTurn) -> TurnLog:
        if self.graph is None:
            self.graph = build_mediator_graph(
                self.executor,
                mediator_model=self.env.mediator,
                checkpointer=self.env.checkpointer or InMemorySaver(),
                store=self.env.store,
            )
            # A fresh thread per attempt: an interrupted conversation restarts, never resumes.
            self.thread_id = (
                f"eval:{self.setting}:{self.result.task_id}:{self.result.run}:"
                + (uuid.uuid4().hex[:12])
            )
        refined = self.setting == Setting.MEDIATOR_REFINER
        user_id = self.user_id or (self.env.refiner_user if refined else NO_GUIDELINES_USER)
        environment = task_system_prompt(self.task) or ""
        context = MediatorContext(
            **{
                **asdict(self.env.context),
                "user_id": user_id,
                "single_task": True,
                "assistant_environment": environment[:ASSISTANT_ENVIRONMENT_CHARS],
            }
        )
        config: Any = {"configurable": {"thread_id": self.thread_id}}
        began = time.perf_counter()
        values = await self.graph.ainvoke(
            {"messages": [HumanMessage(user.text)]}, config, context=context
        )
        seconds = time.perf_counter() - began
        text = text_of(values["messages"][-1])
        usage = values.get("turn_usage") or {"calls": []}
        asked = bool(values.get("should_clarify"))
        feedback, change = read_as(values)
        return TurnLog(
            user=user.text,
            reply=text,
            shard=user.shard,
            strategy="clarification" if asked else classify_strategy(text, self.task.family),
            clarification=asked,
            instruction="" if asked else values.get("instruction", ""),
            feedback=feedback,
            ledger_change=change,
            calls=len(usage["calls"]),
            prompt_tokens=sum(c["prompt_tokens"] for c in usage["calls"]),
            completion_tokens=sum(c["completion_tokens"] for c in usage["calls"]),
            seconds=round(seconds, 3),
        )

    async def _final_answer(self) -> None:
        """FINAL: the Assistant answers once, from the final instruction alone."""
        instruction = final_instruction(self.result.turns)
        if not instruction:
            self.result.detail = "the Mediator wrote no instruction"
            return
        log = await self._bare_turn(UserTurn(instruction, None), history=[])
        log.strategy = "answer_attempt"  # the one answer FINAL scores, whatever its form
        self.result.turns.append(log)
        self.final_log = log
        if self.task.family not in JUDGED_FAMILIES:
            self.last_check = await check_answer(self.task, log.reply)
            log.score = self.last_check.score

    async def _final_check(self) -> None:
        """Score the conversation: its last scored attempt, or judge its last answer."""
        attempts = [t for t in self.result.turns if t.strategy in ATTEMPTS]
        if self.setting == Setting.FINAL:
            attempts = [self.final_log] if self.final_log else []
        if self.task.family in JUDGED_FAMILIES and attempts:
            base_url = self.env.context.base_url
            self.last_check = await check_answer(
                self.task, attempts[-1].reply, judge=self.env.judge, base_url=base_url
            )
            attempts[-1].score = self.last_check.score
        scored = [t for t in self.result.turns if t.score is not None]
        if not scored or self.last_check is None:
            self.result.detail = "no answer attempt"
            return
        self.result.score = scored[-1].score or 0.0
        self.result.judged = self.last_check.judged
        self.result.detail = self.last_check.detail


async def run_conversation(
    env: EvalEnvironment,
    task: ShardedTask,
    setting: Setting | str,
    run: int,
    user_id: str | None = None,
) -> ConversationResult:
    """Play and score one conversation (``user_id``: see :class:`ConversationRunner`)."""
    return await ConversationRunner(env, task, Setting(setting), run, user_id).run()
