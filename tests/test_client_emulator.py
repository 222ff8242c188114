"""StreampixelClient against the emulator over real HTTP: every endpoint, every error."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from streampixel_pulumi import errors
from streampixel_pulumi.client import StreampixelClient
from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
    demo_seed,
)
from streampixel_pulumi.emulator.server import EmulatorServer

READY = DEMO_UPLOAD_IDS[0]
OTHER_USER = "5f0c1d2e3f4a5b6c7d8e9f02"
OTHER_KEY = "sp_other_key_abcdef0123456789"
OTHER_PROJECT = "664f1a2b3c4d5e6f7a8b9c99"
PROCESSING = "665a0b1c2d3e4f5a6b7c8d77"


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[StreampixelClient]:
    """A typed client logged in as the emulator's demo account."""
    with StreampixelClient(DEMO_API_KEY, DEMO_USER_ID, base_url=emulator.base_url) as c:
        yield c


def seed_world(emulator: EmulatorServer) -> None:
    """Demo account plus another user's project and an upload still downloading."""
    seed = demo_seed()
    seed["users"].append({"user_id": OTHER_USER, "api_key": OTHER_KEY})
    seed["projects"].append(
        {
            "project_id": OTHER_PROJECT,
            "user_id": OTHER_USER,
            "name": "Theirs",
            "region": "asia-pacific",
        }
    )
    seed["uploads"].append(
        {"upload_id": PROCESSING, "project_id": DEMO_PROJECT_ID, "status": "Downloading Files"}
    )
    emulator.control.reset(seed)  # also restores the start-up settings
    emulator.control.update_settings(stage_seconds=30.0)


def test_distribute_ready_upload_is_triggered_and_goes_live(
    client: StreampixelClient, emulator: EmulatorServer
) -> None:
    """A ready upload is accepted with the project's region and then becomes live."""
    result = client.distribute_file(DEMO_PROJECT_ID, READY)
    assert result.region == "europe"
    assert result.message
    emulator.control.wait_for_live(DEMO_PROJECT_ID, READY)


def test_distribute_short_success_shape_is_accepted(
    client: StreampixelClient, emulator: EmulatorServer
) -> None:
    """The other documented success body is accepted too."""
    emulator.control.update_settings(success_shape="short")
    result = client.distribute_file(DEMO_PROJECT_ID, READY)
    assert result.message == "Distribution triggered"
    assert result.region is None


def test_second_distribute_within_window_is_rate_limited_with_hint(
    client: StreampixelClient,
) -> None:
    """The per-user limit answers 429 and the wait is read from the message."""
    client.distribute_file(DEMO_PROJECT_ID, READY)
    with pytest.raises(errors.RateLimited) as caught:
        client.distribute_file(DEMO_PROJECT_ID, DEMO_UPLOAD_IDS[1])
    assert caught.value.status_code == 429
    assert 0 < caught.value.retry_after <= 2


def test_rate_limit_retry_after_header_is_honoured(
    client: StreampixelClient, emulator: EmulatorServer
) -> None:
    """With the Retry-After switch on, the header's value reaches the error."""
    emulator.control.update_settings(send_retry_after=True, rate_limit_window=30.0)
    client.distribute_file(DEMO_PROJECT_ID, READY)
    with pytest.raises(errors.RateLimited) as caught:
        client.distribute_file(DEMO_PROJECT_ID, READY)
    assert 25 <= caught.value.retry_after <= 30


def test_wrong_key_is_auth_error(emulator: EmulatorServer) -> None:
    """A wrong API key is refused with 401 and a hint naming the config key."""
    with (
        StreampixelClient("sp_wrong", DEMO_USER_ID, base_url=emulator.base_url) as c,
        pytest.raises(errors.AuthError, match="Invalid API Key") as caught,
    ):
        c.distribute_file(DEMO_PROJECT_ID, READY)
    assert "streampixel:apiKey" in str(caught.value)


def test_unknown_user_is_auth_error(emulator: EmulatorServer) -> None:
    """An unknown user id is refused with 401 Invalid User."""
    with (
        StreampixelClient(
            DEMO_API_KEY, "5f0c1d2e3f4a5b6c7d8e9fff", base_url=emulator.base_url
        ) as c,
        pytest.raises(errors.AuthError, match="Invalid User"),
    ):
        c.distribute_file(DEMO_PROJECT_ID, READY)


def test_unknown_project_is_project_not_found(client: StreampixelClient) -> None:
    """A project id nobody has is 404 Project not found."""
    with pytest.raises(errors.ProjectNotFound):
        client.distribute_file("664f1a2b3c4d5e6f7a8b9fff", READY)


def test_foreign_project_is_access_denied(
    client: StreampixelClient, emulator: EmulatorServer
) -> None:
    """Another user's project is 403."""
    seed_world(emulator)
    with pytest.raises(errors.AccessDenied):
        client.distribute_file(OTHER_PROJECT, READY)


def test_disabled_project_is_access_denied(
    client: StreampixelClient, emulator: EmulatorServer
) -> None:
    """A project disabled by an admin is 403."""
    emulator.control.update_project(DEMO_PROJECT_ID, enabled=False)
    with pytest.raises(errors.AccessDenied):
        client.distribute_file(DEMO_PROJECT_ID, READY)


def test_unknown_upload_is_upload_not_found(client: StreampixelClient) -> None:
    """An upload that is not the project's is 404 File not found in project."""
    with pytest.raises(errors.UploadNotFound, match="File not found in project"):
        client.distribute_file(DEMO_PROJECT_ID, "665a0b1c2d3e4f5a6b7c8fff")


def test_processing_upload_is_build_not_ready(
    client: StreampixelClient, emulator: EmulatorServer
) -> None:
    """An upload still downloading has no URL yet: 400, retry-safe."""
    seed_world(emulator)
    with pytest.raises(errors.BuildNotReady, match="File has no URL") as caught:
        client.distribute_file(DEMO_PROJECT_ID, PROCESSING)
    assert caught.value.retry_safe


def test_upload_file_queues_a_build(client: StreampixelClient, emulator: EmulatorServer) -> None:
    """upload-file returns an upload id that the emulator then processes."""
    result = client.upload_file(
        DEMO_PROJECT_ID, "https://builds.example.invalid/new.zip", auto_release=False
    )
    assert result.upload_id
    upload = emulator.control.upload(result.upload_id)
    assert upload["auto_release"] is False


def test_upload_file_has_its_own_rate_limit(client: StreampixelClient) -> None:
    """A second upload within the window is 429, independently of distribute-file."""
    client.upload_file(DEMO_PROJECT_ID, "https://builds.example.invalid/a.zip")
    client.distribute_file(DEMO_PROJECT_ID, READY)
    with pytest.raises(errors.RateLimited):
        client.upload_file(DEMO_PROJECT_ID, "https://builds.example.invalid/b.zip")


def test_test_webhook_without_url_is_not_found(client: StreampixelClient) -> None:
    """test-webhook on a project with no webhook URL is 404 with a dashboard hint."""
    with pytest.raises(errors.NotFound, match="No webhook URL configured"):
        client.test_webhook(DEMO_PROJECT_ID)


def test_test_webhook_reports_unreachable_endpoint(
    client: StreampixelClient, emulator: EmulatorServer
) -> None:
    """An unreachable webhook endpoint is reported with status code 0."""
    emulator.control.update_project(DEMO_PROJECT_ID, webhook_url=f"http://127.0.0.1:{free_port()}/")
    result = client.test_webhook(DEMO_PROJECT_ID)
    assert result.success is False
    assert result.status_code == 0


def test_projects_status_lists_demo_project(client: StreampixelClient) -> None:
    """projects-status lists the user's projects with their enabled flag."""
    status = client.projects_status()
    assert status.total_projects == 1
    assert status.projects[0].id == DEMO_PROJECT_ID
    assert status.projects[0].status is True


def test_user_stats_reads_counters(client: StreampixelClient) -> None:
    """userStats answers both counters for an owned project."""
    stats = client.user_stats(DEMO_PROJECT_ID)
    assert stats.live_user is not None
    assert stats.queue_user is not None


def test_user_stats_of_unknown_project_is_project_not_found(client: StreampixelClient) -> None:
    """userStats for a missing project is 404 Project not found."""
    with pytest.raises(errors.ProjectNotFound):
        client.user_stats("664f1a2b3c4d5e6f7a8b9fff")


def test_get_with_wrong_key_is_auth_error_without_key_in_message(emulator: EmulatorServer) -> None:
    """A GET refused for its key never shows the key (it travels in the query string)."""
    key = "sp_wrong_RECOGNIZABLE_3141592653"
    with (
        StreampixelClient(key, DEMO_USER_ID, base_url=emulator.base_url) as c,
        pytest.raises(errors.AuthError) as caught,
    ):
        c.projects_status()
    assert key not in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 500}, errors.ServerError),
        (
            {"status": 502, "raw_body": "<html>Bad Gateway</html>", "content_type": "text/html"},
            errors.ServerError,
        ),
        (
            {"status": 200, "raw_body": "<html>maintenance</html>", "content_type": "text/html"},
            errors.UnexpectedResponse,
        ),
        (
            {
                "status": 200,
                "raw_body": '{"message": "Distribution trig',
                "content_type": "application/json",
            },
            errors.UnexpectedResponse,
        ),
        (
            {"status": 200, "body": {"success": False, "message": "Queue full"}},
            errors.UnexpectedResponse,
        ),
    ],
    ids=["500", "502-html", "200-html", "200-truncated-json", "200-success-false"],
)
def test_injected_http_faults_raise_typed_errors(
    client: StreampixelClient,
    emulator: EmulatorServer,
    fault: dict[str, Any],
    error: type[Exception],
) -> None:
    """Faults queued in the emulator reach the client as typed errors."""
    emulator.control.add_fault("/projects/distribute-file", **fault)
    with pytest.raises(error):
        client.distribute_file(DEMO_PROJECT_ID, READY)


def test_dropped_connection_after_processing_may_have_landed(
    client: StreampixelClient, emulator: EmulatorServer
) -> None:
    """A connection dropped after the server acted is a TransportError with sent=True."""
    emulator.control.add_fault("/projects/distribute-file", drop=True, process=True)
    with pytest.raises(errors.TransportError) as caught:
        client.distribute_file(DEMO_PROJECT_ID, READY)
    assert caught.value.sent is True
    assert emulator.control.project(DEMO_PROJECT_ID)["history"]


def test_read_timeout_may_have_landed(emulator: EmulatorServer) -> None:
    """An answer slower than the client's timeout is a TransportError with sent=True."""
    emulator.control.add_fault("/projects/distribute-file", delay=1.0, status=200)
    with (
        StreampixelClient(DEMO_API_KEY, DEMO_USER_ID, base_url=emulator.base_url, timeout=0.2) as c,
        pytest.raises(errors.TransportError) as caught,
    ):
        c.distribute_file(DEMO_PROJECT_ID, READY)
    assert caught.value.sent is True


def test_connection_refused_did_not_land() -> None:
    """Nothing listening: a TransportError with sent=False."""
    url = f"http://127.0.0.1:{free_port()}/pixelStripeApi"
    with (
        StreampixelClient(DEMO_API_KEY, DEMO_USER_ID, base_url=url, timeout=2) as c,
        pytest.raises(errors.TransportError) as caught,
    ):
        c.distribute_file(DEMO_PROJECT_ID, READY)
    assert caught.value.sent is False


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
