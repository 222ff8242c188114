"""One running emulator: state, faults, request log, webhook sender and the pipeline ticker.

The ticker thread advances the pipeline on time, even when no request arrives, and hands the
webhook events it produces to the sender. `reset` puts everything back to the start-up seed
and settings. The request log keeps every request that reached the API routes, with
``apiKey``/``apikey`` replaced by ``***``.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from .demo import demo_seed
from .faults import FaultQueue
from .records import iso_timestamp
from .settings import EmulatorSettings
from .state import EmulatorState
from .webhooks import WebhookSender

__all__ = ["REDACTED", "RequestLog", "Runtime", "redact"]

REDACTED = "***"
_SECRET_NAMES = {"apikey", "api_key"}
_LOG_LIMIT = 10000
_MAX_IDLE_WAIT = 0.5


def redact(value: Any) -> Any:
    """Copy a JSON-like value with every API key field replaced by ``***``."""
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in _SECRET_NAMES else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


class RequestLog:
    """Requests that reached the API routes, oldest first (secrets redacted on entry)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        fault: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Add an entry (status None until `finish`) and return it."""
        safe_body = redact(body)
        fields = safe_body if isinstance(safe_body, dict) else {}
        now = self._clock()
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": redact(query),
            "body": safe_body,
            "status": None,
            "dropped": False,
            "fault": fault,
            "at": iso_timestamp(now),
            "time": now,
            "user_id": fields.get("userId", query.get("userId")),
            "project_id": fields.get("projectId"),
            "upload_id": fields.get("uploadId"),
        }
        with self._lock:
            self._entries.append(entry)
            del self._entries[:-_LOG_LIMIT]
        return entry

    def finish(self, entry: dict[str, Any], status: int, *, dropped: bool = False) -> None:
        """Record the status sent (or started, for a dropped connection)."""
        with self._lock:
            entry["status"] = status
            entry["dropped"] = dropped

    def entries(self, path: str | None = None) -> list[dict[str, Any]]:
        """Copies of the entries, optionally only those for one API path."""
        with self._lock:
            return [dict(e) for e in self._entries if path is None or e["path"] == path]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


class Runtime:
    """Everything one emulator instance holds, plus the threads that move it along."""

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        seed: dict[str, Any] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._initial_settings = (settings or EmulatorSettings()).model_copy(deep=True)
        self._initial_seed = copy.deepcopy(seed) if seed is not None else demo_seed()
        self.clock = clock
        self.state = EmulatorState(self._initial_settings.model_copy(deep=True), clock=clock)
        self.state.load(self._initial_seed)
        self.faults = FaultQueue()
        self.requests = RequestLog(clock)
        self.webhooks = WebhookSender(lambda: self.state.settings.webhook_timeout, clock)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._ticker: threading.Thread | None = None
        self._generation = 0
        self._generation_lock = threading.Lock()

    @property
    def settings(self) -> EmulatorSettings:
        """The settings in force."""
        return self.state.settings

    @property
    def generation(self) -> int:
        """Bumped by every reset and at stop; delayed answers end early when it changes."""
        with self._generation_lock:
            return self._generation

    @property
    def stopping(self) -> bool:
        """Whether the runtime is shutting down."""
        return self._stopping.is_set()

    def start(self) -> None:
        """Start the webhook sender and the pipeline ticker."""
        self._stopping.clear()
        self.webhooks.start()
        self._ticker = threading.Thread(target=self._tick, name="emulator-pipeline", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        """Stop both threads; delayed answers in flight end at once (idempotent)."""
        self.cancel_delays()
        if self._ticker is None:
            return
        self._stopping.set()
        self._wake.set()
        self._ticker.join(5.0)
        self._ticker = None
        self.webhooks.stop()

    def cancel_delays(self) -> None:
        """End every delayed answer in flight now (so a server can shut down quickly)."""
        self._bump()

    def kick(self) -> None:
        """Wake the ticker (after a request changed the pipeline)."""
        self._wake.set()

    def reset(self, seed: dict[str, Any] | None = None) -> None:
        """Back to a fresh world: `seed` (or the start-up one) and the start-up settings."""
        new_seed = copy.deepcopy(seed) if seed is not None else self._initial_seed
        probe = EmulatorState(self._initial_settings.model_copy(deep=True), clock=self.clock)
        probe.load(new_seed)  # raises ValueError before anything is changed
        self._bump()
        self.faults.clear()
        self.requests.clear()
        self.webhooks.reset()
        self.state.clear()
        self.state.settings = self._initial_settings.model_copy(deep=True)
        self.state.load(new_seed)
        self.kick()

    def _bump(self) -> None:
        with self._generation_lock:
            self._generation += 1

    def _tick(self) -> None:
        while not self._stopping.is_set():
            self.state.advance()
            for outgoing in self.state.take_outbox():
                self.webhooks.submit(outgoing)
            due = self.state.next_due()
            wait = _MAX_IDLE_WAIT if due is None else min(_MAX_IDLE_WAIT, due - self.clock())
            if wait > 0:
                self._wake.wait(wait)
            self._wake.clear()
