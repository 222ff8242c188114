"""The emulator's records (users, projects, uploads), statuses and API error type.

Plain data with their control-API views; the rules that change them live in state.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "APPROVED",
    "DEFAULT_OBJECTION",
    "DISTRIBUTE",
    "PENDING",
    "PROCESSING_STAGES",
    "REJECT",
    "SAVING",
    "STAGE_EVENTS",
    "ApiFailure",
    "Outgoing",
    "Project",
    "Upload",
    "User",
    "build_envelope",
    "iso_timestamp",
]

PENDING = "pending"
SAVING = "Saving to Repository"
PROCESSING_STAGES = (PENDING, "Downloading Files", "Extracting & Scanning", SAVING)
DISTRIBUTE = "Distribute"
APPROVED = "Approved"
REJECT = "Reject"
STAGE_EVENTS = {
    PENDING: "build.uploaded",
    "Downloading Files": "build.downloading",
    "Extracting & Scanning": "build.extracting",
    SAVING: "build.saving",
}
DEFAULT_OBJECTION = "Build rejected by the emulator"


def iso_timestamp(epoch: float) -> str:
    """Format epoch seconds like JavaScript's toISOString(): ``2024-05-01T12:00:00.000Z``."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ApiFailure(Exception):
    """An error answer of the API: `status` and the body ``{"message": ...}`` (plus `extra`)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return {"message": self.message, **self.extra}


@dataclass(frozen=True)
class Outgoing:
    """A webhook POST to send: target URL and envelope."""

    url: str
    envelope: dict[str, Any]


@dataclass
class User:
    """A Streampixel account; the key is kept out of repr."""

    user_id: str
    api_key: str = field(repr=False)


@dataclass
class Project:
    """A project; `history` lists distributions, newest last."""

    project_id: str
    user_id: str
    name: str
    region: str
    enabled: bool
    live_upload_id: str | None
    webhook_url: str | None
    webhook_events: list[str] | None
    subscription_status: str
    live_users: int
    queue_users: int
    distributing_upload_id: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        """What the control API shows."""
        return {
            "project_id": self.project_id,
            "user_id": self.user_id,
            "name": self.name,
            "region": self.region,
            "enabled": self.enabled,
            "live_upload_id": self.live_upload_id,
            "distributing_upload_id": self.distributing_upload_id,
            "history": [dict(entry) for entry in self.history],
            "webhook_url": self.webhook_url,
            "webhook_events": self.webhook_events,
            "subscription_status": self.subscription_status,
            "live_users": self.live_users,
            "queue_users": self.queue_users,
        }


@dataclass
class Upload:
    """An upload (build) and where it is in the pipeline."""

    upload_id: str
    project_id: str
    status: str
    file_url: str | None
    auto_release: bool
    reject_at: str | None
    objection: str | None
    reject_on_distribute: str | None
    has_url: bool
    created_at: float
    due: float | None = None  # when the current stage (or the distribution) ends
    distribution: dict[str, Any] | None = None  # the history entry of a running distribution

    def view(self) -> dict[str, Any]:
        """What the control API shows."""
        return {
            "upload_id": self.upload_id,
            "project_id": self.project_id,
            "status": self.status,
            "has_url": self.has_url,
            "objection": self.objection,
            "auto_release": self.auto_release,
            "file_url": self.file_url,
            "reject_at": self.reject_at,
            "reject_on_distribute": self.reject_on_distribute,
        }


def build_envelope(
    project: Project,
    upload: Upload | None,
    event: str,
    status: str | None,
    at: float,
    objection: str | None = None,
) -> dict[str, Any]:
    """The webhook envelope, exactly the documented fields (shared/streampixel-api.md)."""
    return {
        "event": event,
        "projectId": project.project_id,
        "uploadId": upload.upload_id if upload else None,
        "fileUrl": upload.file_url if upload else None,
        "status": status,
        "objection": objection,
        "timestamp": iso_timestamp(at),
    }
