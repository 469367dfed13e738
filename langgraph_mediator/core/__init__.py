"""The cores of both graphs: plain functions over plain data, no LangGraph node in it.

The modules here are the Mediator's; :mod:`.refiner` is the Refiner's (diagnosis,
proposal, merge, and the checks before a write), which uses none of them.

* :mod:`.prompts`: what the Mediator is told (system prompt, the turn it reads);
* :mod:`.reading`: reading a turn (the structured call, the fallback, the safeguards);
* :mod:`.policy`: when to ask, and what to ask;
* :mod:`.ledger`: the requirement ledger (what the user asked for, what replaced what);
* :mod:`.tasks`: the thread's tasks (which one a turn is about; the others' records);
* :mod:`.turn`: the thread's bookkeeping once a turn is read, and once it is answered;
* :mod:`.steps`: the steps (open the turn; ask, wait for more or instruct) every shell
  runs, and :func:`~.steps.next_step`, the one decision between them;
* :mod:`.instruction`: the explicit instruction, and what the Assistant is sent;
* :mod:`.assistant`: handing that to any executor and counting its calls;
* :mod:`.messages`: validating user text; fencing and masking live in
  :mod:`langgraph_mediator.text`, below the core, since the models use them too.

Each graph's nodes (:mod:`langgraph_mediator.nodes.mediator`,
:mod:`langgraph_mediator.nodes.refiner`) are thin shells over these functions.
"""

from langgraph_mediator.core.assistant import Executor, arun_assistant, run_assistant
from langgraph_mediator.core.instruction import assistant_messages, build_instruction
from langgraph_mediator.core.ledger import (
    active_requirements,
    apply_reading,
    describe_delta,
    format_ledger,
    read_as,
    record_reading,
)
from langgraph_mediator.core.messages import pending_user_text, text_of, validate_user_message
from langgraph_mediator.core.policy import question_for, wants_clarification
from langgraph_mediator.core.prompts import mediator_prompt
from langgraph_mediator.core.reading import TurnReading, aread_message, read_message
from langgraph_mediator.core.steps import (
    CONTINUE_REPLY,
    aopen_turn,
    clarification_update,
    continuation_update,
    instruction_update,
    next_step,
    open_turn,
)
from langgraph_mediator.core.turn import (
    add_calls,
    answer_update,
    check_thread_owner,
    opening_update,
)
from langgraph_mediator.text import comparison_key, fence, redact_secrets

__all__ = [
    "aopen_turn",
    "aread_message",
    "arun_assistant",
    "CONTINUE_REPLY",
    "Executor",
    "TurnReading",
    "active_requirements",
    "add_calls",
    "apply_reading",
    "assistant_messages",
    "answer_update",
    "build_instruction",
    "check_thread_owner",
    "clarification_update",
    "comparison_key",
    "continuation_update",
    "describe_delta",
    "fence",
    "format_ledger",
    "instruction_update",
    "next_step",
    "mediator_prompt",
    "open_turn",
    "opening_update",
    "pending_user_text",
    "question_for",
    "read_as",
    "read_message",
    "record_reading",
    "redact_secrets",
    "run_assistant",
    "text_of",
    "validate_user_message",
    "wants_clarification",
]
