"""The upload pipeline and distributions over real HTTP, timed by the server's own thread."""

from __future__ import annotations

import httpx

from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
)
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.fixtures_emulator import demo_body

DISTRIBUTE = "/projects/distribute-file"


def upload(api: httpx.Client, *, auto_release: bool) -> str:
    """Queue a build for the demo project and return its upload id."""
    response = api.post(
        "/projects/upload-file",
        json={
            "apiKey": DEMO_API_KEY,
            "userId": DEMO_USER_ID,
            "projectId": DEMO_PROJECT_ID,
            "fileUrl": "https://builds.example.invalid/new.zip",
            "autoRelease": auto_release,
        },
    )
    assert response.status_code == 200
    return str(response.json()["uploadId"])


def test_pipeline_advances_without_requests_and_has_no_url_until_stored(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """A new build answers File has no URL until stored, then can be distributed."""
    emulator.control.update_settings(rate_limit_window=0, stage_seconds=0.25)
    upload_id = upload(emulator_api, auto_release=False)
    early = emulator_api.post(DISTRIBUTE, json=demo_body(uploadId=upload_id))
    assert (early.status_code, early.json()) == (400, {"message": "File has no URL"})
    stored = emulator.control.wait_for_upload(upload_id, "Approved", timeout=5)
    assert stored["has_url"] is True
    statuses = [e["status"] for e in emulator.control.events() if e["uploadId"] == upload_id]
    assert statuses == [
        "pending",
        "Downloading Files",
        "Extracting & Scanning",
        "Saving to Repository",
        "Approved",
    ]
    late = emulator_api.post(DISTRIBUTE, json=demo_body(uploadId=upload_id))
    assert late.status_code == 200


def test_auto_release_true_goes_live_by_itself(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """autoRelease true: once processed the build is distributed and becomes live."""
    upload_id = upload(emulator_api, auto_release=True)
    project = emulator.control.wait_for_live(DEMO_PROJECT_ID, upload_id, timeout=5)
    assert project["history"][-1]["source"] == "auto"
    assert emulator.control.upload(upload_id)["status"] == "Approved"


def test_auto_release_false_is_stored_not_live(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """autoRelease false: the build ends Approved (stored) and nothing is distributed."""
    upload_id = upload(emulator_api, auto_release=False)
    emulator.control.wait_for_upload(upload_id, "Approved", timeout=5)
    project = emulator.control.project(DEMO_PROJECT_ID)
    assert (project["live_upload_id"], project["history"]) == (None, [])


def test_distribute_then_rollback_switches_live_build(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """Distributing a newer then an older build leaves the older live, all in the history."""
    emulator.control.update_settings(rate_limit_window=0)
    control = emulator.control
    for upload_id in (DEMO_UPLOAD_IDS[0], DEMO_UPLOAD_IDS[1], DEMO_UPLOAD_IDS[0]):
        assert emulator_api.post(DISTRIBUTE, json=demo_body(uploadId=upload_id)).status_code == 200
        control.wait_for_live(DEMO_PROJECT_ID, upload_id, timeout=5)
    history = control.project(DEMO_PROJECT_ID)["history"]
    assert [(h["upload_id"], h["outcome"]) for h in history] == [
        (DEMO_UPLOAD_IDS[0], "live"),
        (DEMO_UPLOAD_IDS[1], "live"),
        (DEMO_UPLOAD_IDS[0], "live"),
    ]


def test_redistributing_live_build_is_accepted(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """Distributing the build that is already live is accepted and recorded again."""
    emulator.control.update_settings(rate_limit_window=0)
    emulator.control.update_project(DEMO_PROJECT_ID, live_upload_id=DEMO_UPLOAD_IDS[0])
    assert emulator_api.post(DISTRIBUTE, json=demo_body()).status_code == 200
    project = emulator.control.project(DEMO_PROJECT_ID)
    assert project["distributing_upload_id"] == DEMO_UPLOAD_IDS[0]
    assert len(project["history"]) == 1


def test_reject_on_distribute_build_never_goes_live(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """A build marked reject_on_distribute is accepted (200) and ends Reject with the objection."""
    control = emulator.control
    control.update_upload(DEMO_UPLOAD_IDS[1], reject_on_distribute="Missing executable")
    response = emulator_api.post(DISTRIBUTE, json=demo_body(uploadId=DEMO_UPLOAD_IDS[1]))
    assert response.status_code == 200
    rejected = control.wait_for_upload(DEMO_UPLOAD_IDS[1], "Reject", timeout=5)
    assert rejected["objection"] == "Missing executable"
    project = control.project(DEMO_PROJECT_ID)
    assert project["live_upload_id"] is None
    assert project["history"][-1]["outcome"] == "rejected"


def test_reset_restores_seed_and_settings(emulator: EmulatorServer) -> None:
    """reset() brings back the start-up settings and the demo account."""
    control = emulator.control
    control.update_settings(stage_seconds=9)
    control.update_project(DEMO_PROJECT_ID, enabled=False)
    control.reset()
    assert control.settings()["stage_seconds"] == 0.05
    assert control.project(DEMO_PROJECT_ID)["enabled"] is True


def test_reset_with_custom_seed_replaces_world(emulator: EmulatorServer) -> None:
    """reset(seed) serves exactly that seed."""
    control = emulator.control
    control.reset(
        {
            "users": [{"user_id": "u1", "api_key": "k1"}],
            "projects": [{"project_id": "p1", "user_id": "u1", "region": "us-east-1"}],
            "uploads": [{"upload_id": "f1", "project_id": "p1"}],
        }
    )
    assert [p["project_id"] for p in control.state()["projects"]] == ["p1"]
    response = httpx.post(
        f"{emulator.base_url}{DISTRIBUTE}",
        json={"apiKey": "k1", "userId": "u1", "projectId": "p1", "uploadId": "f1"},
    )
    assert response.json()["region"] == "us-east-1"
