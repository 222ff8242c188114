"""Where the webhook receiver keeps events: a small storage interface and its SQLite implementation.

The SQLite store is one file in WAL mode, committed per event, so nothing acknowledged is lost
across a restart; one connection guarded by a lock makes it safe to share between threads.
Webhooks are delivered at most once but may be delivered twice, so inserts are idempotent on
(event, project, upload, status, timestamp). The file URL is never stored: it may be a signed
download link. No server framework is imported here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from streampixel_pulumi.webhooks.events import Envelope, to_utc

__all__ = ["EventStore", "SQLiteEventStore", "StoredEvent"]

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key   TEXT NOT NULL UNIQUE,
    event       TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    upload_id   TEXT,
    status      TEXT,
    objection   TEXT,
    timestamp   TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_upload ON events (upload_id, timestamp, seq);
CREATE INDEX IF NOT EXISTS events_by_project ON events (project_id, timestamp, seq);
"""
_COLUMNS = "seq, event, project_id, upload_id, status, objection, timestamp, received_at"


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: `seq` is the receipt order, `received_at` the receiver's UTC clock."""

    seq: int
    event: str
    project_id: str
    upload_id: str | None
    status: str | None
    objection: str | None
    timestamp: datetime
    received_at: datetime


class EventStore(Protocol):
    """What the receiver needs from storage."""

    def add(self, envelope: Envelope, *, received_at: datetime | None = None) -> bool:
        """Store one delivery; return False if the same event was stored before."""

    def upload_events(
        self,
        upload_id: str,
        *,
        project_id: str | None = None,
        since: datetime | None = None,
    ) -> list[StoredEvent]:
        """An upload's events in derivation order (timestamp, then receipt order)."""

    def project_events(self, project_id: str, *, limit: int = 50) -> list[StoredEvent]:
        """A project's latest `limit` events, newest first."""

    def close(self) -> None:
        """Release the storage."""


def _text(moment: datetime) -> str:
    """UTC, fixed width (``0999-01-02T03:04:05.000000Z``), so text order is time order in SQL."""
    return to_utc(moment).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=timezone.utc)


def _row(row: tuple[object, ...]) -> StoredEvent:
    seq, event, project_id, upload_id, status, objection, timestamp, received_at = row
    return StoredEvent(
        seq=int(str(seq)),
        event=str(event),
        project_id=str(project_id),
        upload_id=None if upload_id is None else str(upload_id),
        status=None if status is None else str(status),
        objection=None if objection is None else str(objection),
        timestamp=_time(str(timestamp)),
        received_at=_time(str(received_at)),
    )


class SQLiteEventStore:
    """`EventStore` in one SQLite file (WAL mode), shared safely between threads.

    Args:
        path: the database file; created with its schema if missing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        # Autocommit: each statement is its own durable transaction.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            self._setup()
        except BaseException:
            self._db.close()
            raise

    def _setup(self) -> None:
        with self._lock:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > _SCHEMA_VERSION:
                msg = (
                    f"{self.path} was written by a newer streampixel-webhooks "
                    f"(schema {version}, this one knows {_SCHEMA_VERSION})"
                )
                raise RuntimeError(msg)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def __repr__(self) -> str:
        return f"SQLiteEventStore({self.path!r})"

    def add(self, envelope: Envelope, *, received_at: datetime | None = None) -> bool:
        """Store one delivery; return False if the same event was stored before.

        Args:
            envelope: the validated webhook body.
            received_at: when it arrived (default: now, UTC).
        """
        moment = received_at if received_at is not None else datetime.now(timezone.utc)
        timestamp = _text(envelope.timestamp)
        key = json.dumps(
            [envelope.event, envelope.project_id, envelope.upload_id, envelope.status, timestamp]
        )
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO events (dedup_key, event, project_id, upload_id, status,"
                " objection, timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    envelope.event,
                    envelope.project_id,
                    envelope.upload_id,
                    envelope.status,
                    envelope.objection,
                    timestamp,
                    _text(moment),
                ),
            )
            return cursor.rowcount == 1

    def upload_events(
        self,
        upload_id: str,
        *,
        project_id: str | None = None,
        since: datetime | None = None,
    ) -> list[StoredEvent]:
        """An upload's events in derivation order (timestamp, then receipt order).

        Args:
            upload_id: the upload.
            project_id: only events reported for this project.
            since: only events whose timestamp is at or after this moment.
        """
        sql = f"SELECT {_COLUMNS} FROM events WHERE upload_id = ?"  # noqa: S608 (constant columns)
        params: list[str] = [upload_id]
        if project_id is not None:
            sql += " AND project_id = ?"
            params.append(project_id)
        if since is not None:
            sql += " AND timestamp >= ?"
            params.append(_text(since))
        sql += " ORDER BY timestamp, seq"
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [_row(row) for row in rows]

    def project_events(self, project_id: str, *, limit: int = 50) -> list[StoredEvent]:
        """A project's latest `limit` events, newest first (by timestamp, then receipt order).

        Args:
            project_id: the project.
            limit: at most this many events.
        """
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE project_id = ?"  # noqa: S608 (constant columns)
                " ORDER BY timestamp DESC, seq DESC LIMIT ?",
                (project_id, max(0, limit)),
            ).fetchall()
        return [_row(row) for row in rows]

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            self._db.close()
