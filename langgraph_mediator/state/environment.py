"""Reading the run contexts' defaults from ``MEDIATOR_*`` and ``OPENAI_*`` variables.

Each reader counts an empty variable as unset (``MEDIATOR_TIMEOUT=`` keeps the
default) and refuses a malformed value with a message naming the variable and
an example, so a typo fails when the context is made rather than deep inside a
run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

DEFAULT_MODEL = ""
"""No name: the endpoint's own model (the one it serves), or the embedded model."""

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def env_text(name: str, default: str | None = None) -> str | None:
    """The variable ``name``, or ``default`` when it is unset or empty."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_number(name: str, default: float, parse: Callable[[str], float], what: str) -> Any:
    raw = env_text(name)
    if raw is None:
        return default
    try:
        return parse(raw.strip())
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not {what}, e.g. {name}={default}") from None


def env_int(name: str, default: int) -> int:
    """The variable ``name`` as a whole number, or ``default`` when unset."""
    return int(_env_number(name, default, int, "a whole number"))


def env_float(name: str, default: float) -> float:
    """The variable ``name`` as a number, or ``default`` when unset."""
    return float(_env_number(name, default, float, "a number"))


def env_bool(name: str, default: bool) -> bool:
    """The variable ``name`` as true (true/1/yes/on) or false (false/0/no/off)."""
    raw = env_text(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE + _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValueError(f"{name}={raw!r} is neither true nor false, e.g. {name}=true")


def default_user_id() -> str:
    """The user a context names when nobody set one (``MEDIATOR_USER_ID``, else "default")."""
    return env_text("MEDIATOR_USER_ID", "default") or "default"


def model_from_env(*names: str) -> str:
    """The first of ``names`` set in the environment, else ``MEDIATOR_MODEL``, else the default."""
    for name in (*names, "MEDIATOR_MODEL"):
        value = env_text(name)
        if value is not None:
            return value
    return DEFAULT_MODEL
