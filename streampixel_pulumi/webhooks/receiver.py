"""The webhook receiver's HTTP app: takes Streampixel's deliveries and serves what it stored.

`POST /hooks/{token}` is what a Streampixel project's webhook URL points at; the read API
(`/uploads/...`, `/projects/.../events`) is what the provider polls, behind a bearer token.
Streampixel signs nothing and never retries (shared/streampixel-api.md, "Webhooks"), so the
secret lives in the path, a wrong one looks exactly like an unknown path, and a delivery is
answered as soon as it is stored. Running the app (uvicorn) is server.py's and __main__'s job.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import SecretStr, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from streampixel_pulumi.webhooks.events import (
    NO_EVENTS_MESSAGE,
    Envelope,
    EventRecord,
    ProjectEvent,
    ProjectEvents,
    UploadStatus,
    derive_state,
    to_utc,
)
from streampixel_pulumi.webhooks.store import EventStore

__all__ = ["DEFAULT_MAX_BODY_BYTES", "create_app", "redact_access_log"]

DEFAULT_MAX_BODY_BYTES = 64 * 1024
MAX_LIMIT = 1000

logger = logging.getLogger("streampixel_pulumi.webhooks")

_HOOK_PATH = re.compile(r"/hooks/[^/?\s\"]*")


class _RedactHookPath(logging.Filter):
    """Replace the token in ``/hooks/<token>`` by ``[redacted]`` in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _HOOK_PATH.sub("/hooks/[redacted]", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _HOOK_PATH.sub("/hooks/[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def redact_access_log() -> None:
    """Keep hook tokens out of uvicorn's access log (its lines contain the request path).

    Call after uvicorn configured logging (it does so when its ``Config`` is built).
    """
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(item, _RedactHookPath) for item in access.filters):
        access.addFilter(_RedactHookPath())


def _secret(value: str | SecretStr, name: str) -> bytes:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not text:
        msg = f"{name} must not be empty"
        raise ValueError(msg)
    return text.encode()


def _matches(given: str, expected: bytes) -> bool:
    """Constant-time comparison, on bytes so that non-ASCII input cannot raise."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected)


def _problem(
    status_code: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status_code, headers=headers)


def _describe(error: ValidationError) -> str:
    """Which fields were wrong and why, never echoing the values sent."""
    parts = []
    for item in error.errors(include_input=False, include_url=False)[:10]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


async def _read_body(request: Request, limit: int) -> bytes | JSONResponse:
    """The body, or a 4xx answer when it is larger than `limit` bytes or was cut short."""
    too_large = _problem(413, f"The body is larger than {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            return _problem(400, "Content-Length is not a number")
        if int(declared) > limit:
            return too_large
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return too_large
    except ClientDisconnect:
        return _problem(400, "The body was cut short")
    return bytes(body)


def _record(item: object) -> dict[str, object]:
    return {
        name: getattr(item, name)
        for name in ("event", "upload_id", "status", "objection", "timestamp", "received_at")
    }


def create_app(
    store: EventStore,
    *,
    hook_token: str | SecretStr,
    read_token: str | SecretStr,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """Build the receiver app over `store`.

    Args:
        store: where events are kept (e.g. `SQLiteEventStore`).
        hook_token: the secret path segment of ``POST /hooks/{token}``.
        read_token: the bearer token of the read API.
        max_body_bytes: larger webhook bodies are refused with 413.
    """
    hook_secret = _secret(hook_token, "hook_token")
    read_secret = _secret(read_token, "read_token")
    if max_body_bytes < 1:
        msg = "max_body_bytes must be positive"
        raise ValueError(msg)

    app = FastAPI(
        title="streampixel-webhooks",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in exc.errors()[:10]
        ]
        return _problem(422, "; ".join(parts))

    async def _authorize(request: Request) -> None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not _matches(given.strip(), read_secret):
            raise HTTPException(
                401, "Missing or invalid bearer token", {"WWW-Authenticate": "Bearer"}
            )

    @app.post("/hooks/{token}")
    async def receive(token: str, request: Request) -> JSONResponse:
        if not _matches(token, hook_secret):
            # Exactly what an unknown path answers, so the token cannot be probed.
            raise HTTPException(404, "Not Found")
        body = await _read_body(request, max_body_bytes)
        if isinstance(body, JSONResponse):
            logger.warning("refused a webhook delivery: HTTP %d", body.status_code)
            return body
        try:
            data = json.loads(body)
            # "\ud800" escapes parse to lone surrogates, which no UTF-8 store can hold:
            # refuse them here (UnicodeEncodeError is a ValueError) rather than fail later.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError):
            logger.warning("refused a webhook delivery: the body is not JSON")
            return _problem(400, "The body is not valid JSON")
        if not isinstance(data, dict):
            logger.warning("refused a webhook delivery: the body is not a JSON object")
            return _problem(422, "The body must be a JSON object")
        try:
            envelope = Envelope.model_validate(data)
        except ValidationError as exc:
            problem = _describe(exc)
            logger.warning("refused a webhook delivery: %s", problem)
            return _problem(422, problem)
        try:
            added = await run_in_threadpool(store.add, envelope)
        except sqlite3.Error:
            logger.exception("could not store %s", envelope)
            return _problem(503, "The event could not be stored")
        if added:
            logger.info("stored %s", envelope)
            return JSONResponse({"message": "Stored", "stored": True})
        logger.debug("duplicate delivery of %s", envelope)
        return JSONResponse({"message": "Already stored", "stored": False})

    reader = [Depends(_authorize)]

    @app.get("/uploads/{upload_id}", dependencies=reader)
    def upload(
        upload_id: str,
        project_id: str | None = None,
        since: datetime | None = None,
    ) -> JSONResponse:
        if since is not None:
            try:
                since = to_utc(since)
            except OverflowError:
                return _problem(422, "query.since: out of range once converted to UTC")
        events = store.upload_events(upload_id, project_id=project_id, since=since)
        if not events:
            return _problem(404, NO_EVENTS_MESSAGE)
        derived = derive_state(events)
        status = UploadStatus(
            upload_id=upload_id,
            project_id=events[-1].project_id,
            state=derived.state,
            objection=derived.objection,
            events=[EventRecord.model_validate(_record(item)) for item in events],
        )
        return JSONResponse(status.model_dump(mode="json"))

    @app.get("/projects/{project_id}/events", dependencies=reader)
    def project_events(
        project_id: str,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    ) -> JSONResponse:
        events = store.project_events(project_id, limit=limit)
        answer = ProjectEvents(
            project_id=project_id,
            events=[ProjectEvent.model_validate(_record(item)) for item in events],
        )
        return JSONResponse(answer.model_dump(mode="json"))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
