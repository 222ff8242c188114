"""Pure validation of BuildRelease inputs (the provider's ``check``).

No I/O and no credentials: check runs in every preview. Problems are returned as
(property, reason) pairs that become Pulumi CheckFailures, never raised. Values not yet known
(``pulumi.output.Unknown``, e.g. another resource's output during preview) pass unchecked.
Input values are never echoed in a reason: only what is wrong with them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown

__all__ = ["MAX_TRIGGER_DEPTH", "Failure", "check_inputs", "is_unknown"]

MAX_TRIGGER_DEPTH = 32

Failure = tuple[str, str]
"""(property name, reason)."""

_WHITESPACE = re.compile(r"\s")


def is_unknown(value: Any) -> bool:
    """True for a value Pulumi does not know yet (preview of a dependent output)."""
    return isinstance(value, Unknown)


def check_inputs(news: Mapping[str, Any]) -> list[Failure]:
    """Validate the inputs of one BuildRelease and return every problem found."""
    failures: list[Failure] = []
    for name, what in (("project_id", "Streampixel project id"), ("upload_id", "upload id")):
        problem = _id_problem(news.get(name), what)
        if problem:
            failures.append((name, problem))
    problem = _triggers_problem(news.get("triggers"))
    if problem:
        failures.append(("triggers", problem))
    for name in ("deadline_seconds", "confirm_deadline_seconds"):
        problem = _deadline_problem(news.get(name))
        if problem:
            failures.append((name, problem))
    problem = _flag_problem(news.get("confirm"))
    if problem:
        failures.append(("confirm", problem))
    return failures


def _id_problem(value: Any, what: str) -> str | None:
    if is_unknown(value):
        return None
    if value is None:
        return f"is required: the {what}, as shown in the Streampixel dashboard"
    if not isinstance(value, str):
        return f"must be a string (the {what}), got {type(value).__name__}"
    if value == "":
        return f"must not be empty: give the {what}"
    if _WHITESPACE.search(value):
        return f"must not contain whitespace (the {what} is a single token)"
    return None


def _triggers_problem(value: Any) -> str | None:
    if value is None or is_unknown(value):
        return None
    if not isinstance(value, (list, tuple)):
        return f"must be a list of JSON-like values, got {type(value).__name__}"
    for index, item in enumerate(value):
        problem = _json_problem(item, 1)
        if problem:
            return f"item {index} {problem}"
    return None


def _json_problem(value: Any, depth: int) -> str | None:
    """Why `value` is not JSON-like (None if it is); unknown parts pass."""
    if depth > MAX_TRIGGER_DEPTH:
        return f"is nested deeper than {MAX_TRIGGER_DEPTH} levels"
    if value is None or is_unknown(value) or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "is not a finite number"
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = _json_problem(item, depth + 1)
            if problem:
                return f"[{index}] {problem}"
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return "has a mapping key that is not a string"
            problem = _json_problem(item, depth + 1)
            if problem:
                return f"[{key!r}] {problem}"
        return None
    return f"is a {type(value).__name__}, not a JSON value (string, number, bool, null, list, map)"


def _flag_problem(value: Any) -> str | None:
    if value is None or is_unknown(value) or isinstance(value, bool):
        return None
    return f"must be true or false (or left out to follow streampixel:confirm), got {type(value).__name__}"


def _deadline_problem(value: Any) -> str | None:
    if value is None or is_unknown(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a number of seconds, got {type(value).__name__}"
    if not math.isfinite(value) or value <= 0:
        return "must be a finite number of seconds greater than zero"
    return None
