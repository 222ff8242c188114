"""Unit tests of the emulator's in-memory model, driven by a hand-moved clock (no sleeping)."""

from __future__ import annotations

from typing import Any

import pytest

from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
    demo_seed,
)
from streampixel_pulumi.emulator.settings import EmulatorSettings
from streampixel_pulumi.emulator.state import ApiFailure, EmulatorState, iso_timestamp

START = 1_700_000_000.0
HOOK = "https://hooks.example.invalid/secret-token"
OTHER_USER = "5f0c1d2e3f4a5b6c7d8e9f99"
OTHER_KEY = "sp_other_fake_key"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


def make_state(clock: Clock, **settings: Any) -> EmulatorState:
    """A state with the demo seed plus a webhook URL and a second user with one project."""
    values: dict[str, Any] = {"stage_seconds": 1.0, "distribute_seconds": 1.0} | settings
    state = EmulatorState(EmulatorSettings(**values), clock=clock)
    seed = demo_seed()
    seed["projects"][0]["webhook_url"] = HOOK
    seed["users"].append({"user_id": OTHER_USER, "api_key": OTHER_KEY})
    seed["projects"].append(
        {"project_id": "6600000000000000000000aa", "user_id": OTHER_USER, "region": "us-east-1"}
    )
    state.load(seed)
    return state


def distribute(state: EmulatorState, upload_id: str = DEMO_UPLOAD_IDS[0]) -> dict[str, Any]:
    """Call distribute-file for the demo account."""
    return state.distribute_file(DEMO_USER_ID, DEMO_API_KEY, DEMO_PROJECT_ID, upload_id)


def upload(state: EmulatorState, auto_release: bool = False) -> str:
    """Call upload-file for the demo account and return the new upload id."""
    body = state.upload_file(
        DEMO_USER_ID, DEMO_API_KEY, DEMO_PROJECT_ID, "https://b.invalid/x.zip", auto_release
    )
    return str(body["uploadId"])


def sent_events(state: EmulatorState) -> list[tuple[str, str]]:
    """(event, status) of the webhook POSTs waiting in the outbox."""
    return [(o.envelope["event"], o.envelope["status"]) for o in state.take_outbox()]


def test_iso_timestamp_matches_javascript_format() -> None:
    """Timestamps look like JavaScript's toISOString(), in UTC with milliseconds."""
    assert iso_timestamp(START + 0.25) == "2023-11-14T22:13:20.250Z"


def test_upload_moves_one_stage_per_stage_seconds() -> None:
    """An upload passes pending, Downloading, Extracting, Saving, then Approved, one per stage."""
    clock = Clock()
    state = make_state(clock)
    upload_id = upload(state)
    seen = [state.upload(upload_id)["status"]]
    for _ in range(4):
        clock.tick(1.0)
        seen.append(state.upload(upload_id)["status"])
    assert seen == [
        "pending",
        "Downloading Files",
        "Extracting & Scanning",
        "Saving to Repository",
        "Approved",
    ]


def test_upload_stays_in_stage_until_stage_seconds_pass() -> None:
    """Just before a stage ends the upload is still in it."""
    clock = Clock()
    state = make_state(clock)
    upload_id = upload(state)
    clock.tick(0.99)
    assert state.upload(upload_id)["status"] == "pending"


def test_upload_events_are_sent_in_order_with_scheduled_timestamps() -> None:
    """Catching up after a long pause emits every stage event, stamped when it was due."""
    clock = Clock()
    state = make_state(clock)
    upload_id = upload(state)
    clock.tick(10)
    state.advance()
    envelopes = [o.envelope for o in state.take_outbox()]
    assert [e["event"] for e in envelopes] == [
        "build.uploaded",
        "build.downloading",
        "build.extracting",
        "build.saving",
        "build.approved",
    ]
    assert [e["timestamp"] for e in envelopes] == [iso_timestamp(START + n) for n in range(5)]
    assert envelopes[0] == {
        "event": "build.uploaded",
        "projectId": DEMO_PROJECT_ID,
        "uploadId": upload_id,
        "fileUrl": "https://b.invalid/x.zip",
        "status": "pending",
        "objection": None,
        "timestamp": iso_timestamp(START),
    }


def test_distribute_refuses_file_without_url_until_stored() -> None:
    """distribute-file answers 400 File has no URL until Saving to Repository has finished."""
    clock = Clock()
    state = make_state(clock, rate_limit_window=0)
    upload_id = upload(state)
    clock.tick(3.5)
    assert state.upload(upload_id)["status"] == "Saving to Repository"
    with pytest.raises(ApiFailure) as caught:
        distribute(state, upload_id)
    assert (caught.value.status, caught.value.message) == (400, "File has no URL")
    clock.tick(0.5)
    assert distribute(state, upload_id)["uploadId"] == upload_id


def test_url_when_saving_gives_url_as_saving_starts() -> None:
    """With url_when=saving the build is distributable once Saving to Repository begins."""
    clock = Clock()
    state = make_state(clock, url_when="saving")
    upload_id = upload(state)
    clock.tick(3)
    assert state.upload(upload_id)["has_url"] is True


def test_auto_release_upload_becomes_live_after_processing() -> None:
    """autoRelease true: after Saving the build is distributed and then live."""
    clock = Clock()
    state = make_state(clock)
    upload_id = upload(state, auto_release=True)
    clock.tick(4)
    assert state.upload(upload_id)["status"] == "Distribute"
    clock.tick(1)
    project = state.project(DEMO_PROJECT_ID)
    assert project["live_upload_id"] == upload_id
    assert project["history"][-1] | {"at": None} == {
        "upload_id": upload_id,
        "at": None,
        "source": "auto",
        "outcome": "live",
    }
    assert sent_events(state)[-2:] == [
        ("build.distributing", "Distribute"),
        ("build.approved", "Approved"),
    ]


def test_auto_release_false_upload_is_stored_not_live() -> None:
    """autoRelease false: the build ends Approved (stored) and the live build is unchanged."""
    clock = Clock()
    state = make_state(clock)
    upload_id = upload(state, auto_release=False)
    clock.tick(10)
    assert state.upload(upload_id)["status"] == "Approved"
    assert state.project(DEMO_PROJECT_ID)["live_upload_id"] is None


def test_approved_event_on_store_can_be_switched_off() -> None:
    """approved_event_on_store=False: storing an autoRelease=false build sends no build.approved."""
    clock = Clock()
    state = make_state(clock, approved_event_on_store=False)
    upload(state)
    clock.tick(10)
    assert sent_events(state)[-1] == ("build.saving", "Saving to Repository")


def test_distribution_recorded_at_once_and_live_after_distribute_seconds() -> None:
    """The history gets the call at once; the build is live only after distribute_seconds."""
    clock = Clock()
    state = make_state(clock)
    body = distribute(state)
    assert body == {
        "success": True,
        "uploadId": DEMO_UPLOAD_IDS[0],
        "region": "europe",
        "message": "File distribution triggered successfully",
    }
    project = state.project(DEMO_PROJECT_ID)
    assert project["history"] == [
        {
            "upload_id": DEMO_UPLOAD_IDS[0],
            "at": iso_timestamp(START),
            "source": "api",
            "outcome": "distributing",
        }
    ]
    assert (project["live_upload_id"], project["distributing_upload_id"]) == (
        None,
        DEMO_UPLOAD_IDS[0],
    )
    clock.tick(1)
    project = state.project(DEMO_PROJECT_ID)
    assert (project["live_upload_id"], project["distributing_upload_id"]) == (
        DEMO_UPLOAD_IDS[0],
        None,
    )


def test_short_success_shape() -> None:
    """success_shape=short answers the other documented body."""
    state = make_state(Clock(), success_shape="short")
    assert distribute(state) == {"message": "Distribution triggered"}


def test_rollback_redistributes_an_older_build() -> None:
    """Distributing an older build again makes it live again (a rollback)."""
    clock = Clock()
    state = make_state(clock, rate_limit_window=0)
    for upload_id in (DEMO_UPLOAD_IDS[0], DEMO_UPLOAD_IDS[1], DEMO_UPLOAD_IDS[0]):
        distribute(state, upload_id)
        clock.tick(1)
    project = state.project(DEMO_PROJECT_ID)
    assert project["live_upload_id"] == DEMO_UPLOAD_IDS[0]
    assert [h["upload_id"] for h in project["history"]] == [
        DEMO_UPLOAD_IDS[0],
        DEMO_UPLOAD_IDS[1],
        DEMO_UPLOAD_IDS[0],
    ]


def test_new_distribution_supersedes_running_one() -> None:
    """A second distribution during the first replaces it; only the second goes live."""
    clock = Clock()
    state = make_state(clock, rate_limit_window=0)
    distribute(state, DEMO_UPLOAD_IDS[0])
    clock.tick(0.5)
    distribute(state, DEMO_UPLOAD_IDS[1])
    clock.tick(1)
    project = state.project(DEMO_PROJECT_ID)
    assert project["live_upload_id"] == DEMO_UPLOAD_IDS[1]
    assert [h["outcome"] for h in project["history"]] == ["superseded", "live"]
    assert state.upload(DEMO_UPLOAD_IDS[0])["status"] == "Approved"


def test_reject_on_distribute_ends_rejected_not_live() -> None:
    """An upload with reject_on_distribute is accepted, then rejected with its objection."""
    clock = Clock()
    state = make_state(clock)
    state.update_upload(DEMO_UPLOAD_IDS[0], {"reject_on_distribute": "Corrupt pak file"})
    distribute(state)
    clock.tick(1)
    assert state.upload(DEMO_UPLOAD_IDS[0])["status"] == "Reject"
    assert state.project(DEMO_PROJECT_ID)["live_upload_id"] is None
    outbox = [o.envelope for o in state.take_outbox()]
    assert (outbox[-1]["event"], outbox[-1]["objection"]) == ("build.rejected", "Corrupt pak file")


def test_reject_at_stage_stops_processing_with_objection() -> None:
    """An upload with reject_at is rejected when that stage ends and never gets a URL."""
    clock = Clock()
    state = make_state(clock)
    upload_id = upload(state)
    state.update_upload(upload_id, {"reject_at": "Extracting & Scanning", "objection": "Virus"})
    clock.tick(10)
    assert state.upload(upload_id) | {"file_url": None} == {
        "upload_id": upload_id,
        "project_id": DEMO_PROJECT_ID,
        "status": "Reject",
        "has_url": False,
        "objection": "Virus",
        "auto_release": False,
        "file_url": None,
        "reject_at": "Extracting & Scanning",
        "reject_on_distribute": None,
    }
    assert sent_events(state)[-1] == ("build.rejected", "Reject")


def test_distribute_events_setting_controls_distribution_events() -> None:
    """distribute_events=[] makes a distribution send no webhook."""
    clock = Clock()
    state = make_state(clock, distribute_events=[])
    distribute(state)
    clock.tick(1)
    state.advance()
    assert sent_events(state) == []


def test_webhook_events_subscription_filters_outbox() -> None:
    """Only subscribed events are queued for the project's URL; all are kept in the event log."""
    clock = Clock()
    state = make_state(clock)
    state.update_project(DEMO_PROJECT_ID, {"webhook_events": ["build.approved"]})
    distribute(state)
    clock.tick(1)
    state.advance()
    assert sent_events(state) == [("build.approved", "Approved")]
    assert [e["event"] for e in state.events()] == ["build.distributing", "build.approved"]


@pytest.mark.parametrize(
    ("user_id", "api_key", "project_id", "upload_id", "status", "message"),
    [
        ("nobody", "wrong", "missing", "missing", 401, "Invalid User"),
        (DEMO_USER_ID, "wrong", "missing", "missing", 401, "Unauthorized: Invalid API Key"),
        (
            DEMO_USER_ID,
            OTHER_KEY,
            DEMO_PROJECT_ID,
            DEMO_UPLOAD_IDS[0],
            401,
            "Unauthorized: Invalid API Key",
        ),
        (DEMO_USER_ID, DEMO_API_KEY, "missing", "missing", 404, "Project not found"),
        (DEMO_USER_ID, DEMO_API_KEY, "6600000000000000000000aa", "missing", 403, "Access denied"),
        (DEMO_USER_ID, DEMO_API_KEY, DEMO_PROJECT_ID, "missing", 404, "File not found in project"),
    ],
    ids=["user", "key", "foreign-key", "project", "ownership", "file"],
)
def test_validation_order(
    user_id: str, api_key: str, project_id: str, upload_id: str, status: int, message: str
) -> None:
    """Checks run user, key, project, ownership, file: the first failing one answers."""
    state = make_state(Clock())
    with pytest.raises(ApiFailure) as caught:
        state.distribute_file(user_id, api_key, project_id, upload_id)
    assert (caught.value.status, caught.value.message) == (status, message)


def test_disabled_project_is_access_denied() -> None:
    """A project disabled by an admin answers 403 with the configured message."""
    state = make_state(Clock(), access_denied_message="Forbidden")
    state.update_project(DEMO_PROJECT_ID, {"enabled": False})
    with pytest.raises(ApiFailure) as caught:
        distribute(state)
    assert (caught.value.status, caught.value.message) == (403, "Forbidden")


def test_rotated_key_is_refused_at_once() -> None:
    """After set_api_key the old key answers 401 and the new one works."""
    state = make_state(Clock())
    state.set_api_key(DEMO_USER_ID, "sp_new_fake_key")
    with pytest.raises(ApiFailure):
        distribute(state)
    body = state.distribute_file(
        DEMO_USER_ID, "sp_new_fake_key", DEMO_PROJECT_ID, DEMO_UPLOAD_IDS[0]
    )
    assert body["success"] is True


def test_rate_limit_sliding_window_per_user() -> None:
    """A second call inside the window is 429 with the remaining seconds; after it, allowed."""
    clock = Clock()
    state = make_state(clock, rate_limit_window=10)
    distribute(state)
    clock.tick(7.5)
    with pytest.raises(ApiFailure) as caught:
        distribute(state)
    assert (caught.value.status, caught.value.message) == (
        429,
        "Rate limit exceeded. Try again in 3 seconds.",
    )
    clock.tick(2.5)
    assert distribute(state)["success"] is True


def test_rate_limit_documented_message_for_two_minute_window() -> None:
    """With the documented 120 s window the message is the documented one."""
    clock = Clock()
    state = make_state(clock)
    distribute(state)
    clock.tick(30)
    with pytest.raises(ApiFailure) as caught:
        distribute(state)
    assert caught.value.message == "Rate limit exceeded. Try again in 2 minutes."
    assert caught.value.headers == {}
    assert caught.value.body() == {"message": "Rate limit exceeded. Try again in 2 minutes."}


def test_rate_limit_fixed_window_resets_on_clock_boundary() -> None:
    """rate_limit_mode=fixed: the slot frees at the next multiple of the window."""
    clock = Clock()
    clock.now = 1000.0 + 8
    state = make_state(clock, rate_limit_window=10, rate_limit_mode="fixed")
    distribute(state)
    clock.tick(1.5)
    with pytest.raises(ApiFailure) as caught:
        distribute(state)
    assert caught.value.message == "Rate limit exceeded. Try again in 1 seconds."
    clock.tick(0.5)
    assert distribute(state)["success"] is True


def test_rejected_request_spends_slot_only_when_configured() -> None:
    """A 404 after authentication spends the slot by default, not with the setting off."""
    clock = Clock()
    state = make_state(clock, rate_limit_window=10)
    with pytest.raises(ApiFailure):
        distribute(state, "unknown-upload")
    with pytest.raises(ApiFailure) as caught:
        distribute(state)
    assert caught.value.status == 429
    state = make_state(clock, rate_limit_window=10, rejected_requests_use_slot=False)
    with pytest.raises(ApiFailure):
        distribute(state, "unknown-upload")
    assert distribute(state)["success"] is True


def test_auth_failure_never_spends_slot() -> None:
    """A 401 does not take the user's slot."""
    state = make_state(Clock(), rate_limit_window=10)
    with pytest.raises(ApiFailure):
        state.distribute_file(DEMO_USER_ID, "wrong", DEMO_PROJECT_ID, DEMO_UPLOAD_IDS[0])
    assert distribute(state)["success"] is True


def test_upload_and_distribute_have_separate_slots() -> None:
    """An upload-file call does not use up the distribute-file slot."""
    state = make_state(Clock(), rate_limit_window=10)
    upload(state)
    assert distribute(state)["success"] is True
    with pytest.raises(ApiFailure) as caught:
        upload(state)
    assert caught.value.status == 429


def test_retry_after_header_and_body_field_by_setting() -> None:
    """send_retry_after and retry_after_in_body add the wait as a header and a body field."""
    clock = Clock()
    state = make_state(clock, rate_limit_window=10, send_retry_after=True, retry_after_in_body=True)
    distribute(state)
    clock.tick(4.2)
    with pytest.raises(ApiFailure) as caught:
        distribute(state)
    assert caught.value.headers == {"Retry-After": "6"}
    assert caught.value.body()["retryAfter"] == 6


def test_projects_status_lists_only_own_projects() -> None:
    """projects-status lists the caller's projects in the documented shape."""
    state = make_state(Clock())
    assert state.projects_status(DEMO_USER_ID, DEMO_API_KEY) == {
        "totalProjects": 1,
        "projects": [
            {"_id": DEMO_PROJECT_ID, "name": "Demo", "status": True, "subscriptionStatus": "active"}
        ],
    }


def test_user_stats_reports_configured_counts() -> None:
    """userStats answers liveUser/queueUser from the project."""
    state = make_state(Clock())
    state.update_project(DEMO_PROJECT_ID, {"live_users": 3, "queue_users": 1})
    assert state.user_stats(DEMO_USER_ID, DEMO_API_KEY, DEMO_PROJECT_ID) == {
        "liveUser": 3,
        "queueUser": 1,
    }


@pytest.mark.parametrize(
    ("seed", "problem"),
    [
        ({"projects": [{"project_id": "p", "user_id": "ghost"}]}, "unknown user_id"),
        ({"uploads": [{"upload_id": "u", "project_id": "ghost"}]}, "unknown project_id"),
        (
            {
                "projects": [
                    {"project_id": DEMO_PROJECT_ID, "user_id": DEMO_USER_ID, "live_upload_id": "x"}
                ]
            },
            "live_upload_id",
        ),
        ({"users": [{"user_id": "u", "api_key": "k", "extra": 1}]}, "users.0.extra"),
        (
            {"uploads": [{"upload_id": "u", "project_id": DEMO_PROJECT_ID, "status": "Live"}]},
            "status",
        ),
    ],
    ids=["unknown-user", "unknown-project", "foreign-live-upload", "typo", "bad-status"],
)
def test_invalid_seed_is_refused_without_changes(seed: dict[str, Any], problem: str) -> None:
    """A seed with a dangling reference or a typo raises ValueError and changes nothing."""
    state = make_state(Clock())
    before = state.snapshot()
    with pytest.raises(ValueError, match=problem):
        state.load(seed)
    assert state.snapshot() == before


def test_seed_error_never_echoes_api_key() -> None:
    """Seed validation messages name fields, never the values given (keys are secret)."""
    state = make_state(Clock())
    with pytest.raises(ValueError, match="user_id") as caught:
        state.load({"users": [{"user_id": 5, "api_key": "sp_secret_value"}]})
    assert "sp_secret_value" not in str(caught.value)


def test_seeded_processing_upload_continues_pipeline() -> None:
    """An upload seeded mid-pipeline carries on from its stage."""
    clock = Clock()
    state = make_state(clock)
    state.load(
        {
            "uploads": [
                {"upload_id": "u1", "project_id": DEMO_PROJECT_ID, "status": "Saving to Repository"}
            ]
        }
    )
    assert state.upload("u1")["has_url"] is False
    clock.tick(1)
    assert state.upload("u1")["status"] == "Approved"


def test_update_settings_rejects_unknown_and_invalid_fields() -> None:
    """update_settings validates: unknown names and bad values raise ValueError."""
    state = make_state(Clock())
    with pytest.raises(ValueError, match="no_such_setting"):
        state.update_settings({"no_such_setting": 1})
    with pytest.raises(ValueError, match="stage_seconds"):
        state.update_settings({"stage_seconds": -1})
    assert state.update_settings({"stage_seconds": 0.5}).stage_seconds == 0.5


def test_control_lookups_raise_key_error_for_unknown_ids() -> None:
    """Inspecting an unknown project or upload raises KeyError."""
    state = make_state(Clock())
    with pytest.raises(KeyError):
        state.project("nope")
    with pytest.raises(KeyError):
        state.upload("nope")


def test_next_due_reports_pending_step() -> None:
    """next_due is the time the next pipeline step is due, None when idle."""
    clock = Clock()
    state = make_state(clock)
    assert state.next_due() is None
    distribute(state)
    assert state.next_due() == START + 1
