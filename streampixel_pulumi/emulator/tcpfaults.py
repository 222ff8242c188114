"""A TCP proxy in front of the emulator that breaks connections on purpose.

The emulator's own faults answer at the HTTP level; these happen below it, as a network would
fail: a reset as soon as the connection is accepted (nothing reached the server), a reset after
the whole request was forwarded (it reached the server, the answer is lost), and a black hole
(the request is read, no answer ever comes). Used by the fault-matrix tests and script.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from enum import Enum
from types import TracebackType

__all__ = ["TcpFault", "TcpFaultProxy"]

_HEADER_END = b"\r\n\r\n"
_MAX_HEADER = 64 * 1024


class TcpFault(str, Enum):
    """What the proxy does to the next connections."""

    FORWARD = "forward"
    RESET_ON_ACCEPT = "reset_on_accept"
    RESET_AFTER_REQUEST = "reset_after_request"
    BLACKHOLE = "blackhole"


class TcpFaultProxy:
    """Forward 127.0.0.1:<port> to an upstream port, breaking the next `count` connections."""

    def __init__(self, upstream_port: int, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.upstream_port = upstream_port
        self.port = 0
        self._faults: list[TcpFault] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tcpfaults", daemon=True
        )
        self._server: asyncio.Server | None = None
        # asyncio keeps only weak references to the connection handlers' tasks, and a handler
        # waiting on an upstream read is otherwise unreachable: without these references the
        # garbage collector destroys it mid-wait and its sockets are never closed.
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """Root URL of the proxy, e.g. ``http://127.0.0.1:40111``."""
        return f"http://{self.host}:{self.port}"

    def inject(self, fault: TcpFault, count: int = 1) -> None:
        """Apply `fault` to the next `count` connections, then pass traffic through again."""
        with self._lock:
            self._faults.extend([fault] * count)

    def start(self) -> None:
        """Bind a free port and start proxying."""
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        started.result(timeout=10)

    def stop(self) -> None:
        """Close the listening socket and stop the proxy's loop."""
        if self._server is not None:
            closed = asyncio.run_coroutine_threadsafe(self._close(), self._loop)
            closed.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> TcpFaultProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        assert self._server is not None  # noqa: S101 - only called once started
        self._server.close()
        # Connections still open (a black hole, an answer still awaited upstream) end now, so
        # that no socket outlives the proxy's loop.
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._server.wait_closed()
        await asyncio.sleep(0)  # let the closed transports release their sockets

    def _next_fault(self) -> TcpFault:
        with self._lock:
            return self._faults.pop(0) if self._faults else TcpFault.FORWARD

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        fault = self._next_fault()
        try:
            if fault is TcpFault.RESET_ON_ACCEPT:
                _reset(writer)
                return
            request = await _read_request(reader)
            if fault is TcpFault.BLACKHOLE:
                with contextlib.suppress(ConnectionError):
                    await reader.read()  # hold the connection until the client gives up
                return
            response = await self._forward(request)
            if fault is TcpFault.RESET_AFTER_REQUEST:
                _reset(writer)
                return
            writer.write(response)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def _forward(self, request: bytes) -> bytes:
        """Send one request upstream (asking it to close after) and return its whole answer."""
        reader, writer = await asyncio.open_connection(self.host, self.upstream_port)
        try:
            writer.write(request)
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    """One whole HTTP/1.1 request (headers and Content-Length body), rewritten to close."""
    head = await reader.readuntil(_HEADER_END)
    if len(head) > _MAX_HEADER:
        msg = "request head too large"
        raise ValueError(msg)
    length = 0
    lines = head.split(b"\r\n")
    kept = []
    for line in lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"connection":
            continue
        kept.append(line)
    body = await reader.readexactly(length) if length else b""
    # One request per upstream connection keeps framing trivial: ask the server to close.
    kept.insert(1, b"Connection: close")
    return b"\r\n".join(kept) + body


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST rather than a FIN (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
