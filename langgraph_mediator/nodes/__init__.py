"""The mediator graph's nodes, one module each, with their prompts beside them."""

from langgraph_mediator.nodes.clarify import clarify, question_for, wants_clarification
from langgraph_mediator.nodes.classify_feedback import build_instruction, classify_feedback
from langgraph_mediator.nodes.detect_intent import SYSTEM_PROMPT, make_detect_intent
from langgraph_mediator.nodes.execute import Executor, make_execute

__all__ = [
    "SYSTEM_PROMPT",
    "Executor",
    "build_instruction",
    "clarify",
    "classify_feedback",
    "make_detect_intent",
    "make_execute",
    "question_for",
    "wants_clarification",
]
