"""The webhook receiver in its own process, for the ingest benchmark (``python -m``).

    python -m benchmarks.ingest_server --store sqlite|null --db PATH

Serves on 127.0.0.1 with a free port, prints the port as its first stdout line and stops when
its stdin closes. The hook token comes from the BENCH_HOOK_TOKEN environment variable and is
never printed. ``--store null`` keeps nothing: the baseline the SQLite store is measured against.
Running the server apart from the load generator keeps the two from sharing one interpreter lock.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime

from streampixel_pulumi.webhooks.events import Envelope
from streampixel_pulumi.webhooks.server import ReceiverServer
from streampixel_pulumi.webhooks.store import EventStore, SQLiteEventStore, StoredEvent

__all__ = ["NullStore", "main"]

TOKEN_ENV = "BENCH_HOOK_TOKEN"  # noqa: S105 (a variable name, not a secret)


class NullStore:
    """An EventStore that stores nothing: every delivery counts as new."""

    def add(self, envelope: Envelope, *, received_at: datetime | None = None) -> bool:
        """Accept and forget."""
        return True

    def upload_events(
        self,
        upload_id: str,
        *,
        project_id: str | None = None,
        since: datetime | None = None,
    ) -> list[StoredEvent]:
        """Nothing is ever stored."""
        return []

    def project_events(self, project_id: str, *, limit: int = 50) -> list[StoredEvent]:
        """Nothing is ever stored."""
        return []

    def close(self) -> None:
        """Nothing to release."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=("sqlite", "null"), required=True)
    parser.add_argument("--db", required=True, help="SQLite file (unused with --store null)")
    options = parser.parse_args()
    token = os.environ[TOKEN_ENV]
    store: EventStore = SQLiteEventStore(options.db) if options.store == "sqlite" else NullStore()
    server = ReceiverServer(store, hook_token=token, read_token=token + "-read")
    server.start()
    try:
        sys.stdout.write(f"{server.url.rsplit(':', 1)[1]}\n")
        sys.stdout.flush()
        sys.stdin.read()
    finally:
        server.stop()
        store.close()


if __name__ == "__main__":
    main()
