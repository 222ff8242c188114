"""EmulatorServer: the emulator on a real socket in a background thread, as a context manager.

    with EmulatorServer(settings=EmulatorSettings(stage_seconds=0.05), port=0) as emu:
        emu.base_url   # give this to the client / streampixel:apiUrl
        emu.control    # EmulatorControl over HTTP

Runs uvicorn through serving.ServerThread; the pipeline and webhook threads live as long as
the server does.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from ..serving import ServerThread
from .app import create_app
from .control import EmulatorControl
from .faults import API_PREFIX
from .runtime import Runtime
from .settings import EmulatorSettings

__all__ = ["EmulatorServer", "EmulatorSettings"]


class EmulatorServer:
    """A running emulator.

    Args:
        settings: behaviour switches and timings (default: the documented API's).
        seed: users, projects and uploads (default: the demo account, see demo.py).
        host: interface to bind, 127.0.0.1 unless you mean to expose it.
        port: TCP port; 0 picks a free one (read it back from `url`).
    """

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        seed: dict[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.runtime = Runtime(settings, seed)
        self._thread = ServerThread(create_app(self.runtime), host=host, port=port)
        self._control: EmulatorControl | None = None

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:43123``."""
        return self._thread.url

    @property
    def base_url(self) -> str:
        """The API base URL the client takes, e.g. ``http://127.0.0.1:43123/pixelStripeApi``."""
        return f"{self.url}{API_PREFIX}"

    @property
    def control(self) -> EmulatorControl:
        """An EmulatorControl bound to this server (available while it runs)."""
        if self._control is None:
            msg = "the emulator is not running; use start() or a with block"
            raise RuntimeError(msg)
        return self._control

    def start(self) -> EmulatorServer:
        """Start serving; returns once the socket accepts connections."""
        self._thread.start()
        self._control = EmulatorControl(self.url)
        return self

    def stop(self) -> None:
        """Stop serving (delayed answers in flight end at once)."""
        if self._control is not None:
            self._control.close()
            self._control = None
        self.runtime.cancel_delays()
        self._thread.stop()
        self.runtime.stop()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatorServer({self.url!r})"
