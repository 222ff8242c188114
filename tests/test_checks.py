"""Tests of check: input validation without network, failures never raised."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from streampixel_pulumi.checks import MAX_TRIGGER_DEPTH, check_inputs

VALID = {"project_id": "664f1a2b3c4d5e6f7a8b9c0d", "upload_id": "665a00000000000000000001"}


def with_(**changes: Any) -> dict[str, Any]:
    news = dict(VALID)
    news.update(changes)
    return {key: value for key, value in news.items() if value is not _DROP}


_DROP = object()


def test_valid_inputs_have_no_failures() -> None:
    """Two ids, triggers and a deadline pass."""
    assert (
        check_inputs(with_(triggers=["v1", 2, 3.5, True, None, {"a": [1]}], deadline_seconds=60.0))
        == []
    )


@pytest.mark.parametrize(
    ("news", "prop", "fragment"),
    [
        (with_(project_id=_DROP), "project_id", "is required"),
        (with_(project_id=""), "project_id", "must not be empty"),
        (with_(project_id="664f 1a2b"), "project_id", "whitespace"),
        (with_(project_id=42), "project_id", "must be a string"),
        (with_(upload_id=_DROP), "upload_id", "is required"),
        (with_(upload_id="665a\n"), "upload_id", "whitespace"),
        (with_(upload_id=["x"]), "upload_id", "must be a string"),
        (with_(triggers="v1"), "triggers", "must be a list"),
        (with_(triggers=[float("nan")]), "triggers", "not a finite number"),
        (with_(triggers=[{"a": object()}]), "triggers", "not a JSON value"),
        (with_(triggers=[{1: "a"}]), "triggers", "not a string"),
        (with_(deadline_seconds=0), "deadline_seconds", "greater than zero"),
        (with_(deadline_seconds=-5.0), "deadline_seconds", "greater than zero"),
        (with_(deadline_seconds="60"), "deadline_seconds", "number of seconds"),
        (with_(deadline_seconds=True), "deadline_seconds", "number of seconds"),
        (with_(deadline_seconds=float("inf")), "deadline_seconds", "finite"),
        (with_(confirm="yes"), "confirm", "true or false"),
        (with_(confirm=1), "confirm", "true or false"),
        (with_(confirm_deadline_seconds=0), "confirm_deadline_seconds", "greater than zero"),
        (with_(confirm_deadline_seconds="soon"), "confirm_deadline_seconds", "number of seconds"),
    ],
    ids=[
        "project-missing",
        "project-empty",
        "project-whitespace",
        "project-not-string",
        "upload-missing",
        "upload-newline",
        "upload-list",
        "triggers-not-list",
        "triggers-nan",
        "triggers-object",
        "triggers-non-string-key",
        "deadline-zero",
        "deadline-negative",
        "deadline-string",
        "deadline-bool",
        "deadline-infinite",
        "confirm-string",
        "confirm-number",
        "confirm-deadline-zero",
        "confirm-deadline-string",
    ],
)
def test_invalid_input_is_a_failure_naming_property_and_problem(
    news: dict[str, Any], prop: str, fragment: str
) -> None:
    """Each bad input yields one (property, reason) failure, never an exception."""
    failures = check_inputs(news)
    assert [name for name, _ in failures] == [prop]
    assert fragment in failures[0][1]


def test_confirmation_inputs_are_valid_when_bool_and_positive() -> None:
    """confirm true or false and a positive confirm_deadline_seconds pass."""
    assert check_inputs(with_(confirm=True, confirm_deadline_seconds=120.0)) == []
    assert check_inputs(with_(confirm=False, confirm_deadline_seconds=1)) == []


def test_several_problems_are_all_reported() -> None:
    """Every bad property is reported in one check."""
    failures = check_inputs({"project_id": "", "upload_id": " ", "deadline_seconds": -1})
    assert {name for name, _ in failures} == {"project_id", "upload_id", "deadline_seconds"}


def test_reason_does_not_echo_the_value() -> None:
    """Reasons say what is wrong, without repeating the input."""
    failures = check_inputs(with_(upload_id="secret looking value"))
    assert "secret looking value" not in failures[0][1]


def test_unknown_values_pass_through() -> None:
    """Values unknown during preview are not judged."""
    news = {
        "project_id": Unknown(),
        "upload_id": Unknown(),
        "triggers": [Unknown(), {"k": Unknown()}],
        "deadline_seconds": Unknown(),
        "confirm": Unknown(),
        "confirm_deadline_seconds": Unknown(),
    }
    assert check_inputs(news) == []
    assert check_inputs(with_(triggers=Unknown())) == []


def test_deeply_nested_triggers_fail() -> None:
    """Triggers nested beyond the limit are rejected rather than recursing forever."""
    value: Any = "leaf"
    for _ in range(MAX_TRIGGER_DEPTH + 2):
        value = [value]
    failures = check_inputs(with_(triggers=[value]))
    assert failures[0][0] == "triggers"
    assert "nested deeper" in failures[0][1]
