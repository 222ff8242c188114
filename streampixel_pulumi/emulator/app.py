"""Assemble the emulator's ASGI app: API routes, control routes, error bodies, middleware.

Every error a client can see is ``{"message": ...}``: API failures, FastAPI's request
validation errors (400 instead of the default 422 body), unknown routes and methods, and
unexpected exceptions (500 "Internal server error", never a traceback). The runtime's threads
start and stop with the app's lifespan.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from .api import api_router
from .control_api import ControlError, control_error_response, control_router
from .middleware import EmulatorMiddleware, install_log_filters
from .records import ApiFailure
from .runtime import Runtime
from .settings import EmulatorSettings

__all__ = ["build_app", "create_app"]


def create_app(runtime: Runtime) -> ASGIApp:
    """The ASGI app serving `runtime` (its threads run while the app's lifespan does)."""
    install_log_filters()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.stop()

    app = FastAPI(
        title="Streampixel emulator",
        lifespan=lifespan,
        docs_url="/_emulator/docs",
        redoc_url=None,
        openapi_url="/_emulator/openapi.json",
    )
    app.include_router(api_router(runtime))
    app.include_router(control_router(runtime))
    app.add_exception_handler(ApiFailure, _api_failure)
    app.add_exception_handler(ControlError, control_error_response)
    app.add_exception_handler(RequestValidationError, _validation_failure)
    app.add_exception_handler(StarletteHTTPException, _http_failure)
    app.add_exception_handler(Exception, _unexpected_failure)
    app.state.runtime = runtime
    return EmulatorMiddleware(app, runtime)


def build_app(
    settings: EmulatorSettings | None = None,
    seed: dict[str, Any] | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> tuple[ASGIApp, Runtime]:
    """A runtime for `settings` and `seed` (None: the demo account) and its app."""
    runtime = Runtime(settings, seed, clock=clock)
    return create_app(runtime), runtime


def _api_failure(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiFailure)  # noqa: S101 - registered for this type only
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)


def _validation_failure(_request: Request, exc: Exception) -> JSONResponse:
    """Replace FastAPI's 422 body: 400 with the API's own style of message."""
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    errors = exc.errors()
    message = "Invalid request"
    if errors:
        first = errors[0]
        name = str(first["loc"][-1]) if first.get("loc") else "body"
        if first.get("type") == "missing":
            message = f"Missing required field: {name}"
        elif first.get("type") == "json_invalid":
            message = "Invalid JSON body"
        else:
            message = f"Invalid field {name}: {first.get('msg', 'invalid value')}"
    return JSONResponse({"message": message}, status_code=400)


def _http_failure(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type only
    return JSONResponse(
        {"message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
    )


def _unexpected_failure(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse({"message": "Internal server error"}, status_code=500)
