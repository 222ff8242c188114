"""Run the webhook receiver in a background thread: the handle tests, benchmarks and demos use.

Wraps `streampixel_pulumi.serving.ServerThread`; the console script (`__main__`) runs the same
app in the foreground instead.
"""

from __future__ import annotations

import os
import secrets
from types import TracebackType

from pydantic import SecretStr

from streampixel_pulumi.serving import ServerThread
from streampixel_pulumi.webhooks.receiver import (
    DEFAULT_MAX_BODY_BYTES,
    create_app,
    redact_access_log,
)
from streampixel_pulumi.webhooks.store import EventStore, SQLiteEventStore

__all__ = ["ReceiverServer"]


def _secret(value: str | SecretStr | None) -> SecretStr:
    if value is None:
        return SecretStr(secrets.token_urlsafe(24))
    return value if isinstance(value, SecretStr) else SecretStr(value)


class ReceiverServer:
    """The webhook receiver serving on its own thread; a context manager.

    Args:
        db: an SQLite file path (opened here, closed on `stop`) or an `EventStore` (left open).
        hook_token: secret path segment of the hook URL (default: a fresh random token).
        read_token: bearer token of the read API (default: a fresh random token).
        host: interface to bind.
        port: port to bind; 0 picks a free one (see `url` once started).
        max_body_bytes: larger webhook bodies are refused with 413.
    """

    def __init__(
        self,
        db: str | os.PathLike[str] | EventStore,
        *,
        hook_token: str | SecretStr | None = None,
        read_token: str | SecretStr | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.hook_token = _secret(hook_token)
        self.read_token = _secret(read_token)
        self._owns_store = isinstance(db, (str, os.PathLike))
        self.store: EventStore = SQLiteEventStore(db) if isinstance(db, (str, os.PathLike)) else db
        app = create_app(
            self.store,
            hook_token=self.hook_token,
            read_token=self.read_token,
            max_body_bytes=max_body_bytes,
        )
        self._thread = ServerThread(app, host=host, port=port)
        redact_access_log()

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:43123``: what `StatusClient` takes."""
        return self._thread.url

    @property
    def hook_url(self) -> str:
        """The URL to give Streampixel as the project's webhook; it contains the hook token."""
        return f"{self.url}/hooks/{self.hook_token.get_secret_value()}"

    def start(self) -> None:
        """Start serving; returns once the socket accepts connections."""
        try:
            self._thread.start()
        except BaseException:
            self._close_store()
            raise

    def stop(self) -> None:
        """Stop serving and close the store if this server opened it."""
        self._thread.stop()
        self._close_store()

    def _close_store(self) -> None:
        if self._owns_store:
            self.store.close()

    def __repr__(self) -> str:
        return f"ReceiverServer(url={self.url!r})"

    def __enter__(self) -> ReceiverServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
