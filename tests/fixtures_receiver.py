"""The `webhook_receiver` fixture (a real receiver on 127.0.0.1) and webhook envelope builders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from streampixel_pulumi.webhooks import events as ev
from streampixel_pulumi.webhooks.server import ReceiverServer

# The documented status sent with each event (webhook.test's is unknown; None here).
STATUS_BY_EVENT: dict[str, str | None] = {
    ev.BUILD_UPLOADED: ev.STATUS_PENDING,
    ev.BUILD_DOWNLOADING: ev.STATUS_DOWNLOADING,
    ev.BUILD_EXTRACTING: ev.STATUS_EXTRACTING,
    ev.BUILD_SAVING: ev.STATUS_SAVING,
    ev.BUILD_DISTRIBUTING: ev.STATUS_DISTRIBUTE,
    ev.BUILD_APPROVED: ev.STATUS_APPROVED,
    ev.BUILD_REJECTED: ev.STATUS_REJECT,
    ev.WEBHOOK_TEST: None,
}
PROJECT_ID = "664f1a2b3c4d5e6f7a8b9c0d"
UPLOAD_ID = "665a1a2b3c4d5e6f7a8b9c0e"
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def envelope(
    event: str,
    *,
    second: int = 0,
    upload_id: str | None = UPLOAD_ID,
    project_id: str = PROJECT_ID,
    objection: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A webhook body as Streampixel documents it, `second` seconds after T0."""
    body: dict[str, Any] = {
        "event": event,
        "projectId": project_id,
        "uploadId": None if event == ev.WEBHOOK_TEST else upload_id,
        "fileUrl": None,
        "status": STATUS_BY_EVENT.get(event, "Something New"),
        "objection": objection,
        "timestamp": (T0 + timedelta(seconds=second)).isoformat().replace("+00:00", "Z"),
    }
    body.update(extra)
    return body


def deliver(server: ReceiverServer, *bodies: dict[str, Any]) -> None:
    """POST each body to the receiver's hook URL, asserting it was accepted."""
    with httpx.Client(timeout=10.0) as http:
        for body in bodies:
            response = http.post(server.hook_url, json=body)
            assert response.status_code == 200, response.text


def reader(server: ReceiverServer) -> httpx.Client:
    """An httpx client for the receiver's read API, with the read token."""
    token = server.read_token.get_secret_value()
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
    )


@pytest.fixture
def webhook_receiver(tmp_path: Path) -> Iterator[ReceiverServer]:
    """A receiver on 127.0.0.1 (free port) over a fresh SQLite file, stopped afterwards."""
    with ReceiverServer(tmp_path / "webhooks.db") as server:
        yield server
