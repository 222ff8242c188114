"""SQLiteEventStore: idempotent inserts, ordering, queries, durability and thread safety."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from streampixel_pulumi.webhooks import events as ev
from streampixel_pulumi.webhooks.store import EventStore, SQLiteEventStore
from tests.fixtures_receiver import PROJECT_ID, T0, UPLOAD_ID, envelope


def _env(event: str, **fields: Any) -> ev.Envelope:
    return ev.Envelope.model_validate(envelope(event, **fields))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteEventStore]:
    """A store over a fresh file, closed afterwards."""
    opened = SQLiteEventStore(tmp_path / "events.db")
    yield opened
    opened.close()


def test_store_satisfies_the_protocol(store: SQLiteEventStore) -> None:
    """SQLiteEventStore is usable wherever an EventStore is expected."""
    typed: EventStore = store
    assert typed.upload_events("nothing") == []


def test_duplicate_delivery_is_stored_once(store: SQLiteEventStore) -> None:
    """The same event, project, upload, status and timestamp is stored once."""
    assert store.add(_env(ev.BUILD_SAVING)) is True
    assert store.add(_env(ev.BUILD_SAVING)) is False
    same_instant = _env(ev.BUILD_SAVING, timestamp="2025-03-01T13:00:00.000+01:00")
    assert store.add(same_instant) is False
    assert len(store.upload_events(UPLOAD_ID)) == 1


def test_events_differing_in_one_key_field_are_all_stored(store: SQLiteEventStore) -> None:
    """Changing any of event, project, upload, status or timestamp makes a new event."""
    base = envelope(ev.BUILD_APPROVED)
    variants = [
        base,
        {**base, "event": "build.other"},
        {**base, "projectId": "other-project"},
        {**base, "status": "Other"},
        {**base, "timestamp": "2025-03-01T12:00:01Z"},
    ]
    assert all(store.add(ev.Envelope.model_validate(body)) for body in variants)
    assert store.add(ev.Envelope.model_validate({**base, "uploadId": "other"})) is True


def test_test_events_without_upload_are_deduplicated(store: SQLiteEventStore) -> None:
    """webhook.test (uploadId null) is stored, and a repeat of it is still a duplicate."""
    assert store.add(_env(ev.WEBHOOK_TEST)) is True
    assert store.add(_env(ev.WEBHOOK_TEST)) is False
    [stored] = store.project_events(PROJECT_ID)
    assert (stored.event, stored.upload_id) == (ev.WEBHOOK_TEST, None)


def test_upload_events_are_ordered_by_timestamp_then_receipt(store: SQLiteEventStore) -> None:
    """Events come back by event timestamp, ties in receipt order, whatever the arrival order."""
    store.add(_env(ev.BUILD_APPROVED, second=20))
    store.add(_env(ev.BUILD_SAVING, second=0))
    store.add(_env(ev.BUILD_DISTRIBUTING, second=10))
    store.add(_env("build.b", second=10))
    names = [item.event for item in store.upload_events(UPLOAD_ID)]
    assert names == [ev.BUILD_SAVING, ev.BUILD_DISTRIBUTING, "build.b", ev.BUILD_APPROVED]


def test_stored_event_keeps_fields_and_receiver_clock(store: SQLiteEventStore) -> None:
    """A stored event keeps its fields, its timestamp in UTC and received_at from the receiver."""
    arrived = datetime(2025, 3, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    store.add(_env(ev.BUILD_REJECTED, objection="Virus found"), received_at=arrived)
    before = datetime.now(timezone.utc)
    store.add(_env(ev.BUILD_SAVING))
    found = {item.event: item for item in store.upload_events(UPLOAD_ID)}
    rejected, saving = found[ev.BUILD_REJECTED], found[ev.BUILD_SAVING]
    assert rejected.status == ev.STATUS_REJECT
    assert rejected.objection == "Virus found"
    assert rejected.project_id == PROJECT_ID
    assert rejected.timestamp == T0
    assert rejected.received_at == arrived
    assert rejected.received_at.tzinfo == timezone.utc
    assert saving.received_at >= before - timedelta(seconds=1)


def test_upload_events_filter_by_project_and_since(store: SQLiteEventStore) -> None:
    """project_id keeps one project's reports; since keeps events stamped at or after it."""
    store.add(_env(ev.BUILD_SAVING, second=0))
    store.add(_env(ev.BUILD_DISTRIBUTING, second=10))
    store.add(_env(ev.BUILD_APPROVED, second=20, project_id="intruder"))
    assert len(store.upload_events(UPLOAD_ID, project_id=PROJECT_ID)) == 2
    since = store.upload_events(UPLOAD_ID, since=T0 + timedelta(seconds=10))
    assert [item.event for item in since] == [ev.BUILD_DISTRIBUTING, ev.BUILD_APPROVED]
    naive = store.upload_events(UPLOAD_ID, since=datetime(2025, 3, 1, 12, 0, 15))
    assert [item.event for item in naive] == [ev.BUILD_APPROVED]


def test_project_events_are_newest_first_and_limited(store: SQLiteEventStore) -> None:
    """A project's events come newest first, at most `limit`, other projects left out."""
    for second in range(5):
        store.add(_env(ev.BUILD_DOWNLOADING, second=second, upload_id=f"u{second}"))
    store.add(_env(ev.BUILD_SAVING, second=99, project_id="other"))
    latest = store.project_events(PROJECT_ID, limit=3)
    assert [item.upload_id for item in latest] == ["u4", "u3", "u2"]
    assert len(store.project_events(PROJECT_ID)) == 5


def test_events_survive_reopening_the_file(tmp_path: Path) -> None:
    """Everything added is read back by a new store on the same file."""
    path = tmp_path / "events.db"
    first = SQLiteEventStore(path)
    first.add(_env(ev.BUILD_SAVING))
    first.add(_env(ev.BUILD_REJECTED, second=1, objection="Too big"))
    first.close()
    second = SQLiteEventStore(path)
    try:
        stored = second.upload_events(UPLOAD_ID)
        assert [(item.event, item.objection) for item in stored] == [
            (ev.BUILD_SAVING, None),
            (ev.BUILD_REJECTED, "Too big"),
        ]
        assert second.add(_env(ev.BUILD_SAVING)) is False
    finally:
        second.close()


def test_database_uses_wal_mode(store: SQLiteEventStore) -> None:
    """The file is in WAL mode, so readers never block the webhook writer."""
    with closing(sqlite3.connect(store.path)) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_file_url_is_never_written_to_disk(store: SQLiteEventStore, tmp_path: Path) -> None:
    """A signed file URL in a delivery is not stored anywhere in the database files."""
    store.add(_env(ev.BUILD_SAVING, fileUrl="https://bucket.example/b.zip?sig=SIGNATURE123"))
    store.close()
    for path in tmp_path.iterdir():
        assert b"SIGNATURE123" not in path.read_bytes(), path.name


def test_concurrent_adds_from_threads_are_all_stored(store: SQLiteEventStore) -> None:
    """Adds from many threads at once are each stored exactly once."""

    def add(i: int) -> bool:
        return store.add(_env(ev.BUILD_DOWNLOADING, second=i % 100, upload_id=f"u{i % 100}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(add, range(400)))
    assert results.count(True) == 100
    assert len(store.project_events(PROJECT_ID, limit=1000)) == 100


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A file written by a newer schema version is refused rather than misread."""
    path = tmp_path / "events.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(RuntimeError, match="newer"):
        SQLiteEventStore(path)
