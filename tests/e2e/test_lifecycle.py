"""End-to-end: preview, up, change, rollback, triggers, replacement, refresh and destroy.

Each test drives the real provider process through the engine-protocol harness against the
emulator and asserts what reached the emulator through its inspection endpoints.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
)
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.e2e.conftest import MakeStack, distributions, git, seed_project
from tests.e2e.harness import UNKNOWN, Registration, Stack

U1, U2 = DEMO_UPLOAD_IDS


def test_preview_of_new_stack_sends_no_request(stack: Stack, emulator: EmulatorServer) -> None:
    """Preview of a new stack plans a create and sends nothing to Streampixel."""
    result = stack.preview()
    assert result.ops == {"release": "create"}
    assert stack.state == {}
    assert emulator.control.requests() == []


def test_preview_works_without_credentials(make_stack: MakeStack, emulator: EmulatorServer) -> None:
    """With no API key or user id anywhere, preview still plans the release."""
    stack = make_stack()
    stack.config.remove("streampixel:apiKey")
    stack.config.remove("streampixel:userId")
    assert stack.preview().ops == {"release": "create"}
    assert emulator.control.requests() == []


def test_up_creates_one_distribution_and_the_build_goes_live(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """The first up makes exactly one accepted distribution and records every output."""
    result = stack.up()
    assert result.ops == {"release": "create"}
    calls = distributions(emulator)
    assert [(c["status"], c["upload_id"]) for c in calls] == [(200, U1)]
    emulator.control.wait_for_live(DEMO_PROJECT_ID, U1)
    state = stack.resource("release")
    assert state.id == DEMO_PROJECT_ID
    outputs = state.plain_outputs
    assert outputs["project_id"] == DEMO_PROJECT_ID
    assert outputs["upload_id"] == U1
    assert "previous_upload_id" not in outputs  # None on the first release: not stored
    assert (outputs["status"], outputs["action"], outputs["region"]) == (
        "triggered",
        "release",
        "europe",
    )
    assert outputs["message"] == "File distribution triggered successfully"
    assert datetime.fromisoformat(outputs["triggered_at"]).utcoffset() == timedelta(0)
    assert [entry["upload_id"] for entry in outputs["history"]] == [U1]
    assert any(
        f"streampixel: project {DEMO_PROJECT_ID}" in line and "triggered" in line
        for line in result.lines
    )


def test_unchanged_up_sends_no_request(stack: Stack, emulator: EmulatorServer) -> None:
    """A second up with the same config is a no-op for Streampixel."""
    stack.up(skip_preview=True)
    before = stack.snapshot()
    emulator.control.clear_requests()
    assert stack.up().ops == {"release": "same"}
    assert emulator.control.requests() == []
    assert stack.snapshot() == before


def test_preview_of_change_sends_no_request(stack: Stack, emulator: EmulatorServer) -> None:
    """Previewing a new upload id plans an update and sends nothing."""
    stack.up(skip_preview=True)
    before = stack.snapshot()
    emulator.control.clear_requests()
    stack.config.set("uploadId", U2)
    assert stack.preview().ops == {"release": "update"}
    assert emulator.control.requests() == []
    assert stack.snapshot() == before


def test_preview_with_unknown_upload_plans_update_without_request(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """An upload id not known yet (another resource's output) previews as an update."""
    stack.up(skip_preview=True)
    emulator.control.clear_requests()

    def unknown_upload(registrations: list[Registration]) -> list[Registration]:
        for registration in registrations:
            registration.inputs["upload_id"] = UNKNOWN
        return registrations

    assert stack.preview(transform=unknown_upload).ops == {"release": "update"}
    assert emulator.control.requests() == []


def test_changed_upload_distributes_once(stack: Stack, emulator: EmulatorServer) -> None:
    """Changing upload_id makes one distribution of the new build."""
    stack.up(skip_preview=True)
    emulator.control.clear_requests()
    stack.config.set("uploadId", U2)
    assert stack.up().ops == {"release": "update"}
    assert [(c["status"], c["upload_id"]) for c in distributions(emulator)] == [(200, U2)]
    emulator.control.wait_for_live(DEMO_PROJECT_ID, U2)
    outputs = stack.outputs("release")
    assert (outputs["action"], outputs["previous_upload_id"]) == ("release", U1)


def test_rollback_by_git_revert_of_stack_config(
    make_stack: MakeStack, emulator: EmulatorServer, tmp_path: Path
) -> None:
    """`git revert` of the commit that changed the upload rolls back with one distribution."""
    repo = tmp_path / "repo"
    stack = make_stack(directory=repo)
    git(repo, "init", "--quiet")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "Release the first build")
    stack.up(skip_preview=True)
    stack.config.set("uploadId", U2)
    git(repo, "commit", "--quiet", "-am", "Release the second build")
    stack.up(skip_preview=True)
    emulator.control.clear_requests()

    git(repo, "revert", "--no-edit", "HEAD")
    assert f"release-app:uploadId: {U1}" in stack.config.raw_text()
    assert stack.up().ops == {"release": "update"}

    assert [(c["status"], c["upload_id"]) for c in distributions(emulator)] == [(200, U1)]
    emulator.control.wait_for_live(DEMO_PROJECT_ID, U1)
    outputs = stack.outputs("release")
    assert (outputs["action"], outputs["upload_id"], outputs["previous_upload_id"]) == (
        "rollback",
        U1,
        U2,
    )
    assert [(e["upload_id"], e["action"]) for e in outputs["history"]] == [
        (U1, "release"),
        (U2, "release"),
        (U1, "rollback"),
    ]


def test_changed_triggers_redistribute_the_same_upload(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """A new trigger value distributes the same upload again, as a redistribute."""
    stack.config.set("triggers", ["config-v1"])
    stack.up(skip_preview=True)
    emulator.control.clear_requests()
    stack.config.set("triggers", ["config-v2"])
    assert stack.up().ops == {"release": "update"}
    assert [(c["status"], c["upload_id"]) for c in distributions(emulator)] == [(200, U1)]
    outputs = stack.outputs("release")
    assert (outputs["action"], outputs["triggers"]) == ("redistribute", ["config-v2"])


def test_project_change_replaces_and_deletes_old_release_without_request(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """A new project_id creates a release there first, then forgets the old one silently."""
    other_project, other_upload = "664f00000000000000000e2e", "665a00000000000000000e2e"
    seed_project(emulator, other_project, [other_upload])
    stack.up(skip_preview=True)
    emulator.control.clear_requests()
    stack.config.set("projectId", other_project)
    stack.config.set("uploadId", other_upload)
    result = stack.up()
    assert [step.op for step in result.steps] == ["replace", "delete"]
    assert [(c["project_id"], c["upload_id"]) for c in distributions(emulator)] == [
        (other_project, other_upload)
    ]
    assert len(emulator.control.requests()) == 1
    assert stack.resource("release").id == other_project
    assert stack.pending_deletes == []
    assert any(DEMO_PROJECT_ID in line and "stays live" in line for line in result.lines)
    emulator.control.wait_for_live(DEMO_PROJECT_ID, U1)  # the old build is untouched


def test_credential_rotation_sends_no_request(stack: Stack, emulator: EmulatorServer) -> None:
    """Rotating the API key in stack config changes nothing on Streampixel."""
    stack.up(skip_preview=True)
    provider_blob = stack.resource("release").inputs["__provider"]
    emulator.control.clear_requests()
    new_key = "sp_demo_rotated_key_9876543210"
    emulator.control.set_api_key(DEMO_USER_ID, new_key)
    stack.config.set("streampixel:apiKey", new_key, secret=True)
    assert stack.up().ops == {"release": "same"}
    assert emulator.control.requests() == []
    assert stack.resource("release").inputs["__provider"] == provider_blob
    assert new_key not in "\n".join(stack.lines)
    assert DEMO_API_KEY not in "\n".join(stack.lines)


def test_refresh_changes_nothing_and_sends_nothing(stack: Stack, emulator: EmulatorServer) -> None:
    """Refresh reads state back without a request, and the next up has no phantom diff."""
    stack.config.set("triggers", ["t1", 2])
    stack.up(skip_preview=True)
    before = stack.snapshot()
    emulator.control.clear_requests()
    result = stack.refresh()
    assert [(step.op, step.changes) for step in result.steps] == [("read", "none")]
    assert stack.snapshot() == before
    assert stack.up().ops == {"release": "same"}
    assert emulator.control.requests() == []


def test_destroy_sends_no_request_and_build_stays_live(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """Destroy forgets the release without a request; the build stays live."""
    stack.up(skip_preview=True)
    emulator.control.wait_for_live(DEMO_PROJECT_ID, U1)
    emulator.control.clear_requests()
    result = stack.destroy()
    assert result.ops == {"release": "delete"}
    assert stack.state == {}
    assert emulator.control.requests() == []
    assert emulator.control.project(DEMO_PROJECT_ID)["live_upload_id"] == U1
    assert any("stays live" in line for line in result.lines)
