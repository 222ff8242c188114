"""The ASGI layer in front of the API routes: body limit, request log, faults.

Every request below /pixelStripeApi is logged here before anything else happens, so faulted
and malformed requests are counted too. The real answer is captured whole and then sent,
replaced by a fault, delayed, or cut off mid-body ("drop": the client sees the headers and a
Content-Length, then the connection closes). Server-framework code stays in this package.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import API_PREFIX, Fault, api_path, default_error_body
from .runtime import Runtime

__all__ = ["EmulatorMiddleware", "install_log_filters"]

_log = logging.getLogger("streampixel_pulumi.emulator")
_DRAIN_LIMIT = 16 * 1024 * 1024
_DELAY_STEP = 0.05

# Set while a request's connection is being dropped on purpose, so uvicorn's complaint about
# the incomplete answer ("ASGI callable returned without completing response.") is not logged.
_dropping: contextvars.ContextVar[bool] = contextvars.ContextVar("dropping", default=False)


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_dropping.get() and "without completing response" in record.getMessage())


class _AccessLogRedactor(logging.Filter):
    """Hide the query string in uvicorn access lines: GET requests carry ``apikey`` there."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            if query:
                record.args = (*args[:2], f"{path}?***", *args[3:])
        return True


def install_log_filters() -> None:
    """Attach the filters to uvicorn's loggers once (idempotent)."""
    for name, cls in (("uvicorn.error", _DropFilter), ("uvicorn.access", _AccessLogRedactor)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, cls) for f in logger.filters):
            logger.addFilter(cls())


@dataclass
class _Answer:
    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> _Answer:
        answer = cls(status, body=json.dumps(payload).encode())
        answer.set_header("content-type", "application/json")
        for name, value in (headers or {}).items():
            answer.set_header(name, value)
        return answer

    def set_header(self, name: str, value: str) -> None:
        key = name.lower().encode("latin-1")
        self.headers = [(k, v) for k, v in self.headers if k.lower() != key]
        self.headers.append((key, value.encode("latin-1")))

    def complete_headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(k, v) for k, v in self.headers if k.lower() != b"content-length"]
        return [*headers, (b"content-length", str(len(self.body)).encode())]


class EmulatorMiddleware:
    """Wraps the FastAPI app; only API requests are touched, control routes pass through."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI call."""
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        runtime = self.runtime
        method = scope["method"]
        path = api_path(scope["path"])
        body, too_large = await _read_body(scope, receive, runtime.settings.max_body_bytes)
        fault = runtime.faults.take(method, path)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        entry = runtime.requests.record(
            method, path, query, _loggable(body, too_large), fault.summary() if fault else None
        )
        if fault is not None and not fault.process:
            answer = _fault_answer(fault, None)
        elif too_large:
            answer = _Answer.json(413, {"message": "Request body too large"})
        else:
            answer = await self._call_app(scope, receive, body)
        if fault is not None:
            if fault.process:
                answer = _fault_answer(fault, answer)
            await self._delay(fault.delay)
        dropped = fault is not None and fault.drop
        runtime.requests.finish(entry, answer.status, dropped=dropped)
        runtime.kick()
        _log.info("%s %s -> %s%s", method, path, answer.status, " (dropped)" if dropped else "")
        if dropped:
            await _send_partial(send, answer)
            _dropping.set(True)
            return
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": answer.complete_headers(),
            }
        )
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})

    async def _call_app(self, scope: Scope, receive: Receive, body: bytes) -> _Answer:
        """Run the real route with the body already read; capture its whole answer."""
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        answer = _Answer(500)
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = int(message["status"])
                answer.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        try:
            await self.app(scope, replay, capture)
        except Exception:
            _log.exception("emulator route failed")
            return _Answer.json(500, {"message": "Internal server error"})
        answer.body = b"".join(chunks)
        return answer

    async def _delay(self, seconds: float) -> None:
        """Wait `seconds`, ending early if the emulator is reset or stopped."""
        generation = self.runtime.generation
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            if self.runtime.generation != generation:
                return
            await asyncio.sleep(min(_DELAY_STEP, left))


async def _read_body(scope: Scope, receive: Receive, limit: int) -> tuple[bytes, bool]:
    """Read the request body; past `limit` keep draining but report it as too large."""
    declared = dict(scope.get("headers", [])).get(b"content-length")
    too_large = declared is not None and declared.isdigit() and int(declared) > limit
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            too_large = True
        if not too_large:
            parts.append(chunk)
        if not message.get("more_body", False) or size > _DRAIN_LIMIT:
            break
    return (b"" if too_large else b"".join(parts)), too_large


def _loggable(body: bytes, too_large: bool) -> Any:
    """The body as the request log keeps it: parsed JSON, else a note (never raw text)."""
    if too_large:
        return {"unparsed": "body too large"}
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # nesting past the parser's recursion is not JSON
        return {"unparsed": f"{len(body)} bytes, not JSON"}


def _fault_answer(fault: Fault, real: _Answer | None) -> _Answer:
    """The answer a fault sends, built on the real one when the request was processed."""
    if fault.replaces_answer() or real is None:
        status = fault.status if fault.status is not None else 500
        if fault.raw_body is not None:
            answer = _Answer(status, body=fault.raw_body.encode())
            answer.set_header("content-type", fault.content_type or "application/json")
        else:
            payload = fault.body if fault.body is not None else default_error_body(status)
            answer = _Answer.json(status, payload)
    else:
        answer = _Answer(real.status, list(real.headers), real.body)
    if fault.content_type is not None:
        answer.set_header("content-type", fault.content_type)
    for name, value in (fault.headers or {}).items():
        answer.set_header(name, value)
    return answer


async def _send_partial(send: Send, answer: _Answer) -> None:
    """Start the answer with its full Content-Length, send half the body, then stop."""
    declared = max(len(answer.body), 2)
    headers = [(k, v) for k, v in answer.headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(declared).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send(
        {"type": "http.response.body", "body": answer.body[: declared // 2], "more_body": True}
    )
