"""Tests of confirm.py: what the receiver's events mean for a release, the wait and refresh.

The receiver is either the real one (the `webhook_receiver` fixture, fed with `deliver`) or an
httpx.MockTransport when a failure must be scripted. Waits are shortened through Settings
(pollSeconds, a deadline of a fraction of a second), never by patching.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from streampixel_pulumi.config import Settings
from streampixel_pulumi.confirm import (
    CLOCK_SKEW_SECONDS,
    Confirmation,
    events_since,
    judge,
    refresh,
)
from streampixel_pulumi.errors import AuthError, ConfigError, DistributionRejected
from streampixel_pulumi.release import Triggered
from streampixel_pulumi.webhooks import events as ev
from streampixel_pulumi.webhooks.events import EventRecord
from streampixel_pulumi.webhooks.server import ReceiverServer
from tests.fixtures_receiver import PROJECT_ID, UPLOAD_ID, deliver, envelope

TOKEN = "read-token-unit-7c1e9a4b2d"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def record(event: str, second: float, objection: str | None = None) -> EventRecord:
    moment = NOW + timedelta(seconds=second)
    return EventRecord(
        event=event,
        status=None,
        objection=objection,
        timestamp=moment,
        received_at=moment,
    )


def settings_for(url: str, token: str = TOKEN, **extra: str) -> Settings:
    stack = {
        "streampixel:statusUrl": url,
        "streampixel:statusToken": token,
        "streampixel:pollSeconds": "0.02",
        "streampixel:progressSeconds": "15",
        "streampixel:httpTimeoutSeconds": "2",
    }
    stack.update(extra)
    return Settings.load(stack, {"HOME": "/nonexistent"})


def triggered(started_at: datetime | None = None) -> Triggered:
    started = started_at or datetime.now(timezone.utc)
    return Triggered(
        region="europe",
        message="File distribution triggered successfully",
        triggered_at=started.isoformat(timespec="seconds"),
        started_at=started,
    )


def fake_receiver(*answers: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[Any]]:
    """A transport answering /uploads/... from a script (then 404 no events); records requests."""
    seen: list[httpx.Request] = []
    script = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = script.pop(0) if script else None
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        return httpx.Response(404, json={"message": ev.NO_EVENTS_MESSAGE})

    return httpx.MockTransport(handle), seen


def upload_status(*events: dict[str, Any]) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "upload_id": UPLOAD_ID,
            "project_id": PROJECT_ID,
            "state": "unknown",
            "events": [{"received_at": item["timestamp"], **item} for item in events],
        },
    )


def confirmation(
    settings: Settings, transport: httpx.BaseTransport | None = None, **kw: Any
) -> Confirmation:
    return Confirmation(
        settings,
        PROJECT_ID,
        UPLOAD_ID,
        deadline_seconds=kw.pop("deadline_seconds", 0.3),
        transport=transport,
        **kw,
    )


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], None),
        ([record(ev.BUILD_DISTRIBUTING, 0)], ("live", ev.DISTRIBUTING)),
        ([record(ev.BUILD_APPROVED, 0)], ("live", ev.APPROVED)),
        ([record(ev.BUILD_DISTRIBUTING, 0), record(ev.BUILD_APPROVED, 1)], ("live", ev.APPROVED)),
        (
            [record(ev.BUILD_DISTRIBUTING, 0), record(ev.BUILD_REJECTED, 1, "bad")],
            ("rejected", ev.REJECTED),
        ),
        (
            [record(ev.BUILD_REJECTED, 2, "bad"), record(ev.BUILD_DISTRIBUTING, 1)],
            ("rejected", ev.REJECTED),
        ),
        (
            [record(ev.BUILD_REJECTED, 1, "old"), record(ev.BUILD_DISTRIBUTING, 2)],
            ("live", ev.DISTRIBUTING),
        ),
        ([record(ev.WEBHOOK_TEST, 0), record(ev.BUILD_SAVING, 1)], None),
        ([record("build.renamed", 0)], None),
    ],
    ids=[
        "no-events",
        "distributing",
        "approved-alone",
        "distributing-then-approved",
        "distributing-then-rejected",
        "rejection-delivered-first",
        "redistributed-after-rejection",
        "nothing-decisive",
        "unknown-event",
    ],
)
def test_judge_lets_the_last_decisive_event_by_timestamp_win(
    events: list[EventRecord], expected: tuple[str, str] | None
) -> None:
    """Distribute/Approved mean live, Reject rejected; ordered by timestamp, the last one wins."""
    verdict = judge(events)
    assert (None if verdict is None else (verdict.status, verdict.step)) == expected


def test_judge_reads_the_status_field_before_the_event_name() -> None:
    """An unknown event name carrying status Reject is a rejection, with its objection."""
    item = EventRecord(
        event="build.failed",
        status=ev.STATUS_REJECT,
        objection="Virus found",
        timestamp=NOW,
        received_at=NOW,
    )
    verdict = judge([item])
    assert verdict is not None
    assert (verdict.status, verdict.objection) == ("rejected", "Virus found")


def test_events_since_allows_clock_skew_without_earlier_events() -> None:
    """With nothing known before the trigger, events up to the skew margin earlier count."""
    assert events_since(NOW, None) == NOW - timedelta(seconds=CLOCK_SKEW_SECONDS)


def test_events_since_never_reaches_back_to_events_known_before_the_trigger() -> None:
    """An event the receiver had before the trigger, inside the skew margin, is excluded."""
    known = NOW - timedelta(seconds=2)
    since = events_since(NOW, known)
    assert since > known
    assert since - known == timedelta(microseconds=1)
    old = NOW - timedelta(hours=1)
    assert events_since(NOW, old) == NOW - timedelta(seconds=CLOCK_SKEW_SECONDS)


def test_events_since_treats_naive_times_as_utc() -> None:
    """A naive datetime is taken to be UTC, like the receiver does."""
    assert events_since(NOW.replace(tzinfo=None), None) == events_since(NOW, None)


def test_confirmation_needs_status_url_and_token(tmp_path: Path) -> None:
    """Without statusUrl and statusToken a Confirmation cannot be made; both keys are named."""
    settings = Settings.load({}, {"HOME": str(tmp_path)})
    with pytest.raises(ConfigError) as caught:
        confirmation(settings)
    assert caught.value.key == "streampixel:statusUrl and streampixel:statusToken"


def test_wait_confirms_live_from_the_real_receiver(
    webhook_receiver: ReceiverServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A build.distributing after the trigger makes the release live."""
    token = webhook_receiver.read_token.get_secret_value()
    waiting = confirmation(settings_for(webhook_receiver.url, token))
    waiting.prepare()
    started = datetime.now(timezone.utc)
    deliver(webhook_receiver, envelope(ev.BUILD_DISTRIBUTING, timestamp=stamp(started)))
    outcome = waiting.wait(triggered(started))
    assert outcome.status == "live"
    assert outcome.since <= started
    err = capsys.readouterr().err
    assert f"streampixel: project {PROJECT_ID} confirmed:" in err
    assert token not in err


def test_wait_fails_with_the_objection_when_the_build_is_rejected(
    webhook_receiver: ReceiverServer,
) -> None:
    """A build.rejected after the trigger fails with the objection, saying the trigger happened."""
    token = webhook_receiver.read_token.get_secret_value()
    waiting = confirmation(settings_for(webhook_receiver.url, token))
    waiting.prepare()
    started = datetime.now(timezone.utc)
    deliver(
        webhook_receiver,
        envelope(ev.BUILD_REJECTED, timestamp=stamp(started), objection="Executable missing"),
    )
    trig = triggered(started)
    with pytest.raises(DistributionRejected) as caught:
        waiting.wait(trig)
    error = caught.value
    assert (error.upload_id, error.objection) == (UPLOAD_ID, "Executable missing")
    text = str(error)
    assert "Executable missing" in text
    assert f"rejected upload {UPLOAD_ID}" in text
    assert f"had accepted the distribution to project {PROJECT_ID}" in text
    assert trig.triggered_at in text
    assert "git revert" in text


def test_events_known_before_the_trigger_do_not_confirm(
    webhook_receiver: ReceiverServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """An earlier release's events, seconds old, leave a rollback unconfirmed."""
    token = webhook_receiver.read_token.get_secret_value()
    earlier = datetime.now(timezone.utc) - timedelta(seconds=2)
    deliver(
        webhook_receiver,
        envelope(ev.BUILD_DISTRIBUTING, timestamp=stamp(earlier)),
        envelope(ev.BUILD_APPROVED, timestamp=stamp(earlier + timedelta(seconds=1))),
    )
    waiting = confirmation(settings_for(webhook_receiver.url, token), deadline_seconds=0.2)
    waiting.prepare()
    outcome = waiting.wait(triggered())
    assert outcome.status == "unconfirmed"
    assert "warning: no confirmation within 0.2 s" in capsys.readouterr().err


def test_no_events_until_the_deadline_is_unconfirmed_with_one_progress_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Silence until the deadline ends the wait on time, unconfirmed, without a line per poll."""
    transport, seen = fake_receiver()
    waiting = confirmation(settings_for("http://receiver.test"), transport, deadline_seconds=0.3)
    waiting.prepare()
    started = time.monotonic()
    outcome = waiting.wait(triggered())
    assert time.monotonic() - started < 2
    assert outcome.status == "unconfirmed"
    assert len(seen) > 3
    err = capsys.readouterr().err
    assert err.count("waiting for confirmation of upload") == 1
    assert "recorded with status 'unconfirmed'" in err
    assert "does not distribute it again" in err


def test_receiver_failures_are_reported_and_polling_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Connection errors and 5xx during the wait are reported; a later answer still confirms."""
    now = stamp(datetime.now(timezone.utc))
    transport, seen = fake_receiver(
        httpx.Response(404, json={"message": ev.NO_EVENTS_MESSAGE}),
        httpx.ConnectError("refused"),
        httpx.Response(503, json={"message": "The event could not be stored"}),
        upload_status(envelope(ev.BUILD_APPROVED, timestamp=now)),
    )
    waiting = confirmation(settings_for("http://receiver.test"), transport, deadline_seconds=5)
    waiting.prepare()
    outcome = waiting.wait(triggered())
    assert outcome.status == "live"
    assert len(seen) == 4
    err = capsys.readouterr().err
    assert "Could not connect to the webhook receiver (ConnectError)" in err
    assert "the webhook receiver answered HTTP 503" in err
    assert "approved (live)" in err


def test_refused_token_during_the_wait_gives_up_early_without_failing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A 401 will not go away by waiting: unconfirmed at once, with the setting to fix."""
    transport, seen = fake_receiver(
        httpx.Response(404, json={"message": ev.NO_EVENTS_MESSAGE}),
        httpx.Response(401, json={"message": "Missing or invalid bearer token"}),
    )
    waiting = confirmation(settings_for("http://receiver.test"), transport, deadline_seconds=30)
    waiting.prepare()
    started = time.monotonic()
    outcome = waiting.wait(triggered())
    assert time.monotonic() - started < 5
    assert outcome.status == "unconfirmed"
    assert len(seen) == 2
    err = capsys.readouterr().err
    assert "warning: gave up for upload" in err
    assert "streampixel:statusToken" in err


def test_prepare_fails_on_a_refused_token_before_anything_is_distributed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before the trigger, a receiver refusing the token stops the release."""
    transport, _ = fake_receiver(
        httpx.Response(401, json={"message": f"Missing or invalid bearer token {TOKEN}"})
    )
    with pytest.raises(AuthError) as caught:
        confirmation(settings_for("http://receiver.test"), transport).prepare()
    assert "streampixel:statusToken" in str(caught.value)
    assert TOKEN not in str(caught.value)
    err = capsys.readouterr().err
    assert "nothing was distributed" in err
    assert TOKEN not in err


def test_prepare_only_warns_when_the_receiver_cannot_be_reached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unreachable receiver before the trigger is reported; the release goes ahead."""
    transport, _ = fake_receiver(httpx.ConnectError("refused"))
    confirmation(settings_for("http://receiver.test"), transport).prepare()
    assert "distributing anyway" in capsys.readouterr().err


def test_requests_carry_the_token_in_a_header_only() -> None:
    """The read token travels as a bearer header, never in the URL."""
    transport, seen = fake_receiver()
    waiting = confirmation(settings_for("http://receiver.test"), transport, deadline_seconds=0.05)
    waiting.prepare()
    waiting.wait(triggered())
    for request in seen:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in str(request.url)
    assert "since" in seen[-1].url.params
    assert seen[-1].url.params["project_id"] == PROJECT_ID


def stored(status: str = "live", **extra: Any) -> dict[str, Any]:
    outputs = {
        "project_id": PROJECT_ID,
        "upload_id": UPLOAD_ID,
        "status": status,
        "triggered_at": "2025-03-01T12:00:00+00:00",
        "confirm_since": "2025-03-01T11:59:50+00:00",
    }
    outputs.update(extra)
    return outputs


def test_refresh_reports_a_later_rejection(capsys: pytest.CaptureFixture[str]) -> None:
    """A release confirmed live and rejected afterwards reads back rejected, with the objection."""
    transport, seen = fake_receiver(
        upload_status(
            envelope(ev.BUILD_DISTRIBUTING, second=0),
            envelope(ev.BUILD_REJECTED, second=30, objection="Crashes on start"),
        )
    )
    new = refresh(settings_for("http://receiver.test"), stored(), transport=transport)
    assert (new["status"], new["objection"]) == ("rejected", "Crashes on start")
    assert seen[0].url.params["since"] == "2025-03-01T11:59:50+00:00"
    assert "refresh: the webhook receiver reports upload" in capsys.readouterr().err


def test_refresh_marks_an_unconfirmed_release_live_once_events_arrived() -> None:
    """Events that came after the deadline turn unconfirmed into live, and drop an objection."""
    transport, _ = fake_receiver(upload_status(envelope(ev.BUILD_APPROVED, second=100)))
    new = refresh(
        settings_for("http://receiver.test"),
        stored("unconfirmed", objection="old"),
        transport=transport,
    )
    assert new["status"] == "live"
    assert "objection" not in new


def test_refresh_without_confirm_since_counts_from_triggered_at() -> None:
    """A release made before confirmation was on is read from triggered_at minus the skew."""
    transport, seen = fake_receiver()
    outputs = {k: v for k, v in stored("triggered").items() if k != "confirm_since"}
    assert refresh(settings_for("http://receiver.test"), outputs, transport=transport) == outputs
    assert seen[0].url.params["since"] == "2025-03-01T11:59:50+00:00"


@pytest.mark.parametrize(
    ("outputs", "settings_extra", "answer", "fragment"),
    [
        (stored(), {}, httpx.ConnectError("refused"), "Could not connect"),
        (stored(), {}, httpx.Response(500, text="boom"), "HTTP 500"),
        (stored(triggered_at="yesterday", confirm_since=None), {}, None, "triggered_at"),
        (stored(), {"streampixel:statusToken": ""}, None, "streampixel:statusToken"),
    ],
    ids=["receiver-down", "receiver-failing", "no-valid-time", "no-token"],
)
def test_refresh_keeps_the_stored_status_with_a_warning(
    capsys: pytest.CaptureFixture[str],
    outputs: dict[str, Any],
    settings_extra: dict[str, str],
    answer: httpx.Response | Exception | None,
    fragment: str,
) -> None:
    """When the receiver cannot say, refresh never fails: the stored status stands."""
    transport, _ = fake_receiver(*([answer] if answer is not None else []))
    settings = settings_for("http://receiver.test", **settings_extra)
    assert refresh(settings, outputs, transport=transport) == outputs
    err = capsys.readouterr().err
    assert "warning: refresh kept status 'live'" in err
    assert fragment in err
