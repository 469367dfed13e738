"""The per-user protocol: whether a user's own guidelines help that user, and harm another.

For each persona (:mod:`.personas`), the tasks are split in two (the same
stable split as MEDIATOR+REFINER). On the training split the persona's
MEDIATOR conversations feed the Refiner for the persona's user id; on the
test split every persona plays four settings:

* ``MEDIATOR``: no guidelines;
* ``MEDIATOR+OWN``: the persona's own guidelines;
* ``MEDIATOR+OTHER``: the next persona's guidelines (the cross-user harm check);
* ``MEDIATOR+POOLED``: one set learned from every persona's training
  conversations (the "average user" a Mediator without per-user memory serves).

Then guideline hygiene (:mod:`langgraph_mediator.guidelines.retirement`): each
of a persona's rules is tried on the test split with the persona's set less that
rule (``MEDIATOR+OWN-without-G<n>``; for a one-rule set, MEDIATOR is that run),
and a rule whose paired gain is not above ``min_gain`` is retired from the
persona's set as a new version, with the reason. The retirement decision reads
the test split, so OWN's figure is the set before retirement.

Every (persona, setting) is a LangSmith experiment; conversations are kept in
``<run>/personas/<persona>/conversations.jsonl`` and resume like any run. The
Refiner runs again on a rerun (its calls come from the response cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from langgraph_mediator.errors import MediatorError
from langgraph_mediator.evals.benchmark import (
    Benchmark,
    EvalRun,
    ProgressHook,
    Variant,
    split_tasks,
    trajectory_of,
)
from langgraph_mediator.evals.conversation import (
    NO_GUIDELINES_USER,
    ConversationResult,
    EvalEnvironment,
    Setting,
)
from langgraph_mediator.evals.personas import Persona
from langgraph_mediator.evals.simulator import LLMSimulator, RuleBasedSimulator
from langgraph_mediator.guidelines import (
    ConversationKey,
    RuleTrial,
    acurrent_version,
    aput_guidelines,
    aretire_guidelines,
    retirement_reason,
)
from langgraph_mediator.refine import RefineReport, refine_from_runs
from langgraph_mediator.state.refiner import Guideline, Trajectory

TRAIN = "MEDIATOR-train"
OWN, OTHER, POOLED = "MEDIATOR+OWN", "MEDIATOR+OTHER", "MEDIATOR+POOLED"
USER_SETTINGS = (str(Setting.MEDIATOR), OWN, OTHER, POOLED)
"""The four settings every persona plays on its test split."""
POOLED_USER = "persona-pooled"
"""The user id of the set learned from every persona's conversations."""
WITHOUT = OWN + "-without-"
"""Prefix of the leave-one-rule-out settings of guideline hygiene."""


def other_persona(persona: Persona, personas: Sequence[Persona]) -> Persona:
    """Whose guidelines ``persona`` is given under MEDIATOR+OTHER: the next one, in a ring."""
    names = [p.name for p in personas]
    return personas[(names.index(persona.name) + 1) % len(personas)]


def guideline_user(setting: str, persona: Persona, personas: Sequence[Persona]) -> str:
    """The user id whose guidelines the Mediator reads for ``persona`` under ``setting``."""
    users = {
        str(Setting.MEDIATOR): NO_GUIDELINES_USER,
        OWN: persona.user_id,
        OTHER: other_persona(persona, personas).user_id,
        POOLED: POOLED_USER,
    }
    if setting not in users:
        raise ValueError(f"unknown per-user setting {setting!r}; choose from {USER_SETTINGS}")
    return users[setting]


def played_by(env: EvalEnvironment, persona: Persona) -> EvalEnvironment:
    """``env`` with its simulator (rule-based or LLM-based) speaking as ``persona``."""
    simulator = env.simulator
    if isinstance(simulator, LLMSimulator):
        speaker: RuleBasedSimulator = LLMSimulator(
            simulator.model, base_url=simulator.base_url, persona=persona
        )
    else:
        speaker = RuleBasedSimulator(persona)
    return replace(env, simulator=speaker)


@dataclass
class Learned:
    """What the Refiner made of one user's training conversations."""

    user_id: str
    trajectories: int
    guidelines: list[str] = field(default_factory=list)
    rejected: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    """Why the Refiner stopped (the user then has no guidelines: OWN reads as MEDIATOR)."""

    @classmethod
    def of(cls, user_id: str, trajectories: int, report: RefineReport) -> Learned:
        """Summarise a Refiner run."""
        return cls(
            user_id=user_id,
            trajectories=trajectories,
            guidelines=[g["text"] for g in report.guidelines],
            rejected=len(report.rejected),
            calls=len(report.usage),
            prompt_tokens=sum(c["prompt_tokens"] for c in report.usage),
            completion_tokens=sum(c["completion_tokens"] for c in report.usage),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``per_user.json``)."""
        return asdict(self)


@dataclass(frozen=True)
class RuleVerdict:
    """What re-evaluation made of one of a persona's rules."""

    guideline_id: str
    text: str
    paired: int
    """Test conversations played both with and without the rule."""
    gain: float | None
    """Mean score (0-1) with the rule minus without it; ``None`` when untried."""
    retired: str | None
    """Why it was retired; ``None`` when kept."""

    @classmethod
    def of(cls, trial: RuleTrial, reason: str | None) -> RuleVerdict:
        """The verdict on ``trial``."""
        return cls(trial.guideline_id, trial.text, len(trial.paired), trial.gain, reason)


@dataclass(kw_only=True)
class PerUserRun(EvalRun):
    """A per-user run: personas, tasks, where results go, and what was learned."""

    personas: list[Persona]
    train_fraction: float = 0.5
    retire: bool = True
    """Re-evaluate each persona's rules on the test split and retire those without a gain."""
    min_gain: float = 0.0
    """A rule is kept only when its mean paired gain (0-1 scale) is above this."""
    learned: dict[str, Learned] = field(default_factory=dict)
    hygiene: dict[str, list[RuleVerdict]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """One benchmark per persona, each with its own results file."""
        if len(self.personas) < 2:
            raise ValueError("the per-user protocol needs at least two personas (for OTHER)")
        self.train, self.test = split_tasks(self.tasks, self.train_fraction)
        if not self.train or not self.test:
            raise ValueError(
                f"{len(self.tasks)} task(s) split into {len(self.train)} for training and "
                f"{len(self.test)} for testing: both need one; pass more tasks"
            )
        self.benches = {
            p.name: Benchmark(
                env=played_by(self.env, p),
                tasks=self.tasks,
                settings=[],
                runs=self.runs,
                out_dir=self.out_dir / "personas" / p.name,
                run_name=f"{self.run_name}-{p.name}",
                concurrency=self.concurrency,
                upload=self.upload,
                on_result=self._progress(p),
            )
            for p in self.personas
        }

    def _progress(self, persona: Persona) -> ProgressHook:
        def report(key: str, result: ConversationResult) -> None:
            if self.on_result:
                self.on_result(f"{persona.name} {key}", result)

        return report

    @property
    def failed(self) -> list[ConversationResult]:
        """Conversations whose endpoint failed, over every persona."""
        return [r for b in self.benches.values() for r in b.failed]

    @property
    def unreachable(self) -> str | None:
        """Set when a persona's first conversations could not reach the endpoint."""
        return next((b.unreachable for b in self.benches.values() if b.unreachable), None)

    async def run(self, refiner_model: Any = None) -> None:
        """Train conversations, the Refiner per persona and pooled, then the four settings."""
        for persona in self.personas:
            await self.benches[persona.name].run_setting(
                Setting.MEDIATOR, self.train, variant=Variant(TRAIN, NO_GUIDELINES_USER)
            )
            if self.unreachable:
                return
        await self.learn(refiner_model)
        for persona in self.personas:
            for setting in USER_SETTINGS:
                user = guideline_user(setting, persona, self.personas)
                variant = Variant(setting, user)
                await self.benches[persona.name].run_setting(
                    Setting.MEDIATOR, self.test, variant=variant
                )
        if self.retire:
            for persona in self.personas:
                await self.reevaluate(persona)

    def training_trajectories(self, persona: Persona) -> list[Trajectory]:
        """The persona's training conversations as trajectories, ids prefixed by its name."""
        done = self.benches[persona.name].results.of(TRAIN, {t.task_id for t in self.train})
        return [
            trajectory_of(r).model_copy(update={"id": f"{persona.name}/{r.task_id}:{r.run}"})
            for r in done
            if r.turns
        ]

    async def learn(self, refiner_model: Any = None) -> None:
        """The Refiner for each persona's user id, and once over everyone for the pooled set."""
        every: list[Trajectory] = []
        for persona in self.personas:
            trajectories = self.training_trajectories(persona)
            every += trajectories
            self.learned[persona.name] = await self._refine(
                persona.user_id, trajectories, refiner_model
            )
        self.learned["pooled"] = await self._refine(POOLED_USER, every, refiner_model)

    async def _refine(
        self, user_id: str, trajectories: list[Trajectory], refiner_model: Any
    ) -> Learned:
        assert self.env.store is not None, "the per-user protocol needs a store"
        try:
            report = await refine_from_runs(
                trajectories,
                user_id,
                store=self.env.store,
                model=refiner_model,
                context=self.env.context,
                reference_instructions={t.task_id: t.full_instruction for t in self.train},
            )
        except MediatorError as exc:
            return Learned(user_id, len(trajectories), error=f"{type(exc).__name__}: {exc}"[:300])
        return Learned.of(user_id, len(trajectories), report)

    def results(self, persona: Persona) -> list[ConversationResult]:
        """The persona's test conversations of the four settings."""
        test_ids = {t.task_id for t in self.test}
        bench = self.benches[persona.name]
        return [r for s in USER_SETTINGS for r in bench.results.of(s, test_ids)]

    def scores(self, persona: Persona, setting: str) -> dict[ConversationKey, float]:
        """The persona's test scores under ``setting``, keyed by (task, run)."""
        done = self.benches[persona.name].results.of(setting, {t.task_id for t in self.test})
        return {(r.task_id, r.run): r.score for r in done}

    async def reevaluate(self, persona: Persona) -> None:
        """Try each of the persona's rules against its set less that rule; retire the idle."""
        store = self.env.store
        assert store is not None, "the per-user protocol needs a store"
        current = await acurrent_version(store, persona.user_id)
        rules = current["guidelines"] if current else []
        if not rules:
            return
        with_all = self.scores(persona, OWN)
        verdicts: list[RuleVerdict] = []
        reasons: dict[str, str] = {}
        for rule in rules:
            without = await self._without(persona, rule, rules)
            trial = RuleTrial(rule["id"], rule["text"], with_all, without)
            reason = retirement_reason(trial, self.min_gain)
            if reason:
                reasons[rule["id"]] = reason
            verdicts.append(RuleVerdict.of(trial, reason))
        self.hygiene[persona.name] = verdicts
        await aretire_guidelines(
            store, persona.user_id, reasons, source=f"per-user re-evaluation ({self.run_name})"
        )

    async def _without(
        self, persona: Persona, rule: Guideline, rules: list[Guideline]
    ) -> dict[ConversationKey, float]:
        """The persona's test scores with ``rules`` less ``rule`` (MEDIATOR's when none is left)."""
        rest = [g["text"] for g in rules if g["id"] != rule["id"]]
        if not rest:
            return self.scores(persona, str(Setting.MEDIATOR))
        store = self.env.store
        assert store is not None
        key, user = WITHOUT + rule["id"], f"{persona.user_id}~without-{rule['id']}"
        await aput_guidelines(store, user, rest, source=f"hygiene of {persona.user_id}")
        bench = self.benches[persona.name]
        await bench.run_setting(Setting.MEDIATOR, self.test, variant=Variant(key, user))
        return self.scores(persona, key)
