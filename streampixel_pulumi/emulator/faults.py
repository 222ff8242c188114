"""Queued faults: the next `count` requests to a path get a broken or unusual answer.

A fault can replace the answer (status, JSON body, raw bytes such as malformed JSON or an HTML
page, content type, extra headers), delay it (beyond a client's read timeout), or drop the
connection mid-answer. With ``process`` the real handler runs first, so the request takes
effect (a distribution is recorded) and only its answer is broken. Pure data plus a
thread-safe queue; the middleware (middleware.py) applies them.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["API_PREFIX", "Fault", "FaultQueue", "api_path", "default_error_body"]

API_PREFIX = "/pixelStripeApi"

_DEFAULT_MESSAGES = {
    429: "Rate limit exceeded. Try again in 2 minutes.",
    500: "Internal server error",
}


def api_path(path: str) -> str:
    """Normalise a path to its form below the API prefix: ``/projects/distribute-file``."""
    if path.startswith(API_PREFIX):
        path = path[len(API_PREFIX) :]
    if not path.startswith("/"):
        path = "/" + path
    return path


def default_error_body(status: int) -> dict[str, Any]:
    """The ``{"message": ...}`` body the emulator uses for a faulted `status`."""
    message = _DEFAULT_MESSAGES.get(status)
    if message is None:
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = f"HTTP {status}"
    return {"message": message}


class Fault(BaseModel):
    """One queued fault. `path` may end in ``*`` to match every path with that prefix."""

    model_config = ConfigDict(extra="forbid")

    path: str
    method: str = "POST"
    count: int = Field(default=1, ge=1)
    status: int | None = Field(default=None, ge=100, le=599)
    body: Any = None
    raw_body: str | None = None
    headers: dict[str, str] | None = None
    content_type: str | None = None
    delay: float = Field(default=0.0, ge=0)
    drop: bool = False
    process: bool = False

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request (path already normalised by api_path)."""
        if self.method not in ("*", method.upper()):
            return False
        pattern = api_path(self.path)
        if pattern.endswith("*"):
            return path.startswith(pattern[:-1])
        return path == pattern

    def replaces_answer(self) -> bool:
        """Whether the fault brings its own status or body (else the real answer is kept)."""
        return self.status is not None or self.body is not None or self.raw_body is not None

    def summary(self) -> dict[str, Any]:
        """What the request log records about the fault."""
        return self.model_dump(exclude={"count", "body", "raw_body"}) | {
            "body": self.body is not None,
            "raw_body": self.raw_body is not None,
        }


class FaultQueue:
    """Faults waiting for requests, matched oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        with self._lock:
            self._faults.append(fault.model_copy(update={"method": fault.method.upper()}))

    def take(self, method: str, path: str) -> Fault | None:
        """Use up one count of the first fault matching the request, if any."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    if fault.count <= 1:
                        del self._faults[index]
                    else:
                        self._faults[index] = fault.model_copy(update={"count": fault.count - 1})
                    return fault
            return None

    def pending(self) -> list[dict[str, Any]]:
        """The queued faults with their remaining counts."""
        with self._lock:
            return [fault.model_dump() for fault in self._faults]

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()
