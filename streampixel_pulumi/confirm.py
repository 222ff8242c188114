"""Confirmed releases: what the webhook receiver says about a distribution, and waiting for it.

Streampixel reports what follows "triggered" only through webhooks (shared/streampixel-api.md,
"Webhooks"); the team's receiver (streampixel-webhooks) stores them and status.py reads them.
This module owns what those events mean for one release and the wait for them:

- `Confirmation.prepare`, before the trigger, notes the newest event the receiver already has
  for the upload: a rollback distributes an upload that was live before, and those old events
  must not confirm the new distribution;
- `Confirmation.wait`, after the accepted trigger, polls until an event of this distribution
  says distributing or live ("live") or rejected (DistributionRejected), or until the deadline
  ("unconfirmed": the trigger happened, so the release is recorded all the same);
- `refresh` re-reads a recorded release's status for ``pulumi refresh``.

The provider imports this module only when confirmation is on, so a preview never loads it.
A receiver that cannot be reached never fails an accepted distribution, and the read token
never appears in a line or a message (StatusClient keeps it in a header).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from streampixel_pulumi.config import Settings
from streampixel_pulumi.errors import (
    APIError,
    DistributionRejected,
    RateLimited,
    ServerError,
    StreampixelError,
    TransportError,
)
from streampixel_pulumi.release import Triggered
from streampixel_pulumi.status import StatusClient
from streampixel_pulumi.waits import Deadline, Progress, Waiter, format_seconds
from streampixel_pulumi.webhooks.events import (
    APPROVED,
    DISTRIBUTING,
    REJECTED,
    EventRecord,
    UploadStatus,
    lifecycle_step,
    to_utc,
)

__all__ = [
    "CLOCK_SKEW_SECONDS",
    "LIVE",
    "REJECTED_STATUS",
    "UNCONFIRMED",
    "Confirmation",
    "Outcome",
    "Verdict",
    "events_since",
    "judge",
    "refresh",
]

LIVE = "live"
UNCONFIRMED = "unconfirmed"
REJECTED_STATUS = "rejected"

CLOCK_SKEW_SECONDS = 10.0
"""How far Streampixel's clock (event timestamps) may lag this machine's without losing events."""

_DEADLINE_KEYS = "confirm_deadline_seconds / streampixel:confirmDeadlineSeconds"
_MIN_REQUEST_SECONDS = 1.0
# Errors that may go away while waiting (receiver restarting, proxy in front of it failing);
# anything else the receiver answers means a wrong statusUrl or statusToken.
_TRANSIENT = (TransportError, ServerError, RateLimited)


@dataclass(frozen=True)
class Verdict:
    """What the receiver's events say about a distribution: `status` live or rejected.

    `step` is the deciding event's lifecycle step (distributing, approved or rejected).
    """

    status: str
    step: str
    event: str
    timestamp: datetime
    objection: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How a wait ended: `status` live or unconfirmed, and from when events counted."""

    status: str
    since: datetime
    note: str


def events_since(started_at: datetime, newest_known: datetime | None) -> datetime:
    """The earliest event timestamp that can belong to a distribution sent at `started_at`.

    Event timestamps come from Streampixel's clock and `started_at` from this machine's, so
    the bound is `CLOCK_SKEW_SECONDS` earlier. Events the receiver already had before the
    trigger (`newest_known`, Streampixel's clock too) are older still, whatever the skew: a
    rollback's earlier release of the same upload can never confirm the new one.
    """
    since = to_utc(started_at) - timedelta(seconds=CLOCK_SKEW_SECONDS)
    if newest_known is not None:
        since = max(since, to_utc(newest_known) + timedelta(microseconds=1))
    return since


def judge(events: Sequence[EventRecord]) -> Verdict | None:
    """Decide a distribution's status from the upload's events since it was triggered.

    Ordered by timestamp, the last decisive event wins: ``Distribute`` or ``Approved`` ->
    live, ``Reject`` -> rejected (with its objection); other events (webhook.test, unknown
    ones) decide nothing. ``Approved`` counts without a ``Distribute`` before it, unlike the
    receiver's derived state: distribute-file only accepts a stored build (else "File has no
    URL"), so after the trigger Approved is the end of the distribution [INFER], and a
    project may not subscribe to build.distributing.

    Args:
        events: the upload's events from `events_since(...)` on.
    """
    verdict: Verdict | None = None
    for item in sorted(events, key=lambda record: to_utc(record.timestamp)):
        step = lifecycle_step(item)
        if step == REJECTED:
            verdict = Verdict(REJECTED_STATUS, step, item.event, item.timestamp, item.objection)
        elif step in (DISTRIBUTING, APPROVED):
            verdict = Verdict(LIVE, step, item.event, item.timestamp)
    return verdict


def _describe(error: StreampixelError) -> str:
    """A short account of a receiver failure for a progress line (never the token or URL)."""
    if isinstance(error, TransportError):
        return error.problem
    if isinstance(error, APIError):
        said = f": {error.api_message}" if error.api_message else ""
        hint = "" if isinstance(error, _TRANSIENT) else f" ({error.hint})"
        return f"the webhook receiver answered HTTP {error.status_code}{said}{hint}"
    return str(error)


def _rejected(
    project_id: str, upload_id: str, triggered_at: str, verdict: Verdict
) -> DistributionRejected:
    """DistributionRejected whose message says the trigger happened and what to do now."""
    hint = (
        f"Streampixel had accepted the distribution to project {project_id} (triggered at "
        f"{triggered_at}); the project should still stream the build that was live before, "
        "check it in the Streampixel dashboard. Pulumi records no change for this release, so "
        f"the next `pulumi up` would distribute upload {upload_id} again: set upload_id back "
        "to a good upload (for example `git revert` the release commit) or release a fixed build."
    )
    return DistributionRejected(upload_id, verdict.objection, hint=hint)


class _Throttled(Progress):
    """Progress that repeats an unchanged line at most every `every` seconds."""

    def __init__(
        self, project_id: str, *, every: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(project_id, every=every)
        self._clock = clock
        self._last: tuple[str, float] | None = None

    def say(self, text: str) -> None:
        now = self._clock()
        if self._last is not None and self._last[0] == text and now - self._last[1] < self.every:
            return
        self._last = (text, now)
        super().say(text)


@dataclass
class _Poll:
    """One answer of the receiver: a verdict, or a note on why there is none (yet)."""

    verdict: Verdict | None
    note: str
    give_up: bool = False


class Confirmation:
    """Confirms one release through the webhook receiver: `prepare`, trigger, then `wait`.

    Args:
        settings: the provider settings (statusUrl, statusToken, pollSeconds, ...).
        project_id: the project released to.
        upload_id: the upload distributed.
        deadline_seconds: how long `wait` may take.
        transport: an httpx transport for the status client (tests only).
        sleep: how `wait` pauses between polls (tests only).

    Raises:
        ConfigError: confirmation needs statusUrl and statusToken and one is missing.
    """

    def __init__(
        self,
        settings: Settings,
        project_id: str,
        upload_id: str,
        *,
        deadline_seconds: float,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url, self._token = settings.require_status()
        self._settings = settings
        self.project_id = project_id
        self.upload_id = upload_id
        self.deadline_seconds = deadline_seconds
        self._transport = transport
        self._sleep = sleep
        self._progress = _Throttled(project_id, every=settings.progress_seconds)
        self._newest_known: datetime | None = None

    def __repr__(self) -> str:
        return f"Confirmation(project_id={self.project_id!r}, upload_id={self.upload_id!r})"

    def _client(self) -> StatusClient:
        return StatusClient(
            self._url,
            self._token,
            timeout=self._settings.http_timeout_seconds,
            transport=self._transport,
        )

    def prepare(self) -> None:
        """Before the trigger: note the newest event the receiver already has for the upload.

        A receiver that cannot be reached now is only reported (it may be back by the time
        the events come). Any other failure means statusUrl or statusToken is wrong, and is
        raised: nothing has been distributed yet, and no release could be confirmed.
        """
        try:
            with self._client() as client:
                known = client.upload(self.upload_id, project_id=self.project_id)
        except _TRANSIENT as error:
            self._progress.say(
                f"warning: the webhook receiver cannot be asked before the release "
                f"({_describe(error)}); distributing anyway and asking it again until the "
                "confirmation deadline"
            )
            return
        except StreampixelError:
            self._progress.say(
                "confirmation is on but the webhook receiver refused the request; "
                f"nothing was distributed to project {self.project_id}"
            )
            raise
        if known is not None and known.events:
            self._newest_known = max(to_utc(item.timestamp) for item in known.events)

    def wait(self, triggered: Triggered) -> Outcome:
        """After the accepted trigger: poll the receiver until it confirms, or the deadline.

        Returns live or unconfirmed (with a warning line); never fails because the receiver
        cannot be reached, since the distribution did happen.

        Raises:
            DistributionRejected: the receiver reports the build rejected after the trigger.
        """
        since = events_since(triggered.started_at, self._newest_known)
        deadline = Deadline(self.deadline_seconds)
        # The loop bounds every pause by `deadline`; the waiter only sleeps and reports.
        pauses = Waiter(Deadline(math.inf), self._progress, sleep=self._sleep)
        self._progress.say(
            f"waiting up to {format_seconds(self.deadline_seconds)} ({_DEADLINE_KEYS}) for "
            f"the webhook receiver to report upload {self.upload_id} distributing, live or "
            "rejected"
        )
        with self._client() as client:
            while True:
                poll = self._poll(client, since, deadline)
                if poll.verdict is not None:
                    return self._decided(poll.verdict, since, triggered)
                pause = min(self._settings.poll_seconds, deadline.remaining())
                if poll.give_up or pause <= 0:
                    break
                pauses.sleep(
                    pause,
                    f"waiting for confirmation of upload {self.upload_id} ({poll.note})",
                    then="asking the receiver again",
                )
        stop = "gave up" if poll.give_up else "no confirmation"
        if not poll.give_up:
            stop += f" within {format_seconds(self.deadline_seconds)} ({_DEADLINE_KEYS})"
        self._progress.say(
            f"warning: {stop} for upload {self.upload_id}: {poll.note}. Streampixel accepted "
            f"the distribution, so it is recorded with status {UNCONFIRMED!r} and the next "
            "`pulumi up` does not distribute it again; check the project in the Streampixel "
            "dashboard, and `pulumi refresh` updates the status once the receiver has the events"
        )
        return Outcome(UNCONFIRMED, since, poll.note)

    def _poll(self, client: StatusClient, since: datetime, deadline: Deadline) -> _Poll:
        timeout = min(
            self._settings.http_timeout_seconds, max(deadline.remaining(), _MIN_REQUEST_SECONDS)
        )
        try:
            status = client.upload(
                self.upload_id, project_id=self.project_id, since=since, timeout=timeout
            )
        except _TRANSIENT as error:
            return _Poll(None, _describe(error))
        except StreampixelError as error:
            return _Poll(None, _describe(error), give_up=True)
        if status is None:
            return _Poll(None, _NO_EVENTS)
        return _Poll(judge(status.events), _note(status))

    def _decided(self, verdict: Verdict, since: datetime, triggered: Triggered) -> Outcome:
        when = to_utc(verdict.timestamp).isoformat(timespec="seconds")
        if verdict.status == REJECTED_STATUS:
            self._progress.say(
                f"the webhook receiver reports upload {self.upload_id} rejected "
                f"({verdict.event} at {when})"
            )
            raise _rejected(self.project_id, self.upload_id, triggered.triggered_at, verdict)
        self._progress.say(
            f"confirmed: the webhook receiver reports upload {self.upload_id} "
            f"{'distributing' if verdict.step == DISTRIBUTING else 'approved (live)'} "
            f"({verdict.event} at {when})"
        )
        return Outcome(LIVE, since, f"{verdict.event} at {when}")


_NO_EVENTS = "no events of this distribution yet"


def _note(status: UploadStatus) -> str:
    if not status.events:
        return _NO_EVENTS
    return f"latest event {status.events[-1].event}, which decides nothing"


def _stored_since(outputs: Mapping[str, Any]) -> datetime | None:
    """From when events count for a recorded release (see `events_since`), if known."""
    stored = outputs.get("confirm_since")
    try:
        if isinstance(stored, str):
            return to_utc(datetime.fromisoformat(stored))
        triggered_at = outputs.get("triggered_at")
        if isinstance(triggered_at, str):
            return events_since(datetime.fromisoformat(triggered_at), None)
    except ValueError:
        return None
    return None


def refresh(
    settings: Settings,
    outputs: Mapping[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Any]:
    """`outputs` with `status` (and `objection`) as the receiver now reports the release.

    Never raises and never distributes: when the receiver cannot be asked, or has no decisive
    event of this release, the stored status stands (with a warning line if it failed).
    """
    new = dict(outputs)
    project_id = str(outputs.get("project_id") or "")
    upload_id = str(outputs.get("upload_id") or "")
    progress = Progress(project_id, every=settings.progress_seconds)
    old = outputs.get("status")
    since = _stored_since(outputs)
    if since is None:
        progress.say(f"warning: refresh kept status {old!r}: no valid triggered_at in the state")
        return new
    try:
        url, token = settings.require_status()
        with StatusClient(
            url, token, timeout=settings.http_timeout_seconds, transport=transport
        ) as client:
            status = client.upload(upload_id, project_id=project_id, since=since)
    except StreampixelError as error:
        progress.say(f"warning: refresh kept status {old!r}: {_describe(error)}")
        return new
    verdict = judge(status.events) if status is not None else None
    if verdict is None:
        return new
    new["status"] = verdict.status
    if verdict.status == REJECTED_STATUS:
        new["objection"] = verdict.objection
    else:
        new.pop("objection", None)
    if verdict.status != old:
        reason = f": {verdict.objection}" if verdict.objection else ""
        progress.say(
            f"refresh: the webhook receiver reports upload {upload_id} {verdict.status}"
            f"{reason} (status was {old!r})"
        )
    return new
