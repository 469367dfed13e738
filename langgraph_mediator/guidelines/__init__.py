"""Per-user guidelines: where they are stored, and what may become one.

* :mod:`.store`: the set in force and every version of it, under
  ``("guidelines", user_id)`` in any LangGraph Store; rollback included;
* :mod:`.validation`: the validator every proposed rule must pass, so a
  poisoned trajectory cannot plant an instruction; the Refiner's write and
  every read for a prompt hold stored rules to it again;
* :mod:`.retirement`: a rule that does not help its user on held-out
  conversations is retired, as a new version that says why.

The mediator graph reads them at the start of each turn; the refiner graph
writes them.
"""

from langgraph_mediator.guidelines.retirement import (
    ConversationKey,
    RuleTrial,
    aretire_guidelines,
    retirement_reason,
)
from langgraph_mediator.guidelines.store import (
    GuidelineVersion,
    RetiredGuideline,
    acurrent_version,
    alist_versions,
    aload_guidelines,
    aput_guidelines,
    arollback,
    asave_guidelines,
    current_version,
    guidelines_namespace,
    list_versions,
    load_guidelines,
    now_iso,
    put_guidelines,
    rollback,
    save_guidelines,
    versions_namespace,
)
from langgraph_mediator.guidelines.validation import (
    guideline_problem,
    has_fence_marker,
    one_line,
    stored_rule_problem,
    trajectory_facts,
)

__all__ = [
    "ConversationKey",
    "GuidelineVersion",
    "RetiredGuideline",
    "RuleTrial",
    "aretire_guidelines",
    "retirement_reason",
    "acurrent_version",
    "asave_guidelines",
    "current_version",
    "guideline_problem",
    "has_fence_marker",
    "one_line",
    "stored_rule_problem",
    "trajectory_facts",
    "guidelines_namespace",
    "alist_versions",
    "list_versions",
    "aload_guidelines",
    "load_guidelines",
    "now_iso",
    "aput_guidelines",
    "put_guidelines",
    "arollback",
    "rollback",
    "save_guidelines",
    "versions_namespace",
]
