"""The emulated API over real HTTP: every endpoint, documented error, and malformed input."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from fastapi.exceptions import RequestValidationError

from streampixel_pulumi.emulator.app import _validation_failure
from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
)
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.fixtures_emulator import demo_body, demo_query

OTHER_USER = "5f0c1d2e3f4a5b6c7d8e9f99"
OTHER_KEY = "sp_other_fake_key"
OTHER_PROJECT = "6600000000000000000000aa"
OTHER_UPLOAD = "6610000000000000000000aa"
PROCESSING_UPLOAD = "665a0b1c2d3e4f5a6b7c8d03"


@pytest.fixture
def world(emulator: EmulatorServer) -> EmulatorServer:
    """The demo account plus another user's project and a demo upload still processing."""
    emulator.control.update_settings(rate_limit_window=0, stage_seconds=60)
    emulator.control.seed(
        {
            "users": [{"user_id": OTHER_USER, "api_key": OTHER_KEY}],
            "projects": [{"project_id": OTHER_PROJECT, "user_id": OTHER_USER}],
            "uploads": [
                {"upload_id": OTHER_UPLOAD, "project_id": OTHER_PROJECT},
                {
                    "upload_id": PROCESSING_UPLOAD,
                    "project_id": DEMO_PROJECT_ID,
                    "status": "Downloading Files",
                },
            ],
        }
    )
    return emulator


def test_distribute_file_answers_full_success_body(emulator_api: httpx.Client) -> None:
    """distribute-file answers 200 with success, uploadId, the project's region and message."""
    response = emulator_api.post("/projects/distribute-file", json=demo_body())
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "uploadId": DEMO_UPLOAD_IDS[0],
        "region": "europe",
        "message": "File distribution triggered successfully",
    }


def test_distribute_file_short_success_shape(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """success_shape=short answers {"message": "Distribution triggered"}."""
    emulator.control.update_settings(success_shape="short")
    response = emulator_api.post("/projects/distribute-file", json=demo_body())
    assert response.json() == {"message": "Distribution triggered"}


def test_distribute_file_records_history_and_goes_live(
    emulator: EmulatorServer, emulator_api: httpx.Client
) -> None:
    """The call is in the history at once and the build becomes the live one shortly after."""
    emulator_api.post("/projects/distribute-file", json=demo_body())
    project = emulator.control.project(DEMO_PROJECT_ID)
    assert [h["upload_id"] for h in project["history"]] == [DEMO_UPLOAD_IDS[0]]
    project = emulator.control.wait_for_live(DEMO_PROJECT_ID, DEMO_UPLOAD_IDS[0])
    assert project["distributing_upload_id"] is None


def test_upload_file_queues_build(emulator: EmulatorServer, emulator_api: httpx.Client) -> None:
    """upload-file answers the documented body and the new upload starts pending."""
    emulator.control.update_settings(stage_seconds=60)
    response = emulator_api.post(
        "/projects/upload-file",
        json={
            "apiKey": DEMO_API_KEY,
            "userId": DEMO_USER_ID,
            "projectId": DEMO_PROJECT_ID,
            "fileUrl": "https://builds.example.invalid/new.zip",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Build queued for processing"
    upload = emulator.control.upload(body["uploadId"])
    assert len(body["uploadId"]) == 24
    assert (upload["status"], upload["auto_release"], upload["has_url"]) == ("pending", True, False)


def test_upload_file_rejects_non_boolean_auto_release(emulator_api: httpx.Client) -> None:
    """autoRelease must be a boolean; a string is a 400 naming the field."""
    response = emulator_api.post(
        "/projects/upload-file",
        json={
            "apiKey": DEMO_API_KEY,
            "userId": DEMO_USER_ID,
            "projectId": DEMO_PROJECT_ID,
            "fileUrl": "https://b.invalid/x.zip",
            "autoRelease": "false",
        },
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid field type: autoRelease must be a boolean"}


def test_test_webhook_without_url_is_404(emulator_api: httpx.Client) -> None:
    """test-webhook answers 404 No webhook URL configured when the project has none."""
    body = demo_body()
    del body["uploadId"]
    response = emulator_api.post("/projects/test-webhook", json=body)
    assert (response.status_code, response.json()) == (
        404,
        {"message": "No webhook URL configured"},
    )


def test_projects_status_lists_projects(emulator_api: httpx.Client) -> None:
    """projects-status answers totalProjects and the documented project fields."""
    response = emulator_api.get("/projects/projects-status", params=demo_query())
    assert response.status_code == 200
    assert response.json() == {
        "totalProjects": 1,
        "projects": [
            {"_id": DEMO_PROJECT_ID, "name": "Demo", "status": True, "subscriptionStatus": "active"}
        ],
    }


def test_user_stats_answers_counts(emulator: EmulatorServer, emulator_api: httpx.Client) -> None:
    """userStats answers liveUser and queueUser."""
    emulator.control.update_project(DEMO_PROJECT_ID, live_users=2, queue_users=5)
    response = emulator_api.get(f"/projects/userStats/{DEMO_PROJECT_ID}", params=demo_query())
    assert response.json() == {"liveUser": 2, "queueUser": 5}


@pytest.mark.parametrize(
    ("query", "project_id", "status", "message"),
    [
        (
            {"userId": DEMO_USER_ID},
            DEMO_PROJECT_ID,
            400,
            "projectId, userId and apikey are required",
        ),
        (
            {"userId": DEMO_USER_ID, "apiKey": DEMO_API_KEY},
            DEMO_PROJECT_ID,
            400,
            "projectId, userId and apikey are required",
        ),
        (demo_query(userId="nobody"), DEMO_PROJECT_ID, 401, "Invalid User"),
        (demo_query(apikey="wrong"), DEMO_PROJECT_ID, 401, "Unauthorized: Invalid API Key"),
        (demo_query(), "ffffffffffffffffffffffff", 404, "Project not found"),
        (demo_query(), OTHER_PROJECT, 403, "Access denied"),
    ],
    ids=["missing-key", "camel-case-key", "user", "key", "project", "access"],
)
def test_user_stats_errors(
    world: EmulatorServer, query: dict[str, str], project_id: str, status: int, message: str
) -> None:
    """userStats answers its documented errors as {"message": ...} only."""
    response = httpx.get(f"{world.base_url}/projects/userStats/{project_id}", params=query)
    assert (response.status_code, response.json()) == (status, {"message": message})


def test_projects_status_requires_credentials(emulator_api: httpx.Client) -> None:
    """projects-status without apikey is a 400 with a message."""
    response = emulator_api.get("/projects/projects-status", params={"userId": DEMO_USER_ID})
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


DISTRIBUTE_ERRORS: list[tuple[dict[str, Any], int, str]] = [
    ({"apiKey": None}, 400, "Missing required field: apiKey"),
    ({"userId": ""}, 400, "Missing required field: userId"),
    ({"projectId": None}, 400, "Missing required field: projectId"),
    ({"uploadId": None}, 400, "Missing required field: uploadId"),
    ({"userId": "000000000000000000000000"}, 401, "Invalid User"),
    ({"apiKey": "sp_wrong"}, 401, "Unauthorized: Invalid API Key"),
    ({"apiKey": OTHER_KEY}, 401, "Unauthorized: Invalid API Key"),
    ({"projectId": "ffffffffffffffffffffffff"}, 404, "Project not found"),
    ({"projectId": OTHER_PROJECT, "uploadId": OTHER_UPLOAD}, 403, "Access denied"),
    ({"uploadId": OTHER_UPLOAD}, 404, "File not found in project"),
    ({"uploadId": "ffffffffffffffffffffffff"}, 404, "File not found in project"),
    ({"uploadId": PROCESSING_UPLOAD}, 400, "File has no URL"),
]


@pytest.mark.parametrize(
    ("override", "status", "message"),
    DISTRIBUTE_ERRORS,
    ids=[
        "no-api-key",
        "empty-user-id",
        "no-project-id",
        "no-upload-id",
        "invalid-user",
        "invalid-key",
        "other-users-key",
        "project-not-found",
        "not-owner",
        "upload-of-other-project",
        "unknown-upload",
        "still-processing",
    ],
)
def test_distribute_file_documented_errors(
    world: EmulatorServer, override: dict[str, Any], status: int, message: str
) -> None:
    """distribute-file answers each documented error with its status and message only."""
    body = {k: v for k, v in (demo_body() | override).items() if v is not None}
    response = httpx.post(f"{world.base_url}/projects/distribute-file", json=body)
    assert (response.status_code, response.json()) == (status, {"message": message})


def test_disabled_project_is_access_denied(world: EmulatorServer) -> None:
    """A project disabled by an admin answers 403 Access denied."""
    world.control.update_project(DEMO_PROJECT_ID, enabled=False)
    response = httpx.post(f"{world.base_url}/projects/distribute-file", json=demo_body())
    assert (response.status_code, response.json()) == (403, {"message": "Access denied"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"userId": "nobody", "projectId": "x", "uploadId": "y"}, "Missing required field: apiKey"),
        (
            {"apiKey": "wrong", "userId": "nobody", "projectId": "x", "uploadId": "y"},
            "Invalid User",
        ),
        (demo_body(apiKey="wrong", projectId="x"), "Unauthorized: Invalid API Key"),
        (demo_body(projectId="x", uploadId="y"), "Project not found"),
        (demo_body(projectId=OTHER_PROJECT, uploadId="y"), "Access denied"),
        (demo_body(uploadId="y"), "File not found in project"),
    ],
    ids=[
        "fields-before-user",
        "user-before-key",
        "key-before-project",
        "project-before-access",
        "access-before-file",
        "file",
    ],
)
def test_distribute_file_validation_order(
    world: EmulatorServer, body: dict[str, Any], message: str
) -> None:
    """With several problems at once, the first in the documented order is reported."""
    response = httpx.post(f"{world.base_url}/projects/distribute-file", json=body)
    assert response.json() == {"message": message}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/projects/upload-file",
            {"apiKey": DEMO_API_KEY, "userId": DEMO_USER_ID, "projectId": DEMO_PROJECT_ID},
        ),
        ("/projects/test-webhook", {"apiKey": DEMO_API_KEY, "userId": DEMO_USER_ID}),
    ],
    ids=["upload-file-file-url", "test-webhook-project-id"],
)
def test_other_endpoints_report_missing_fields(
    emulator_api: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    """upload-file and test-webhook name their missing field too."""
    response = emulator_api.post(path, json=body)
    missing = "fileUrl" if "upload" in path else "projectId"
    assert (response.status_code, response.json()) == (
        400,
        {"message": f"Missing required field: {missing}"},
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "Invalid JSON body"),
        (b'["apiKey", "userId"]', "Request body must be a JSON object"),
        (b'"just a string"', "Request body must be a JSON object"),
        (b"\xff\xfe\x00garbage", "Invalid JSON body"),
        (b"", "Missing required field: apiKey"),
        (
            b'{"apiKey": "k", "userId": "u", "projectId": 664, "uploadId": "x"}',
            "Invalid field type: projectId must be a string",
        ),
        (
            b'{"apiKey": "k", "userId": "u", "projectId": "p", "uploadId": {"$ne": null}}',
            "Invalid field type: uploadId must be a string",
        ),
    ],
    ids=[
        "invalid-json",
        "array",
        "string",
        "binary",
        "empty",
        "number-project-id",
        "object-upload-id",
    ],
)
def test_malformed_body_is_400_with_message(
    emulator_api: httpx.Client, content: bytes, message: str
) -> None:
    """Malformed bodies answer 400 {"message": ...}, never a 5xx or a traceback."""
    response = emulator_api.post(
        "/projects/distribute-file", content=content, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()) == (400, {"message": message})


def test_oversized_body_is_413(emulator: EmulatorServer, emulator_api: httpx.Client) -> None:
    """A body over max_body_bytes answers 413 with a message and is still logged."""
    emulator.control.update_settings(max_body_bytes=1024)
    response = emulator_api.post("/projects/distribute-file", json=demo_body(pad="x" * 4096))
    assert (response.status_code, response.json()) == (413, {"message": "Request body too large"})
    assert emulator.control.distribute_calls() == 1


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/projects/distribute-file", 405),
        ("POST", "/projects/no-such-endpoint", 404),
        ("GET", "/projects/userStats/", 404),
        ("PUT", "/projects/upload-file", 405),
    ],
    ids=["wrong-method", "unknown-path", "no-project-id", "put"],
)
def test_unknown_routes_answer_message_body(
    emulator_api: httpx.Client, method: str, path: str, status: int
) -> None:
    """Unknown paths and methods answer 4xx with a {"message": ...} body."""
    response = emulator_api.request(method, path)
    assert response.status_code == status
    assert set(response.json()) == {"message"}


def test_api_key_absent_from_request_log_and_emulator_logs(
    emulator: EmulatorServer, emulator_api: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """The API key never appears in the request log or in the emulator's log lines."""
    caplog.set_level(logging.DEBUG)
    emulator_api.post("/projects/distribute-file", json=demo_body())
    emulator_api.post(
        "/projects/distribute-file", content=b'{"apiKey": "%s", ' % DEMO_API_KEY.encode()
    )
    emulator_api.get("/projects/projects-status", params=demo_query())
    entries = emulator.control.requests()
    assert len(entries) == 3
    assert DEMO_API_KEY not in repr(entries)
    assert entries[0]["body"]["apiKey"] == "***"
    assert entries[2]["query"]["apikey"] == "***"
    server_lines = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("streampixel_pulumi", "uvicorn"))
    ]
    assert "POST /projects/distribute-file -> 200" in server_lines
    assert not [line for line in server_lines if DEMO_API_KEY in line]


def test_request_log_filters_by_path(emulator: EmulatorServer, emulator_api: httpx.Client) -> None:
    """requests(path) keeps only that path, given with or without the API prefix."""
    emulator_api.post("/projects/distribute-file", json=demo_body())
    emulator_api.get("/projects/projects-status", params=demo_query())
    control = emulator.control
    assert [e["path"] for e in control.requests("/pixelStripeApi/projects/projects-status")] == [
        "/projects/projects-status"
    ]
    entry = control.requests("/projects/distribute-file")[0]
    assert (entry["method"], entry["status"], entry["fault"]) == ("POST", 200, None)
    assert (entry["project_id"], entry["upload_id"]) == (DEMO_PROJECT_ID, DEMO_UPLOAD_IDS[0])
    assert control.distribute_calls(DEMO_PROJECT_ID) == 1
    assert control.distribute_calls("ffffffffffffffffffffffff") == 0
    control.clear_requests()
    assert control.requests() == []


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            {"type": "missing", "loc": ("body", "projectId"), "msg": "Field required"},
            "Missing required field: projectId",
        ),
        (
            {
                "type": "string_type",
                "loc": ("body", "uploadId"),
                "msg": "Input should be a valid string",
            },
            "Invalid field uploadId: Input should be a valid string",
        ),
        (
            {"type": "json_invalid", "loc": ("body", 3), "msg": "JSON decode error"},
            "Invalid JSON body",
        ),
    ],
    ids=["missing", "wrong-type", "invalid-json"],
)
def test_validation_errors_become_400_messages(error: dict[str, Any], message: str) -> None:
    """FastAPI's 422 validation body is replaced by 400 {"message": ...} naming the field."""
    response = _validation_failure(None, RequestValidationError([error]))  # type: ignore[arg-type]
    assert response.status_code == 400
    assert json.loads(bytes(response.body)) == {"message": message}
