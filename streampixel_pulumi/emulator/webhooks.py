"""Outgoing webhook delivery: POST the envelope once, log the outcome, never retry.

As the real service does (shared/streampixel-api.md, "Webhooks"): HTTP POST with a JSON body,
a timeout (10 s by default, the `webhook_timeout` setting), no retries, no signature. One
worker thread sends queued events in order. Every delivery is logged with the target URL
redacted to scheme and host, since receivers are advised to put a secret token in the path
or query.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from .records import Outgoing, iso_timestamp

__all__ = ["WebhookSender", "redact_url"]

_log = logging.getLogger("streampixel_pulumi.emulator.webhooks")
_LOG_LIMIT = 5000


def redact_url(url: str) -> str:
    """Keep scheme, host and port; hide path and query: ``https://hooks.example/***``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "***"
    return f"{parts.scheme}://{host}{port}/***"


class WebhookSender:
    """Sends webhook POSTs from a worker thread and keeps a log of every delivery."""

    def __init__(self, timeout: Callable[[], float], clock: Callable[[], float] = time.time):
        self._timeout = timeout
        self._clock = clock
        self._queue: queue.Queue[tuple[int, Outgoing] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self._generation = 0
        # httpx logs every request URL at INFO, and webhook URLs carry the receiver's token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._client = httpx.Client(
            follow_redirects=False, headers={"User-Agent": "streampixel-emulator"}
        )
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread."""
        self._thread = threading.Thread(target=self._work, name="emulator-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker (deliveries still queued are dropped) and close the HTTP client."""
        self.reset()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(self._timeout() + 1.0)
        self._client.close()

    def submit(self, outgoing: Outgoing) -> None:
        """Queue one delivery."""
        with self._lock:
            generation = self._generation
        self._queue.put((generation, outgoing))

    def deliver(self, outgoing: Outgoing, generation: int | None = None) -> dict[str, Any]:
        """POST one envelope now (in the calling thread), log it and return the log entry.

        The entry is logged unless a reset happened since `generation` (the queue's).
        """
        started = self._clock()
        status_code: int | None = None
        error: str | None = None
        try:
            response = self._client.post(
                outgoing.url, json=outgoing.envelope, timeout=self._timeout()
            )
            status_code = response.status_code
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.HTTPError as exc:
            error = exc.__class__.__name__
        envelope = outgoing.envelope
        entry = {
            "event": envelope.get("event"),
            "project_id": envelope.get("projectId"),
            "upload_id": envelope.get("uploadId"),
            "url": redact_url(outgoing.url),
            "status_code": status_code,
            "error": error,
            "at": iso_timestamp(started),
            "seconds": round(self._clock() - started, 3),
            "envelope": dict(envelope),
        }
        with self._lock:
            if generation is None or generation == self._generation:
                self._log.append(entry)
                del self._log[:-_LOG_LIMIT]
        _log.info(
            "webhook %s for upload %s to %s: %s",
            entry["event"],
            entry["upload_id"],
            entry["url"],
            status_code if error is None else error,
        )
        return entry

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempted since the last reset, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def reset(self) -> None:
        """Forget the log and skip deliveries queued before now."""
        with self._lock:
            self._generation += 1
            self._log.clear()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            generation, outgoing = item
            with self._lock:
                stale = generation != self._generation
            if not stale:
                self.deliver(outgoing, generation)
