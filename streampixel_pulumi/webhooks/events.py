"""Webhook envelopes, event and status names, and the state of an upload derived from its events.

Pure: no I/O and no server framework, so the provider side (`streampixel_pulumi.status`) shares
these models with the receiver. Facts relied on are in shared/streampixel-api.md, "Webhooks":
delivery is at most once and possibly out of order, so the state is derived from every event
seen, ordered by the event's own timestamp and then by receipt order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

__all__ = [
    "APPROVED",
    "BUILD_APPROVED",
    "BUILD_DISTRIBUTING",
    "BUILD_DOWNLOADING",
    "BUILD_EXTRACTING",
    "BUILD_REJECTED",
    "BUILD_SAVING",
    "BUILD_UPLOADED",
    "DISTRIBUTING",
    "EVENTS",
    "LIVE",
    "NO_EVENTS_MESSAGE",
    "PROCESSING",
    "QUEUED",
    "READY",
    "REJECTED",
    "STATES",
    "STATUS_APPROVED",
    "STATUS_DISTRIBUTE",
    "STATUS_DOWNLOADING",
    "STATUS_EXTRACTING",
    "STATUS_PENDING",
    "STATUS_REJECT",
    "STATUS_SAVING",
    "TERMINAL_STATES",
    "TERMINAL_STATUSES",
    "UNKNOWN",
    "WEBHOOK_TEST",
    "DerivedState",
    "Envelope",
    "EventRecord",
    "ProjectEvent",
    "ProjectEvents",
    "UploadStatus",
    "derive_state",
    "lifecycle_step",
    "to_utc",
]

# Event names, as documented.
BUILD_UPLOADED = "build.uploaded"
BUILD_DOWNLOADING = "build.downloading"
BUILD_EXTRACTING = "build.extracting"
BUILD_SAVING = "build.saving"
BUILD_DISTRIBUTING = "build.distributing"
BUILD_APPROVED = "build.approved"
BUILD_REJECTED = "build.rejected"
WEBHOOK_TEST = "webhook.test"
EVENTS = (
    BUILD_UPLOADED,
    BUILD_DOWNLOADING,
    BUILD_EXTRACTING,
    BUILD_SAVING,
    BUILD_DISTRIBUTING,
    BUILD_APPROVED,
    BUILD_REJECTED,
    WEBHOOK_TEST,
)

# The `status` field sent with each event, as documented (webhook.test's is unknown).
STATUS_PENDING = "pending"
STATUS_DOWNLOADING = "Downloading Files"
STATUS_EXTRACTING = "Extracting & Scanning"
STATUS_SAVING = "Saving to Repository"
STATUS_DISTRIBUTE = "Distribute"
STATUS_APPROVED = "Approved"
STATUS_REJECT = "Reject"
TERMINAL_STATUSES = frozenset({STATUS_APPROVED, STATUS_REJECT})

# States derived for an upload (see `derive_state`).
UNKNOWN = "unknown"
QUEUED = "queued"
PROCESSING = "processing"
READY = "ready"
DISTRIBUTING = "distributing"
LIVE = "live"
REJECTED = "rejected"
STATES = (UNKNOWN, QUEUED, PROCESSING, READY, DISTRIBUTING, LIVE, REJECTED)
TERMINAL_STATES = frozenset({LIVE, REJECTED})

# The receiver's 404 message for an upload without events; the status client tells it apart
# from a 404 for a wrong path (a misconfigured status URL).
NO_EVENTS_MESSAGE = "No events received for this upload"

APPROVED = "approved"
"""A lifecycle step, not a state: ready or live depending on what came before it."""
_STEP_BY_STATUS = {
    STATUS_PENDING.casefold(): QUEUED,
    STATUS_DOWNLOADING.casefold(): PROCESSING,
    STATUS_EXTRACTING.casefold(): PROCESSING,
    STATUS_SAVING.casefold(): READY,
    STATUS_DISTRIBUTE.casefold(): DISTRIBUTING,
    STATUS_APPROVED.casefold(): APPROVED,
    STATUS_REJECT.casefold(): REJECTED,
}
_STEP_BY_EVENT = {
    BUILD_UPLOADED: QUEUED,
    BUILD_DOWNLOADING: PROCESSING,
    BUILD_EXTRACTING: PROCESSING,
    BUILD_SAVING: READY,
    BUILD_DISTRIBUTING: DISTRIBUTING,
    BUILD_APPROVED: APPROVED,
    BUILD_REJECTED: REJECTED,
}


def to_utc(moment: datetime) -> datetime:
    """Return `moment` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class Envelope(BaseModel):
    """One webhook delivery as Streampixel posts it.

    Lenient where the docs are vague (extra fields ignored, `uploadId`, `fileUrl`, `status` and
    `objection` optional) and strict on types, so a number where a string belongs is refused
    rather than silently turned into an id. `timestamp` is normalised to UTC.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    event: StrictStr = Field(min_length=1, max_length=200)
    project_id: StrictStr = Field(alias="projectId", min_length=1, max_length=200)
    upload_id: StrictStr | None = Field(default=None, alias="uploadId", max_length=200)
    file_url: StrictStr | None = Field(default=None, alias="fileUrl")
    status: StrictStr | None = Field(default=None, max_length=200)
    objection: StrictStr | None = None
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return to_utc(value)
        except OverflowError:
            msg = "timestamp is out of range once converted to UTC"
            raise ValueError(msg) from None

    def __repr__(self) -> str:
        # fileUrl may be a signed download URL (a short-lived credential): keep it out of reprs.
        return (
            f"Envelope(event={self.event!r}, project_id={self.project_id!r}, "
            f"upload_id={self.upload_id!r}, status={self.status!r}, "
            f"timestamp={self.timestamp.isoformat()!r})"
        )

    __str__ = __repr__


class EventRecord(BaseModel):
    """One stored event of an upload, as the receiver's read API returns it."""

    model_config = ConfigDict(extra="ignore")

    event: str
    status: str | None = None
    objection: str | None = None
    timestamp: datetime
    received_at: datetime


class ProjectEvent(EventRecord):
    """One stored event of a project; also names the upload (None for webhook.test)."""

    upload_id: str | None = None


class UploadStatus(BaseModel):
    """What the receiver knows about one upload: its derived state and the events behind it.

    `events` are in derivation order (event timestamp, then receipt order); `objection` is set
    only when `state` is ``rejected``.
    """

    model_config = ConfigDict(extra="ignore")

    upload_id: str
    project_id: str
    state: str
    objection: str | None = None
    events: list[EventRecord] = Field(default_factory=list)

    @property
    def terminal(self) -> bool:
        """True when nothing more is expected: the build is live or was rejected."""
        return self.state in TERMINAL_STATES


class ProjectEvents(BaseModel):
    """A project's latest events, newest first."""

    model_config = ConfigDict(extra="ignore")

    project_id: str
    events: list[ProjectEvent] = Field(default_factory=list)


class DerivedState(BaseModel):
    """The result of `derive_state`: a state name and, when rejected, the objection."""

    model_config = ConfigDict(frozen=True)

    state: str
    objection: str | None = None


class _EventLike(Protocol):
    @property
    def event(self) -> str: ...
    @property
    def status(self) -> str | None: ...
    @property
    def objection(self) -> str | None: ...
    @property
    def timestamp(self) -> datetime: ...


def lifecycle_step(item: _EventLike) -> str | None:
    """The lifecycle step an event reports, by its status, else by its event name.

    One of QUEUED, PROCESSING, READY, DISTRIBUTING, APPROVED and REJECTED; None for
    webhook.test and events this package does not know.
    """
    if item.status is not None:
        step = _STEP_BY_STATUS.get(item.status.strip().casefold())
        if step is not None:
            return step
    return _STEP_BY_EVENT.get(item.event)


def derive_state(events: Sequence[_EventLike]) -> DerivedState:
    """Derive an upload's state from its events, given in receipt order.

    Events are ordered by their timestamp, ties kept in receipt order; the last recognised
    step wins: ``pending`` -> queued; ``Downloading Files`` / ``Extracting & Scanning`` ->
    processing; ``Saving to Repository`` -> ready; ``Distribute`` -> distributing;
    ``Approved`` -> live if a ``Distribute`` came before it, else ready (the docs disagree on
    what Approved means, see shared/streampixel-api.md); ``Reject`` -> rejected, with its
    objection. Unknown events and webhook.test do not change the state; an upload with no
    recognised event is ``unknown``.

    Args:
        events: the upload's events in the order they were received.
    """
    ordered = sorted(events, key=lambda item: to_utc(item.timestamp))
    state = UNKNOWN
    objection: str | None = None
    distributed = False
    for item in ordered:
        step = lifecycle_step(item)
        if step is None:
            continue
        if step == DISTRIBUTING:
            distributed = True
        if step == APPROVED:
            step = LIVE if distributed else READY
        state = step
        objection = item.objection if step == REJECTED else None
    return DerivedState(state=state, objection=objection)
