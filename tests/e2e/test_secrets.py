"""End-to-end: the API key never shows in outputs, state, provider lines or errors."""

from __future__ import annotations

import json

import pytest

from streampixel_pulumi.emulator.demo import DEMO_API_KEY, DEMO_UPLOAD_IDS
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.e2e.conftest import DISTRIBUTE, MakeStack
from tests.e2e.harness import OperationFailed, ProviderError, Stack


def everything_visible(stack: Stack, errors: list[BaseException]) -> str:
    """All a user or a CI log could see: provider lines, errors with tracebacks, state."""
    parts = list(stack.lines)
    for error in errors:
        parts.append(str(error))
        if isinstance(error, ProviderError):
            parts.append(error.details)
    for state in stack.state.values():
        parts.append(json.dumps(state.inputs))
        parts.append(json.dumps(state.outputs))
    return "\n".join(parts)


def test_api_key_appears_in_no_output_line_or_error(stack: Stack, emulator: EmulatorServer) -> None:
    """Across a release, waits, a failure, refresh and destroy the key is never shown."""
    errors: list[BaseException] = []
    emulator.control.add_fault(
        DISTRIBUTE,
        status=429,
        body={"message": f"Rate limit exceeded for {DEMO_API_KEY}. Try again in 1 seconds."},
    )
    stack.up()
    emulator.control.add_fault(
        DISTRIBUTE, status=500, body={"message": f"Internal server error near {DEMO_API_KEY}"}
    )
    stack.config.set("uploadId", DEMO_UPLOAD_IDS[1])
    with pytest.raises(OperationFailed) as caught:
        stack.up(skip_preview=True)
    errors.extend(caught.value.errors)
    stack.refresh()
    stack.destroy()
    visible = everything_visible(stack, errors)
    assert "rate limited" in visible
    assert "HTTP 500" in visible
    assert DEMO_API_KEY not in visible


def test_wrong_key_appears_in_no_error(make_stack: MakeStack, emulator: EmulatorServer) -> None:
    """A rejected key is not echoed by the 401 failure either."""
    wrong_key = "sp_leaked_if_printed_123456"
    stack = make_stack(api_key=wrong_key)
    with pytest.raises(OperationFailed) as caught:
        stack.up()
    visible = everything_visible(stack, list(caught.value.errors))
    assert "HTTP 401" in visible
    assert wrong_key not in visible
