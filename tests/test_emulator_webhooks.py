"""Outgoing webhooks: envelopes POSTed to a receiver the test runs, test-webhook, delivery log."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
)
from streampixel_pulumi.emulator.server import EmulatorServer
from streampixel_pulumi.serving import ServerThread
from tests.fixtures_emulator import demo_body

TOKEN = "s3cr3t-hook-token"
ENVELOPE_KEYS = {"event", "projectId", "uploadId", "fileUrl", "status", "objection", "timestamp"}


class Receiver:
    """A tiny webhook receiver collecting every POST; answers `status`."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        self._lock = threading.Lock()
        self.app = FastAPI()

        @self.app.post("/hook/{token}")
        async def hook(token: str, request: Request) -> Response:
            envelope = await request.json()
            with self._lock:
                self.posts.append(envelope)
            return Response(status_code=self.status)

    def events(self) -> list[str]:
        """Event names received so far."""
        with self._lock:
            return [post["event"] for post in self.posts]

    def clear(self) -> None:
        """Forget received posts and answer 200 again."""
        with self._lock:
            self.posts.clear()
        self.status = 200


@pytest.fixture(scope="module")
def _receiver_server() -> Iterator[tuple[Receiver, str]]:
    """Run the receiver on 127.0.0.1, port 0, for the module."""
    receiver = Receiver()
    with ServerThread(receiver.app) as server:
        yield receiver, f"{server.url}/hook/{TOKEN}?key={TOKEN}"


@pytest.fixture
def receiver(
    emulator: EmulatorServer, _receiver_server: tuple[Receiver, str]
) -> Iterator[Receiver]:
    """A clean receiver registered as the demo project's webhook URL."""
    receiver, url = _receiver_server
    receiver.clear()
    emulator.control.update_project(DEMO_PROJECT_ID, webhook_url=url)
    yield receiver
    receiver.clear()


def wait_for_events(
    emulator: EmulatorServer, receiver: Receiver, count: int
) -> list[dict[str, Any]]:
    """Poll until the receiver has `count` posts; return them."""
    emulator.control.wait_for(lambda: len(receiver.posts) >= count, timeout=5, what="webhooks")
    return list(receiver.posts)


def test_upload_lifecycle_envelopes_posted_in_order(
    emulator: EmulatorServer, emulator_api: httpx.Client, receiver: Receiver
) -> None:
    """An autoRelease upload posts every stage event, exactly the documented envelope."""
    response = emulator_api.post(
        "/projects/upload-file",
        json={
            "apiKey": DEMO_API_KEY,
            "userId": DEMO_USER_ID,
            "projectId": DEMO_PROJECT_ID,
            "fileUrl": "https://builds.example.invalid/v2.zip",
        },
    )
    upload_id = response.json()["uploadId"]
    posts = wait_for_events(emulator, receiver, 6)
    assert [(p["event"], p["status"]) for p in posts] == [
        ("build.uploaded", "pending"),
        ("build.downloading", "Downloading Files"),
        ("build.extracting", "Extracting & Scanning"),
        ("build.saving", "Saving to Repository"),
        ("build.distributing", "Distribute"),
        ("build.approved", "Approved"),
    ]
    for post in posts:
        assert set(post) == ENVELOPE_KEYS
        assert (post["projectId"], post["uploadId"]) == (DEMO_PROJECT_ID, upload_id)
        assert post["fileUrl"] == "https://builds.example.invalid/v2.zip"
        assert post["objection"] is None
        assert post["timestamp"].endswith("Z")
        datetime.fromisoformat(post["timestamp"].replace("Z", "+00:00"))


def test_distribution_posts_distributing_then_approved(
    emulator: EmulatorServer, emulator_api: httpx.Client, receiver: Receiver
) -> None:
    """distribute-file leads to build.distributing then build.approved for that upload."""
    emulator_api.post("/projects/distribute-file", json=demo_body())
    posts = wait_for_events(emulator, receiver, 2)
    assert [(p["event"], p["status"], p["uploadId"]) for p in posts] == [
        ("build.distributing", "Distribute", DEMO_UPLOAD_IDS[0]),
        ("build.approved", "Approved", DEMO_UPLOAD_IDS[0]),
    ]


def test_rejected_distribution_posts_objection(
    emulator: EmulatorServer, emulator_api: httpx.Client, receiver: Receiver
) -> None:
    """A distribution rejected by Streampixel posts build.rejected with the objection."""
    emulator.control.update_upload(DEMO_UPLOAD_IDS[0], reject_on_distribute="Bad build")
    emulator_api.post("/projects/distribute-file", json=demo_body())
    posts = wait_for_events(emulator, receiver, 2)
    assert (posts[1]["event"], posts[1]["status"], posts[1]["objection"]) == (
        "build.rejected",
        "Reject",
        "Bad build",
    )


def test_only_subscribed_events_are_posted(
    emulator: EmulatorServer, emulator_api: httpx.Client, receiver: Receiver
) -> None:
    """With webhook_events set, other events are not posted."""
    emulator.control.update_project(DEMO_PROJECT_ID, webhook_events=["build.approved"])
    emulator_api.post("/projects/distribute-file", json=demo_body())
    emulator.control.wait_for_live(DEMO_PROJECT_ID, DEMO_UPLOAD_IDS[0])
    posts = wait_for_events(emulator, receiver, 1)
    assert [p["event"] for p in posts] == ["build.approved"]


def test_distribute_events_setting_changes_events(
    emulator: EmulatorServer, emulator_api: httpx.Client, receiver: Receiver
) -> None:
    """distribute_events=["build.approved"] drops build.distributing."""
    emulator.control.update_settings(distribute_events=["build.approved"])
    emulator_api.post("/projects/distribute-file", json=demo_body())
    posts = wait_for_events(emulator, receiver, 1)
    assert [p["event"] for p in posts] == ["build.approved"]


def test_failed_delivery_is_logged_and_not_retried(
    emulator: EmulatorServer,
    emulator_api: httpx.Client,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A receiver answering 500 gets each event once; the logs have the status, URL redacted."""
    caplog.set_level(logging.INFO)
    receiver.status = 500
    emulator_api.post("/projects/distribute-file", json=demo_body())
    control = emulator.control

    def two_deliveries() -> list[dict[str, Any]] | None:
        deliveries = control.webhook_deliveries()
        return deliveries if len(deliveries) >= 2 else None

    deliveries = control.wait_for(two_deliveries, what="deliveries")
    assert receiver.events() == ["build.distributing", "build.approved"]
    assert [(d["event"], d["status_code"], d["error"]) for d in deliveries] == [
        ("build.distributing", 500, None),
        ("build.approved", 500, None),
    ]
    assert TOKEN not in repr(deliveries)
    assert deliveries[0]["url"].endswith("/***")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("streampixel_pulumi")]
    assert any("webhook build.approved" in line and line.endswith(": 500") for line in lines)
    assert TOKEN not in caplog.text


def test_test_webhook_posts_test_event(
    emulator: EmulatorServer, emulator_api: httpx.Client, receiver: Receiver
) -> None:
    """test-webhook posts webhook.test (no upload) and reports the receiver's status."""
    body = {"apiKey": DEMO_API_KEY, "userId": DEMO_USER_ID, "projectId": DEMO_PROJECT_ID}
    response = emulator_api.post("/projects/test-webhook", json=body)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": "Test webhook sent successfully",
        "statusCode": 200,
    }
    post = receiver.posts[0]
    assert post | {"timestamp": None} == {
        "event": "webhook.test",
        "projectId": DEMO_PROJECT_ID,
        "uploadId": None,
        "fileUrl": None,
        "status": "test",
        "objection": None,
        "timestamp": None,
    }


def test_test_webhook_reports_receiver_error_status(
    emulator_api: httpx.Client, receiver: Receiver
) -> None:
    """A receiver answering 500 makes test-webhook answer success false, statusCode 500."""
    receiver.status = 500
    body = {"apiKey": DEMO_API_KEY, "userId": DEMO_USER_ID, "projectId": DEMO_PROJECT_ID}
    result = emulator_api.post("/projects/test-webhook", json=body).json()
    assert (result["success"], result["statusCode"]) == (False, 500)


def test_test_webhook_unreachable_is_status_code_zero(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """An unreachable webhook URL gives success false and statusCode 0."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    emulator.control.update_project(DEMO_PROJECT_ID, webhook_url=f"http://127.0.0.1:{port}/h")
    body = {"apiKey": DEMO_API_KEY, "userId": DEMO_USER_ID, "projectId": DEMO_PROJECT_ID}
    result = emulator_api.post("/projects/test-webhook", json=body).json()
    assert (result["success"], result["statusCode"]) == (False, 0)
    assert emulator.control.webhook_deliveries()[0]["error"] == "ConnectError"


def test_webhook_timeout_gives_up_once(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """A receiver that never answers is abandoned after webhook_timeout, without retry."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        emulator.control.update_settings(webhook_timeout=0.3)
        emulator.control.update_project(
            DEMO_PROJECT_ID, webhook_url=f"http://127.0.0.1:{port}/h/{TOKEN}"
        )
        body = {"apiKey": DEMO_API_KEY, "userId": DEMO_USER_ID, "projectId": DEMO_PROJECT_ID}
        result = emulator_api.post("/projects/test-webhook", json=body).json()
    assert (result["success"], result["statusCode"]) == (False, 0)
    deliveries = emulator.control.webhook_deliveries()
    assert [(d["event"], d["error"]) for d in deliveries] == [("webhook.test", "timeout")]
    assert 0.3 <= deliveries[0]["seconds"] < 2
