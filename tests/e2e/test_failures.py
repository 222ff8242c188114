"""End-to-end: waits that are waited out, and failures that leave state as it was.

Rate limits and unready builds are retried within the deadline with progress lines naming
the project; 401/403/404 fail at once with the server's message and the fix, record nothing,
and the next up tries again.
"""

from __future__ import annotations

import threading

import pytest

from streampixel_pulumi.emulator.demo import DEMO_API_KEY, DEMO_PROJECT_ID, DEMO_UPLOAD_IDS
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.e2e.conftest import DISTRIBUTE, MakeStack, distributions, seed_project
from tests.e2e.harness import OperationFailed, ProviderError, Stack

U1, U2 = DEMO_UPLOAD_IDS


def provider_error(caught: pytest.ExceptionInfo[OperationFailed]) -> ProviderError:
    (error,) = caught.value.errors
    assert isinstance(error, ProviderError)
    return error


def test_rate_limit_is_waited_out_then_succeeds(stack: Stack, emulator: EmulatorServer) -> None:
    """A 429 is waited out as the server says and the retry is accepted."""
    emulator.control.add_fault(
        DISTRIBUTE, status=429, body={"message": "Rate limit exceeded. Try again in 1 seconds."}
    )
    result = stack.up(skip_preview=True)
    assert result.ops == {"release": "create"}
    assert [c["status"] for c in distributions(emulator)] == [429, 200]
    assert f"streampixel: project {DEMO_PROJECT_ID} rate limited, retrying in 1.0 s" in (
        result.lines
    )
    assert stack.outputs("release")["status"] == "triggered"


def test_wait_beyond_deadline_fails_fast_and_records_nothing(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """A 429 asking for 2 minutes exceeds the 20 s stack deadline: fail at once, no state."""
    emulator.control.add_fault(DISTRIBUTE, status=429)  # "Try again in 2 minutes."
    with pytest.raises(OperationFailed) as caught:
        stack.up(skip_preview=True)
    error = provider_error(caught)
    assert error.error_type.endswith("WaitTimeout")
    assert "streampixel:deadlineSeconds" in error.message
    assert DEMO_PROJECT_ID in error.message
    assert stack.state == {}
    assert [c["status"] for c in distributions(emulator)] == [429]


def test_build_without_url_is_waited_out_until_ready(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """ "File has no URL" is retried at the pacing interval until the build is stored."""
    processing = "665a00000000000000000b0b"
    emulator.control.update_settings(stage_seconds=600)  # stays in processing until told
    seed_project(emulator, DEMO_PROJECT_ID, [processing], status="Downloading Files")
    stack.config.set("uploadId", processing)

    def finish_processing_after_first_refusal() -> None:
        emulator.control.wait_for(
            lambda: any(c["status"] == 400 for c in distributions(emulator)),
            timeout=30,
            what="a File has no URL answer",
        )
        seed_project(emulator, DEMO_PROJECT_ID, [processing], status="Approved")

    watcher = threading.Thread(target=finish_processing_after_first_refusal)
    watcher.start()
    try:
        result = stack.up(skip_preview=True)
    finally:
        watcher.join(30)
    statuses = [c["status"] for c in distributions(emulator)]
    assert statuses[0] == 400
    assert statuses[-1] == 200
    assert set(statuses[:-1]) == {400}
    assert any(
        line.startswith(f"streampixel: project {DEMO_PROJECT_ID} build not ready yet")
        for line in result.lines
    )
    emulator.control.wait_for_live(DEMO_PROJECT_ID, processing)


def test_invalid_api_key_fails_at_once_then_next_up_retries(
    make_stack: MakeStack, emulator: EmulatorServer
) -> None:
    """401 fails after one request naming the config keys; fixing the key makes up succeed."""
    wrong_key = "sp_wrong_key_for_e2e_000000"
    stack = make_stack(api_key=wrong_key)
    with pytest.raises(OperationFailed) as caught:
        stack.up(skip_preview=True)
    error = provider_error(caught)
    assert error.error_type.endswith("AuthError")
    assert "Unauthorized: Invalid API Key" in error.message
    assert "streampixel:apiKey" in error.message
    assert wrong_key not in error.details
    assert stack.state == {}
    assert [c["status"] for c in distributions(emulator)] == [401]

    stack.config.set("streampixel:apiKey", DEMO_API_KEY, secret=True)
    assert stack.up(skip_preview=True).ops == {"release": "create"}
    assert [c["status"] for c in distributions(emulator)] == [401, 200]


def test_disabled_project_fails_update_and_keeps_state(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """403 on an update fails at once with the fix; state is unchanged; the next up retries."""
    stack.up(skip_preview=True)
    before = stack.snapshot()
    emulator.control.update_project(DEMO_PROJECT_ID, enabled=False)
    emulator.control.clear_requests()
    stack.config.set("uploadId", U2)
    with pytest.raises(OperationFailed) as caught:
        stack.up(skip_preview=True)
    error = provider_error(caught)
    assert error.error_type.endswith("AccessDenied")
    assert "Access denied" in error.message
    assert f"Project {DEMO_PROJECT_ID}" in error.message
    assert stack.snapshot() == before
    assert [c["status"] for c in distributions(emulator)] == [403]

    emulator.control.update_project(DEMO_PROJECT_ID, enabled=True)
    assert stack.up(skip_preview=True).ops == {"release": "update"}
    assert [c["status"] for c in distributions(emulator)] == [403, 200]
    assert stack.outputs("release")["upload_id"] == U2


def test_unknown_upload_fails_update_and_keeps_state(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """404 for an upload of another project fails at once naming the upload id."""
    stack.up(skip_preview=True)
    before = stack.snapshot()
    emulator.control.clear_requests()
    stack.config.set("uploadId", "665a0000000000000000dead")
    with pytest.raises(OperationFailed) as caught:
        stack.up(skip_preview=True)
    error = provider_error(caught)
    assert error.error_type.endswith("UploadNotFound")
    assert "File not found in project" in error.message
    assert "Upload 665a0000000000000000dead" in error.message
    assert stack.snapshot() == before
    assert [c["status"] for c in distributions(emulator)] == [404]

    stack.config.set("uploadId", U2)
    assert stack.up(skip_preview=True).ops == {"release": "update"}
    assert [c["status"] for c in distributions(emulator)] == [404, 200]


def test_unknown_project_fails_create_with_the_fix(stack: Stack, emulator: EmulatorServer) -> None:
    """404 Project not found fails the create naming project_id; nothing is recorded."""
    stack.config.set("projectId", "664f0000000000000000dead")
    with pytest.raises(OperationFailed) as caught:
        stack.up(skip_preview=True)
    error = provider_error(caught)
    assert error.error_type.endswith("ProjectNotFound")
    assert "Project not found" in error.message
    assert "project_id 664f0000000000000000dead" in error.message
    assert stack.state == {}
    assert [c["status"] for c in distributions(emulator)] == [404]


def test_missing_credentials_fail_before_any_request(
    make_stack: MakeStack, emulator: EmulatorServer
) -> None:
    """Without a key, up fails naming the config key and variable, sending nothing."""
    stack = make_stack()
    stack.config.remove("streampixel:apiKey")
    with pytest.raises(OperationFailed) as caught:
        stack.up()
    error = provider_error(caught)
    assert error.error_type.endswith("ConfigError")
    assert "streampixel:apiKey" in error.message
    assert "STREAMPIXEL_API_KEY" in error.message
    assert emulator.control.requests() == []


def test_credentials_from_environment_variables(
    make_stack: MakeStack, emulator: EmulatorServer
) -> None:
    """STREAMPIXEL_API_KEY in the provider's environment replaces the stack config key."""
    stack = make_stack(env={"STREAMPIXEL_API_KEY": DEMO_API_KEY})
    stack.config.remove("streampixel:apiKey")
    assert stack.up(skip_preview=True).ops == {"release": "create"}
    assert [c["status"] for c in distributions(emulator)] == [200]


def test_check_failure_is_reported_without_request(stack: Stack, emulator: EmulatorServer) -> None:
    """An upload id with whitespace fails check in preview, naming the property."""
    stack.config.set("uploadId", "665a 0b1c")
    with pytest.raises(OperationFailed) as caught:
        stack.preview()
    assert "upload_id" in str(caught.value)
    assert "whitespace" in str(caught.value)
    assert emulator.control.requests() == []
