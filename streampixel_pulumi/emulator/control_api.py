"""The control routes under /_emulator: reset, seed, inspect, settings, faults, logs.

Not part of the real API; tests and scripts drive them through EmulatorControl (control.py).
Bad input answers 400 and unknown ids 404, both as ``{"message": ...}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from .faults import Fault, api_path
from .runtime import Runtime
from .seed import describe_validation_error

__all__ = ["CONTROL_PREFIX", "ControlError", "control_error_response", "control_router"]

CONTROL_PREFIX = "/_emulator"

_AnyBody = Body(default=None)


def control_router(runtime: Runtime) -> APIRouter:
    """The control routes, bound to one emulator runtime."""
    router = APIRouter(prefix=CONTROL_PREFIX)
    state = runtime.state

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {"ok": True}

    @router.post("/reset")
    def reset(payload: Any = _AnyBody) -> dict[str, Any]:
        body = _object(payload)
        # {"seed": {...}} as EmulatorControl sends it; a bare seed document is accepted too.
        seed = body.get("seed") if "seed" in body else (body or None)
        _checked(runtime.reset, seed)
        return {"ok": True}

    @router.post("/seed")
    def seed(payload: Any = _AnyBody) -> dict[str, Any]:
        _checked(state.load, payload if isinstance(payload, dict) else {})
        runtime.kick()
        return {"ok": True}

    @router.get("/state")
    def snapshot() -> dict[str, Any]:
        return state.snapshot()

    @router.get("/projects/{project_id}")
    def project(project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = _checked(state.project, project_id)
        return result

    @router.patch("/projects/{project_id}")
    def update_project(project_id: str, payload: Any = _AnyBody) -> dict[str, Any]:
        result: dict[str, Any] = _checked(state.update_project, project_id, _object(payload))
        return result

    @router.get("/uploads/{upload_id}")
    def upload(upload_id: str) -> dict[str, Any]:
        result: dict[str, Any] = _checked(state.upload, upload_id)
        return result

    @router.patch("/uploads/{upload_id}")
    def update_upload(upload_id: str, payload: Any = _AnyBody) -> dict[str, Any]:
        result: dict[str, Any] = _checked(state.update_upload, upload_id, _object(payload))
        return result

    @router.put("/users/{user_id}/api-key")
    def set_api_key(user_id: str, payload: Any = _AnyBody) -> dict[str, Any]:
        api_key = _object(payload).get("api_key")
        if not isinstance(api_key, str) or not api_key:
            raise ControlError(400, "api_key must be a non-empty string")
        _checked(state.set_api_key, user_id, api_key)
        return {"ok": True}

    @router.get("/requests")
    def requests(path: str | None = None) -> list[dict[str, Any]]:
        return runtime.requests.entries(api_path(path) if path else None)

    @router.delete("/requests")
    def clear_requests() -> dict[str, Any]:
        runtime.requests.clear()
        return {"ok": True}

    @router.get("/settings")
    def settings() -> dict[str, Any]:
        return state.settings.model_dump()

    @router.put("/settings")
    def update_settings(payload: Any = _AnyBody) -> dict[str, Any]:
        updated = _checked(state.update_settings, _object(payload))
        runtime.kick()
        result: dict[str, Any] = updated.model_dump()
        return result

    @router.get("/faults")
    def faults() -> list[dict[str, Any]]:
        return runtime.faults.pending()

    @router.post("/faults")
    def add_fault(payload: Any = _AnyBody) -> dict[str, Any]:
        try:
            fault = Fault.model_validate(_object(payload))
        except ValidationError as exc:
            raise ControlError(400, describe_validation_error(exc)) from None
        runtime.faults.add(fault)
        return {"ok": True}

    @router.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        runtime.faults.clear()
        return {"ok": True}

    @router.get("/webhooks")
    def webhook_deliveries() -> list[dict[str, Any]]:
        return runtime.webhooks.deliveries()

    @router.get("/events")
    def events() -> list[dict[str, Any]]:
        return state.events()

    return router


class ControlError(Exception):
    """A control request failed: `status` and a message (no secrets)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def control_error_response(_request: Request, exc: Exception) -> JSONResponse:
    """Render a control-route error as ``{"message": ...}``."""
    assert isinstance(exc, ControlError)  # noqa: S101 - registered for this type only
    return JSONResponse({"message": exc.message}, status_code=exc.status)


def _object(payload: Any) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise ControlError(400, "body must be a JSON object")
    return payload


def _checked(function: Any, *args: Any) -> Any:
    """Call a state method, turning KeyError into 404 and ValueError into 400."""
    try:
        return function(*args)
    except KeyError as exc:
        raise ControlError(404, str(exc.args[0]) if exc.args else "not found") from None
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
