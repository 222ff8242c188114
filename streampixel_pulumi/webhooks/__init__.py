"""Streampixel webhooks: envelopes, derived upload states and event storage.

Light on purpose: importing this package pulls in no server framework. The HTTP app lives in
`webhooks.receiver`, the threaded server in `webhooks.server`, the console script in
`webhooks.__main__`; the provider reads the receiver through `streampixel_pulumi.status`.
"""

from streampixel_pulumi.webhooks.events import (
    EVENTS,
    STATES,
    TERMINAL_STATES,
    TERMINAL_STATUSES,
    DerivedState,
    Envelope,
    EventRecord,
    ProjectEvent,
    ProjectEvents,
    UploadStatus,
    derive_state,
)
from streampixel_pulumi.webhooks.store import EventStore, SQLiteEventStore, StoredEvent

__all__ = [
    "EVENTS",
    "STATES",
    "TERMINAL_STATES",
    "TERMINAL_STATUSES",
    "DerivedState",
    "Envelope",
    "EventRecord",
    "EventStore",
    "ProjectEvent",
    "ProjectEvents",
    "SQLiteEventStore",
    "StoredEvent",
    "UploadStatus",
    "derive_state",
]
