"""Tests of the pure diff decision (olds are previous outputs)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from streampixel_pulumi.diff import decide, normalize_triggers, triggers_equal

PROJECT = "664f1a2b3c4d5e6f7a8b9c0d"
OLD_OUTPUTS: dict[str, Any] = {
    "project_id": PROJECT,
    "upload_id": "u1",
    "previous_upload_id": None,
    "region": "europe",
    "status": "triggered",
    "triggered_at": "2024-05-01T12:00:00+00:00",
    "action": "release",
    "history": [{"upload_id": "u1", "action": "release", "triggered_at": "x"}],
    "message": "File distribution triggered successfully",
    "triggers": ["a", 1.0],
    "__provider": "old-blob",
}


def news(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "project_id": PROJECT,
        "upload_id": "u1",
        "triggers": ["a", 1],
        "__provider": "old-blob",
    }
    values.update(changes)
    return values


@pytest.mark.parametrize(
    ("new", "changes", "replaces"),
    [
        (news(), False, []),
        (news(__provider="a-different-blob"), False, []),
        (news(deadline_seconds=30.0), False, []),
        (news(confirm=True), False, []),
        (news(confirm=False, confirm_deadline_seconds=60.0), False, []),
        (news(confirm=Unknown(), confirm_deadline_seconds=Unknown()), False, []),
        (news(project_id="664f000000000000000000ff"), True, ["project_id"]),
        (news(upload_id="u2"), True, []),
        (news(triggers=["b", 1]), True, []),
        (news(triggers=None), True, []),
        (news(project_id=Unknown()), True, ["project_id"]),
        (news(upload_id=Unknown()), True, []),
        (news(triggers=Unknown()), True, []),
        (news(triggers=["a", Unknown()]), True, []),
    ],
    ids=[
        "unchanged",
        "provider-blob-only",
        "deadline-only",
        "confirm-on",
        "confirm-off-with-deadline",
        "confirm-unknown",
        "project-replaces",
        "upload-updates",
        "triggers-update",
        "triggers-removed",
        "unknown-project",
        "unknown-upload",
        "unknown-triggers",
        "unknown-inside-triggers",
    ],
)
def test_decision_for_each_kind_of_change(
    new: dict[str, Any], changes: bool, replaces: list[str]
) -> None:
    """Only project_id, upload_id and triggers count; project_id replaces; confirmation never distributes."""
    decision = decide(PROJECT, OLD_OUTPUTS, new)
    assert decision.changes is changes
    assert decision.replaces == replaces


def test_integer_and_float_triggers_are_equal() -> None:
    """Numbers come back from state as floats; 1 and 1.0 are the same trigger."""
    assert triggers_equal([1, {"n": 2}], [1.0, {"n": 2.0}])


def test_bool_trigger_is_not_a_number() -> None:
    """True and 1 are different triggers although Python says True == 1."""
    assert not triggers_equal([True], [1])


def test_absent_and_empty_triggers_are_equal() -> None:
    """No triggers and an empty list mean the same thing."""
    assert triggers_equal(None, [])
    assert normalize_triggers(None) == []


def test_missing_project_in_outputs_falls_back_to_id() -> None:
    """Old state without project_id among outputs compares against the resource id."""
    olds = {key: value for key, value in OLD_OUTPUTS.items() if key != "project_id"}
    assert decide(PROJECT, olds, news()).changes is False


def test_missing_upload_in_outputs_means_change() -> None:
    """Old state without upload_id cannot prove the build is live: update."""
    olds = {key: value for key, value in OLD_OUTPUTS.items() if key != "upload_id"}
    assert decide(PROJECT, olds, news()).changed == ["upload_id"]
