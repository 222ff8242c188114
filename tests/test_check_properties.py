"""Property tests of BuildRelease's check on hostile inputs: CheckFailures only, never an error.

Check runs in every preview with whatever the program passes, so any JSON-like input (and
values Pulumi does not know yet) must come back as the inputs plus CheckFailures naming a
property. Tested in process on the provider object and through a real ``python -m
pulumi.dynamic`` process over gRPC, where the inputs are protobuf Structs as the engine sends.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.dynamic import CheckFailure, CheckResult
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from streampixel_pulumi.checks import MAX_TRIGGER_DEPTH
from streampixel_pulumi.provider import INPUT_KEYS, BuildReleaseProvider
from tests.e2e.harness import UNKNOWN, ProviderError, ProviderProcess

MARK = "SECRETVALUE"  # strings carrying it must never be echoed in a reason
URN = "urn:pulumi:dev::props::pulumi-python:dynamic/streampixel:BuildRelease::release"
TYPE = "pulumi-python:dynamic/streampixel:BuildRelease"

_TEXT = st.text(max_size=12) | st.text(max_size=8).map(lambda s: MARK + s)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _TEXT
)


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _json_like(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """JSON-like values of moderate size, plus a few deeply nested ones."""
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=12,
    ) | st.integers(MAX_TRIGGER_DEPTH - 2, MAX_TRIGGER_DEPTH + 8).map(_nested)


def _inputs(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of the resource's inputs plus unrelated keys, each with any value."""
    return st.fixed_dictionaries({}, optional=dict.fromkeys(INPUT_KEYS, values)) | st.dictionaries(
        st.sampled_from([*INPUT_KEYS, "extra", "uploadId", ""]), values
    )


_IN_PROCESS = _json_like(_SCALARS | st.builds(Unknown))


def _assert_only_failures(result: CheckResult, news: dict[str, Any]) -> None:
    assert isinstance(result, CheckResult)
    assert result.inputs == news or _same_with_nan(result.inputs, news)
    for failure in result.failures or []:
        assert isinstance(failure, CheckFailure)
        assert failure.property in INPUT_KEYS
        assert isinstance(failure.reason, str)
        assert failure.reason
        assert MARK not in failure.reason


def _same_with_nan(left: Any, right: Any) -> bool:
    """Equality where NaN equals NaN (inputs are returned as given)."""
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same_with_nan(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same_with_nan, left, right))
    return bool(left == right) or (isinstance(left, Unknown) and isinstance(right, Unknown))


@settings(max_examples=200, deadline=None)
@given(news=_inputs(_IN_PROCESS))
def test_check_answers_any_input_with_failures_only(news: dict[str, Any]) -> None:
    """The provider's check returns the inputs and CheckFailures for any JSON-like input."""
    result = BuildReleaseProvider().check({}, news)
    _assert_only_failures(result, news)


@settings(max_examples=100, deadline=None)
@given(olds=_inputs(_IN_PROCESS), news=_inputs(_IN_PROCESS))
def test_check_ignores_whatever_the_old_inputs_were(
    olds: dict[str, Any], news: dict[str, Any]
) -> None:
    """Old inputs from a damaged state never turn check into an error."""
    _assert_only_failures(BuildReleaseProvider().check(olds, news), news)


@settings(max_examples=100, deadline=None)
@given(project_id=_TEXT, upload_id=_TEXT, deadline=st.floats(allow_nan=True, allow_infinity=True))
def test_valid_looking_ids_fail_only_on_whitespace_or_emptiness(
    project_id: str, upload_id: str, deadline: float
) -> None:
    """A string id fails exactly when it is empty or holds whitespace, naming the property."""
    news = {"project_id": project_id, "upload_id": upload_id, "deadline_seconds": deadline}
    failed = {f.property for f in BuildReleaseProvider().check({}, news).failures or []}
    for name, value in (("project_id", project_id), ("upload_id", upload_id)):
        bad = value == "" or any(char.isspace() for char in value)
        assert (name in failed) == bad
    assert ("deadline_seconds" in failed) == (not (math.isfinite(deadline) and deadline > 0))


@pytest.fixture(scope="module")
def provider_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderProcess]:
    """One ``python -m pulumi.dynamic`` process, configured with an empty stack config."""
    cwd: Path = tmp_path_factory.mktemp("check-provider")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMPIXEL_", "PULUMI_"))}
    process = ProviderProcess(cwd, env, python=sys.executable, call_timeout=30)
    try:
        process.connect()
        process.get_plugin_info()
        process.configure({})
        yield process
    finally:
        process.close()


# Protobuf refuses messages nested much deeper than 100 levels, the engine included, so the
# values sent over gRPC stay within the generator's depth (about 40 JSON levels at most).
_OVER_GRPC = _json_like(_SCALARS | st.just(UNKNOWN))
_BLOB = serialize_provider(BuildReleaseProvider())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(news=_inputs(_OVER_GRPC))
def test_check_over_grpc_answers_any_input_with_failures_only(
    provider_process: ProviderProcess, news: dict[str, Any]
) -> None:
    """Through the provider process, any input gets a CheckResponse, never a gRPC error."""
    try:
        outcome = provider_process.check(URN, TYPE, "release", {}, {**news, "__provider": _BLOB})
    except ProviderError as error:  # pragma: no cover - the failure this test looks for
        pytest.fail(f"Check raised in the provider:\n{error.details}")
    for prop, reason in outcome.failures:
        assert prop in INPUT_KEYS
        assert reason
        assert MARK not in reason
    # None values are dropped on the way, as the engine drops them.
    kept = {key for key, value in news.items() if value is not None}
    assert kept | {"__provider"} <= set(outcome.inputs) <= {*news, "__provider"}
