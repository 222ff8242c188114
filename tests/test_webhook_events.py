"""Webhook envelopes and the upload state derived from events (pure, no server)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from streampixel_pulumi import webhooks
from streampixel_pulumi.webhooks import events as ev
from tests.fixtures_receiver import STATUS_BY_EVENT, T0, envelope

UP = ev.BUILD_UPLOADED
DOWN = ev.BUILD_DOWNLOADING
EXTRACT = ev.BUILD_EXTRACTING
SAVE = ev.BUILD_SAVING
DIST = ev.BUILD_DISTRIBUTING
OK = ev.BUILD_APPROVED
REJ = ev.BUILD_REJECTED


def _events(*names: str) -> list[ev.Envelope]:
    """Envelopes for `names`, one second apart, in that (receipt) order."""
    return [ev.Envelope.model_validate(envelope(name, second=i)) for i, name in enumerate(names)]


def test_exported_names_exist() -> None:
    """Every name in the modules' __all__ exists (httpx's exported-names check)."""
    for module in (webhooks, ev):
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)


@pytest.mark.parametrize("event", ev.EVENTS, ids=ev.EVENTS)
def test_envelope_parses_every_documented_event(event: str) -> None:
    """Each documented event's body parses into an Envelope with its fields."""
    parsed = ev.Envelope.model_validate(envelope(event))
    assert parsed.event == event
    assert parsed.status == STATUS_BY_EVENT[event]
    assert parsed.project_id == envelope(event)["projectId"]
    assert parsed.timestamp == T0


def test_envelope_ignores_extra_fields_and_missing_optionals() -> None:
    """Unknown fields are ignored and uploadId/fileUrl/status/objection may be absent."""
    parsed = ev.Envelope.model_validate(
        {"event": "build.new", "projectId": "p", "timestamp": "2025-03-01T12:00:00Z", "x": [1]}
    )
    assert (parsed.upload_id, parsed.status, parsed.objection) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("projectId", 664),
        ("uploadId", 665),
        ("event", None),
        ("status", ["Approved"]),
        ("timestamp", "yesterday"),
        ("timestamp", None),
        ("projectId", ""),
    ],
    ids=[
        "project-number",
        "upload-number",
        "event-null",
        "status-list",
        "timestamp-text",
        "timestamp-null",
        "project-empty",
    ],
)
def test_envelope_refuses_wrong_types(field: str, value: object) -> None:
    """A wrong type is refused rather than coerced (a number is not an id)."""
    with pytest.raises(ValidationError):
        ev.Envelope.model_validate({**envelope(OK), field: value})


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("2025-03-01T13:00:00+01:00", T0),
        ("2025-03-01T12:00:00", T0),
        ("2025-03-01T12:00:00.000Z", T0),
        (1740830400, T0),
    ],
    ids=["offset", "naive-is-utc", "millis-z", "epoch-seconds"],
)
def test_envelope_timestamp_is_normalised_to_utc(sent: object, expected: datetime) -> None:
    """Offsets, naive times and epoch numbers all become the same aware UTC instant."""
    parsed = ev.Envelope.model_validate(envelope(OK, timestamp=sent))
    assert parsed.timestamp == expected
    assert parsed.timestamp.tzinfo == timezone.utc


def test_envelope_timestamp_overflowing_utc_is_a_validation_error() -> None:
    """A timestamp that leaves the datetime range in UTC is refused, not an OverflowError."""
    with pytest.raises(ValidationError):
        ev.Envelope.model_validate(envelope(OK, timestamp="9999-12-31T23:59:59-05:00"))


def test_envelope_repr_leaves_out_the_file_url() -> None:
    """A signed file URL (a short-lived credential) stays out of the envelope's repr and str."""
    url = "https://bucket.s3.amazonaws.com/b.zip?X-Amz-Signature=deadbeef"
    parsed = ev.Envelope.model_validate(envelope(SAVE, fileUrl=url))
    assert parsed.file_url == url
    assert "deadbeef" not in repr(parsed)
    assert "deadbeef" not in str(parsed)


@pytest.mark.parametrize(
    ("names", "state"),
    [
        ((), ev.UNKNOWN),
        ((UP,), ev.QUEUED),
        ((UP, DOWN), ev.PROCESSING),
        ((UP, DOWN, EXTRACT), ev.PROCESSING),
        ((UP, DOWN, EXTRACT, SAVE), ev.READY),
        ((UP, DOWN, EXTRACT, SAVE, OK), ev.READY),
        ((UP, DOWN, EXTRACT, SAVE, DIST), ev.DISTRIBUTING),
        ((UP, DOWN, EXTRACT, SAVE, DIST, OK), ev.LIVE),
        ((SAVE, OK, DIST), ev.DISTRIBUTING),
        ((SAVE, OK, DIST, OK), ev.LIVE),
        ((DIST, OK, DIST), ev.DISTRIBUTING),
        ((UP, DOWN, REJ), ev.REJECTED),
        ((SAVE, DIST, REJ), ev.REJECTED),
        ((ev.WEBHOOK_TEST,), ev.UNKNOWN),
    ],
    ids=[
        "no-events",
        "uploaded-queued",
        "downloading-processing",
        "extracting-processing",
        "saved-ready",
        "approved-without-distribute-ready",
        "distribute-distributing",
        "approved-after-distribute-live",
        "redistribute-of-ready-build",
        "ready-then-released-live",
        "redistribute-of-live-build",
        "rejected-while-processing",
        "rejected-while-distributing",
        "test-event-ignored",
    ],
)
def test_derive_state_follows_the_lifecycle(names: tuple[str, ...], state: str) -> None:
    """Each lifecycle sequence derives its documented state."""
    assert ev.derive_state(_events(*names)).state == state


def test_derive_state_rejected_carries_the_objection() -> None:
    """A rejection reports its objection; other states report none."""
    events = _events(UP, DOWN)
    events.append(ev.Envelope.model_validate(envelope(REJ, second=9, objection="Virus found")))
    assert ev.derive_state(events) == ev.DerivedState(state=ev.REJECTED, objection="Virus found")
    assert ev.derive_state(_events(UP, DOWN)).objection is None


def test_derive_state_orders_out_of_order_delivery_by_timestamp() -> None:
    """Approved received before Distribute but stamped after it still means live."""
    received = [
        ev.Envelope.model_validate(envelope(OK, second=20)),
        ev.Envelope.model_validate(envelope(SAVE, second=0)),
        ev.Envelope.model_validate(envelope(DIST, second=10)),
    ]
    assert ev.derive_state(received).state == ev.LIVE


def test_derive_state_breaks_timestamp_ties_by_receipt_order() -> None:
    """Events with the same timestamp count in the order they were received."""
    first = ev.Envelope.model_validate(envelope(DIST, second=5))
    second = ev.Envelope.model_validate(envelope(OK, second=5))
    assert ev.derive_state([first, second]).state == ev.LIVE
    assert ev.derive_state([second, first]).state == ev.DISTRIBUTING


def test_derive_state_ignores_unknown_events_and_reads_status_first() -> None:
    """Unknown events change nothing; a known status wins over the event name, which is a fallback."""
    unknown = ev.Envelope.model_validate(envelope("build.archived", second=9, status="Archived"))
    assert ev.derive_state([*_events(SAVE), unknown]).state == ev.READY
    by_status = ev.Envelope.model_validate(envelope("build.other", status="Downloading Files"))
    assert ev.derive_state([by_status]).state == ev.PROCESSING
    by_event = ev.Envelope.model_validate(envelope(SAVE, status=None))
    assert ev.derive_state([by_event]).state == ev.READY
    shouting = ev.Envelope.model_validate(envelope(REJ, status=" REJECT "))
    assert ev.derive_state([shouting]).state == ev.REJECTED


@given(st.permutations(range(6)), st.sampled_from([OK, REJ]))
def test_derive_state_ignores_receipt_order_when_timestamps_differ(
    order: list[int], last: str
) -> None:
    """With distinct timestamps, any delivery order derives the same state."""
    names = [UP, DOWN, EXTRACT, SAVE, DIST, last]
    stamped = [
        ev.Envelope.model_validate(envelope(name, second=i, objection="no"))
        for i, name in enumerate(names)
    ]
    expected = ev.derive_state(stamped)
    assert ev.derive_state([stamped[i] for i in order]) == expected


def test_upload_status_is_terminal_only_when_live_or_rejected() -> None:
    """UploadStatus.terminal is true for live and rejected, false otherwise."""
    for state in ev.STATES:
        status = ev.UploadStatus(upload_id="u", project_id="p", state=state)
        assert status.terminal == (state in {ev.LIVE, ev.REJECTED})


def test_upload_status_parses_leniently() -> None:
    """Extra fields in the receiver's answer are ignored and times parse to aware datetimes."""
    stamp = (T0 + timedelta(seconds=1)).isoformat()
    status = ev.UploadStatus.model_validate(
        {
            "upload_id": "u",
            "project_id": "p",
            "state": "live",
            "new_field": 1,
            "events": [{"event": OK, "timestamp": stamp, "received_at": stamp, "more": True}],
        }
    )
    assert status.events[0].timestamp == T0 + timedelta(seconds=1)
