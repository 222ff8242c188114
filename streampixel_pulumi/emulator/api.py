"""The emulated Streampixel API routes under /pixelStripeApi (shared/streampixel-api.md).

Bodies are parsed by hand rather than by pydantic models so the checks run in the documented
order and with the documented messages: required fields first (``Missing required field:
<name>``, where an empty string counts as missing, as in the JavaScript original), then the
field types, then what EmulatorState checks (user, key, rate limit, project, access, file).
Every error answer is ``{"message": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .faults import API_PREFIX
from .records import ApiFailure
from .runtime import Runtime

__all__ = ["api_router"]


def api_router(runtime: Runtime) -> APIRouter:
    """The API routes, bound to one emulator runtime."""
    router = APIRouter(prefix=API_PREFIX)
    state = runtime.state

    @router.post("/projects/distribute-file")
    async def distribute_file(request: Request) -> JSONResponse:
        fields = _fields(await _json_object(request), "apiKey", "userId", "projectId", "uploadId")
        body = state.distribute_file(
            fields["userId"], fields["apiKey"], fields["projectId"], fields["uploadId"]
        )
        return JSONResponse(body)

    @router.post("/projects/upload-file")
    async def upload_file(request: Request) -> JSONResponse:
        data = await _json_object(request)
        fields = _fields(data, "apiKey", "userId", "projectId", "fileUrl")
        auto_release = data.get("autoRelease", True)
        if auto_release is None:
            auto_release = True
        if not isinstance(auto_release, bool):
            raise ApiFailure(400, "Invalid field type: autoRelease must be a boolean")
        body = state.upload_file(
            fields["userId"], fields["apiKey"], fields["projectId"], fields["fileUrl"], auto_release
        )
        return JSONResponse(body)

    @router.post("/projects/test-webhook")
    async def test_webhook(request: Request) -> JSONResponse:
        fields = _fields(await _json_object(request), "apiKey", "userId", "projectId")
        outgoing = state.webhook_test(fields["userId"], fields["apiKey"], fields["projectId"])
        delivery = await run_in_threadpool(runtime.webhooks.deliver, outgoing)
        code = delivery["status_code"]
        if code is None:
            message = f"Webhook endpoint unreachable ({delivery['error']})"
        elif 200 <= code < 300:
            message = "Test webhook sent successfully"
        else:
            message = f"Webhook endpoint returned HTTP {code}"
        success = code is not None and 200 <= code < 300
        return JSONResponse({"success": success, "message": message, "statusCode": code or 0})

    @router.get("/projects/projects-status")
    async def projects_status(request: Request) -> JSONResponse:
        user_id, api_key = _query_auth(request, "userId and apikey are required")
        return JSONResponse(state.projects_status(user_id, api_key))

    @router.get("/projects/userStats/{project_id}")
    async def user_stats(project_id: str, request: Request) -> JSONResponse:
        user_id, api_key = _query_auth(request, "projectId, userId and apikey are required")
        return JSONResponse(state.user_stats(user_id, api_key, project_id))

    return router


async def _json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body counts as ``{}`` (as Express parses it)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # nesting past the parser's recursion is not JSON
        raise ApiFailure(400, "Invalid JSON body") from None
    if not isinstance(data, dict):
        raise ApiFailure(400, "Request body must be a JSON object")
    return data


def _fields(data: dict[str, Any], *names: str) -> dict[str, str]:
    """Required string fields, checked for presence first, then for type, in order."""
    for name in names:
        if data.get(name) is None or data.get(name) == "":
            raise ApiFailure(400, f"Missing required field: {name}")
    for name in names:
        if not isinstance(data[name], str):
            raise ApiFailure(400, f"Invalid field type: {name} must be a string")
    return {name: data[name] for name in names}


def _query_auth(request: Request, missing_message: str) -> tuple[str, str]:
    """``userId`` and ``apikey`` (lower-case k, as documented) from the query string."""
    user_id = request.query_params.get("userId")
    api_key = request.query_params.get("apikey")
    if not user_id or not api_key:
        raise ApiFailure(400, missing_message)
    return user_id, api_key
