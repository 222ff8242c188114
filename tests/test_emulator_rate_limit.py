"""Rate limits over real HTTP: per user and endpoint, documented 429, Retry-After switches."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from streampixel_pulumi.emulator.demo import DEMO_API_KEY, DEMO_PROJECT_ID, DEMO_USER_ID
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.fixtures_emulator import demo_body

DISTRIBUTE = "/projects/distribute-file"
UPLOAD = "/projects/upload-file"
SECOND_PROJECT = "6600000000000000000000bb"
SECOND_PROJECT_UPLOAD = "6610000000000000000000bb"
OTHER_USER = "5f0c1d2e3f4a5b6c7d8e9f99"
OTHER_KEY = "sp_other_fake_key"
OTHER_PROJECT = "6600000000000000000000cc"
OTHER_UPLOAD = "6610000000000000000000cc"


@pytest.fixture(autouse=True)
def wide_window(emulator: EmulatorServer) -> None:
    """A 30 s window, so a slow machine cannot let a slot expire between two requests."""
    emulator.control.update_settings(rate_limit_window=30)


def upload_body() -> dict[str, object]:
    """An upload-file body for the demo account."""
    return {
        "apiKey": DEMO_API_KEY,
        "userId": DEMO_USER_ID,
        "projectId": DEMO_PROJECT_ID,
        "fileUrl": "https://builds.example.invalid/x.zip",
        "autoRelease": False,
    }


@pytest.fixture
def two_users(emulator: EmulatorServer) -> EmulatorServer:
    """The demo user with a second project, and another user with a project of their own."""
    emulator.control.seed(
        {
            "users": [{"user_id": OTHER_USER, "api_key": OTHER_KEY}],
            "projects": [
                {"project_id": SECOND_PROJECT, "user_id": DEMO_USER_ID},
                {"project_id": OTHER_PROJECT, "user_id": OTHER_USER},
            ],
            "uploads": [
                {"upload_id": SECOND_PROJECT_UPLOAD, "project_id": SECOND_PROJECT},
                {"upload_id": OTHER_UPLOAD, "project_id": OTHER_PROJECT},
            ],
        }
    )
    return emulator


def test_second_distribute_within_window_is_429_with_seconds(emulator_api: httpx.Client) -> None:
    """Inside the window the second call is 429 with the remaining seconds in the message."""
    assert emulator_api.post(DISTRIBUTE, json=demo_body()).status_code == 200
    response = emulator_api.post(DISTRIBUTE, json=demo_body())
    assert response.status_code == 429
    assert set(response.json()) == {"message"}
    assert re.fullmatch(
        r"Rate limit exceeded\. Try again in (29|30) seconds\.", response.json()["message"]
    )
    assert "retry-after" not in response.headers


def test_documented_message_with_two_minute_window(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """With the documented 120 s window the 429 says "Try again in 2 minutes."."""
    emulator.control.update_settings(rate_limit_window=120)
    emulator_api.post(DISTRIBUTE, json=demo_body())
    response = emulator_api.post(DISTRIBUTE, json=demo_body())
    assert (response.status_code, response.json()) == (
        429,
        {"message": "Rate limit exceeded. Try again in 2 minutes."},
    )


def test_call_allowed_again_after_window(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """Once the window has passed, the next distribute-file call is accepted."""
    emulator.control.update_settings(rate_limit_window=0.3)
    started = time.monotonic()
    assert emulator_api.post(DISTRIBUTE, json=demo_body()).status_code == 200
    assert emulator_api.post(DISTRIBUTE, json=demo_body()).status_code == 429

    def accepted() -> bool:
        return emulator_api.post(DISTRIBUTE, json=demo_body()).status_code == 200

    emulator.control.wait_for(accepted, timeout=5, interval=0.05, what="slot free")
    assert time.monotonic() - started >= 0.3


def test_limit_is_per_user_not_per_project(two_users: EmulatorServer) -> None:
    """Another project of the same user is limited; another user is not."""
    url = f"{two_users.base_url}{DISTRIBUTE}"
    assert httpx.post(url, json=demo_body()).status_code == 200
    second = demo_body(projectId=SECOND_PROJECT, uploadId=SECOND_PROJECT_UPLOAD)
    assert httpx.post(url, json=second).status_code == 429
    other = demo_body(
        userId=OTHER_USER, apiKey=OTHER_KEY, projectId=OTHER_PROJECT, uploadId=OTHER_UPLOAD
    )
    assert httpx.post(url, json=other).status_code == 200


def test_upload_and_distribute_counted_separately(emulator_api: httpx.Client) -> None:
    """upload-file and distribute-file have their own slots."""
    assert emulator_api.post(UPLOAD, json=upload_body()).status_code == 200
    assert emulator_api.post(DISTRIBUTE, json=demo_body()).status_code == 200
    assert emulator_api.post(UPLOAD, json=upload_body()).status_code == 429
    assert emulator_api.post(DISTRIBUTE, json=demo_body()).status_code == 429


def test_retry_after_header_and_body_field_switches(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """send_retry_after adds Retry-After; retry_after_in_body adds a numeric retryAfter."""
    emulator.control.update_settings(
        rate_limit_window=30, send_retry_after=True, retry_after_in_body=True
    )
    emulator_api.post(DISTRIBUTE, json=demo_body())
    response = emulator_api.post(DISTRIBUTE, json=demo_body())
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 29 <= retry_after <= 30
    assert response.json()["retryAfter"] == retry_after
    match = re.search(r"in (\d+) seconds", response.json()["message"])
    assert match is not None
    assert int(match.group(1)) == retry_after


@pytest.mark.parametrize(
    ("use_slot", "second_status"), [(True, 429), (False, 200)], ids=["spends", "free"]
)
def test_rejected_request_slot_setting(
    emulator: EmulatorServer, emulator_api: httpx.Client, use_slot: bool, second_status: int
) -> None:
    """rejected_requests_use_slot decides whether a 404 after auth spends the slot."""
    emulator.control.update_settings(rejected_requests_use_slot=use_slot)
    first = emulator_api.post(DISTRIBUTE, json=demo_body(uploadId="ffffffffffffffffffffffff"))
    assert first.status_code == 404
    assert emulator_api.post(DISTRIBUTE, json=demo_body()).status_code == second_status


def test_rate_limited_requests_are_logged(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """429 answers reach the request log like any other."""
    emulator_api.post(DISTRIBUTE, json=demo_body())
    emulator_api.post(DISTRIBUTE, json=demo_body())
    assert [e["status"] for e in emulator.control.requests(DISTRIBUTE)] == [200, 429]
