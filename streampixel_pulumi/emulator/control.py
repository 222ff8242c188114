"""EmulatorControl: a small httpx client for the emulator's /_emulator control routes.

Used by tests and scripts to reset and seed the emulator, inspect projects, uploads and the
request log, change settings and queue faults. It imports no server framework, so it works
against an emulator running in another process. Not part of the Streampixel client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import httpx

__all__ = ["EmulatorControl", "EmulatorControlError"]

_T = TypeVar("_T")


class EmulatorControlError(RuntimeError):
    """A control request failed; `status_code` and the emulator's message."""

    def __init__(self, status_code: int, message: str) -> None:
        self.status_code = status_code
        self.message = message
        super().__init__(f"emulator control answered HTTP {status_code}: {message}")


class EmulatorControl:
    """Drive a running emulator over HTTP.

    Args:
        url: the emulator's root URL, e.g. ``http://127.0.0.1:8787`` (not the API base URL).
        timeout: seconds per control request.
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=f"{self.url}/_emulator", timeout=timeout)

    # ------------------------------------------------------------------- world and seeding
    def reset(self, seed: dict[str, Any] | None = None) -> None:
        """Back to a fresh world: `seed`, or the one the emulator started with (default: demo).

        Also restores the start-up settings and clears faults, the request log, rate limits
        and the webhook delivery log.
        """
        self._call("POST", "/reset", json={"seed": seed})

    def seed(self, seed: dict[str, Any]) -> None:
        """Add (or replace) users, projects and uploads, keeping everything else."""
        self._call("POST", "/seed", json=seed)

    def state(self) -> dict[str, Any]:
        """Every user id, project, upload and rate-limit slot (no API keys)."""
        result: dict[str, Any] = self._call("GET", "/state")
        return result

    def project(self, project_id: str) -> dict[str, Any]:
        """A project: live_upload_id, distributing_upload_id, history, webhook settings, ..."""
        result: dict[str, Any] = self._call("GET", f"/projects/{project_id}")
        return result

    def update_project(self, project_id: str, **fields: Any) -> dict[str, Any]:
        """Change project fields (enabled, region, webhook_url, webhook_events, ...)."""
        result: dict[str, Any] = self._call("PATCH", f"/projects/{project_id}", json=fields)
        return result

    def upload(self, upload_id: str) -> dict[str, Any]:
        """An upload: status, has_url, objection, auto_release, ..."""
        result: dict[str, Any] = self._call("GET", f"/uploads/{upload_id}")
        return result

    def update_upload(self, upload_id: str, **fields: Any) -> dict[str, Any]:
        """Change an upload's reject_at, objection, reject_on_distribute, file_url, ..."""
        result: dict[str, Any] = self._call("PATCH", f"/uploads/{upload_id}", json=fields)
        return result

    def set_api_key(self, user_id: str, api_key: str) -> None:
        """Rotate a user's API key; the old key is refused at once."""
        self._call("PUT", f"/users/{user_id}/api-key", json={"api_key": api_key})

    # ------------------------------------------------------------------------ request log
    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """Requests that reached the API (faulted ones too), optionally for one path.

        `path` may be given with or without the ``/pixelStripeApi`` prefix. Each entry has
        method, path, query, status, dropped, at, body (API key redacted), fault, user_id,
        project_id, upload_id.
        """
        params = {"path": path} if path else None
        result: list[dict[str, Any]] = self._call("GET", "/requests", params=params)
        return result

    def distribute_calls(self, project_id: str | None = None) -> int:
        """How many distribute-file requests reached the server (for one project if given)."""
        entries = self.requests("/projects/distribute-file")
        return sum(1 for e in entries if project_id is None or e.get("project_id") == project_id)

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "/requests")

    # -------------------------------------------------------------------------- settings
    def settings(self) -> dict[str, Any]:
        """The settings in force."""
        result: dict[str, Any] = self._call("GET", "/settings")
        return result

    def update_settings(self, **fields: Any) -> dict[str, Any]:
        """Change settings (validated; unknown names are refused); returns all of them."""
        result: dict[str, Any] = self._call("PUT", "/settings", json=fields)
        return result

    # ---------------------------------------------------------------------------- faults
    def add_fault(
        self,
        path: str,
        *,
        count: int = 1,
        status: int | None = None,
        body: Any = None,
        raw_body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
        delay: float = 0.0,
        drop: bool = False,
        process: bool = False,
        method: str = "POST",
    ) -> None:
        """Give the next `count` requests to `path` a faulty answer.

        Args:
            path: API path, with or without ``/pixelStripeApi``; a trailing ``*`` matches a prefix.
            count: how many requests the fault applies to.
            status: status to answer (default 500 when the fault replaces the answer).
            body: JSON body to answer (default ``{"message": <text for the status>}``).
            raw_body: bytes sent verbatim (malformed JSON, an HTML page).
            headers: headers added to the answer (e.g. Retry-After).
            content_type: Content-Type of the answer.
            delay: seconds to wait before answering (beyond a client timeout: a read timeout).
            drop: close the connection in the middle of the answer.
            process: run the real handler first (the request takes effect), then apply the fault.
            method: HTTP method to match (``*`` for any).
        """
        if isinstance(raw_body, bytes):
            raw_body = raw_body.decode("utf-8", errors="replace")
        fault = {
            "path": path,
            "count": count,
            "status": status,
            "body": body,
            "raw_body": raw_body,
            "headers": headers,
            "content_type": content_type,
            "delay": delay,
            "drop": drop,
            "process": process,
            "method": method,
        }
        self._call("POST", "/faults", json=fault)

    def faults(self) -> list[dict[str, Any]]:
        """Faults still queued, with their remaining counts."""
        result: list[dict[str, Any]] = self._call("GET", "/faults")
        return result

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        self._call("DELETE", "/faults")

    # -------------------------------------------------------------------------- webhooks
    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Webhook POSTs the emulator made: event, upload_id, url (redacted), status_code, error."""
        result: list[dict[str, Any]] = self._call("GET", "/webhooks")
        return result

    def events(self) -> list[dict[str, Any]]:
        """Every webhook envelope produced, subscribed to or not."""
        result: list[dict[str, Any]] = self._call("GET", "/events")
        return result

    # ------------------------------------------------------------------------- polling
    def wait_for(
        self,
        check: Callable[[], _T | None],
        *,
        timeout: float = 10.0,
        interval: float = 0.02,
        what: str = "condition",
    ) -> _T:
        """Poll `check` until it returns something truthy; TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                msg = f"emulator: {what} not reached within {timeout:g} s"
                raise TimeoutError(msg)
            time.sleep(interval)

    def wait_for_upload(
        self, upload_id: str, status: str, *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Poll until the upload has `status`; returns the upload."""

        def check() -> dict[str, Any] | None:
            upload = self.upload(upload_id)
            return upload if upload["status"] == status else None

        return self.wait_for(check, timeout=timeout, what=f"upload status {status!r}")

    def wait_for_live(
        self, project_id: str, upload_id: str, *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Poll until `upload_id` is the project's live build; returns the project."""

        def check() -> dict[str, Any] | None:
            project = self.project(project_id)
            return project if project["live_upload_id"] == upload_id else None

        return self.wait_for(check, timeout=timeout, what=f"live build {upload_id}")

    # ------------------------------------------------------------------------- plumbing
    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmulatorControl({self.url!r})"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message"))
            except (ValueError, AttributeError):
                message = response.text[:200]
            raise EmulatorControlError(response.status_code, message)
        return response.json()
