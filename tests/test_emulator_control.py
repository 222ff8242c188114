"""The control API and handles: EmulatorControl, EmulatorServer, import boundaries."""

from __future__ import annotations

import importlib
import subprocess
import sys

import httpx
import pytest

import streampixel_pulumi.emulator
from streampixel_pulumi.emulator.control import EmulatorControl, EmulatorControlError
from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_SEED,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
    demo_seed,
)
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.fixtures_emulator import demo_body

EMULATOR_MODULES = [
    "streampixel_pulumi.emulator",
    "streampixel_pulumi.emulator.app",
    "streampixel_pulumi.emulator.api",
    "streampixel_pulumi.emulator.control",
    "streampixel_pulumi.emulator.control_api",
    "streampixel_pulumi.emulator.demo",
    "streampixel_pulumi.emulator.faults",
    "streampixel_pulumi.emulator.middleware",
    "streampixel_pulumi.emulator.ratelimit",
    "streampixel_pulumi.emulator.records",
    "streampixel_pulumi.emulator.runtime",
    "streampixel_pulumi.emulator.seed",
    "streampixel_pulumi.emulator.server",
    "streampixel_pulumi.emulator.settings",
    "streampixel_pulumi.emulator.state",
    "streampixel_pulumi.emulator.webhooks",
    "streampixel_pulumi.emulator.__main__",
]


@pytest.mark.parametrize("module_name", EMULATOR_MODULES)
def test_module_exports_exist(module_name: str) -> None:
    """Every name in a module's __all__ exists, listed once."""
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name)


def test_control_and_package_import_no_server_framework() -> None:
    """Importing the package and EmulatorControl loads neither FastAPI, Starlette nor uvicorn."""
    code = (
        "import sys, streampixel_pulumi.emulator, streampixel_pulumi.emulator.control;"
        "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_demo_account_looks_like_streampixel_ids() -> None:
    """Demo ids are 24-hex, the key is visibly fake, and demo_seed() is a private copy."""
    for value in (DEMO_USER_ID, DEMO_PROJECT_ID, *DEMO_UPLOAD_IDS):
        assert len(value) == 24
        int(value, 16)
    assert DEMO_API_KEY.startswith("sp_demo_")
    copy = demo_seed()
    copy["users"].clear()
    assert DEMO_SEED["users"]
    assert streampixel_pulumi.emulator.DEMO_PROJECT_ID == "664f1a2b3c4d5e6f7a8b9c0d"


def test_demo_project_has_two_ready_uploads(emulator: EmulatorServer) -> None:
    """The demo project is in europe with two Approved, stored uploads and nothing live."""
    project = emulator.control.project(DEMO_PROJECT_ID)
    assert (project["region"], project["enabled"], project["live_upload_id"]) == (
        "europe",
        True,
        None,
    )
    for upload_id in DEMO_UPLOAD_IDS:
        upload = emulator.control.upload(upload_id)
        assert (upload["status"], upload["has_url"]) == ("Approved", True)


def test_server_urls(emulator: EmulatorServer) -> None:
    """url is the root and base_url the API base under /pixelStripeApi."""
    assert emulator.url.startswith("http://127.0.0.1:")
    assert emulator.base_url == f"{emulator.url}/pixelStripeApi"
    assert repr(emulator) == f"EmulatorServer({emulator.url!r})"


def test_control_unavailable_before_start() -> None:
    """EmulatorServer.control raises RuntimeError when the server is not running."""
    server = EmulatorServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.control


def test_settings_round_trip_and_validation(emulator: EmulatorServer) -> None:
    """update_settings returns every setting; bad names or values are a 400 error."""
    control = emulator.control
    updated = control.update_settings(stage_seconds=0.2, success_shape="short")
    assert (updated["stage_seconds"], updated["success_shape"]) == (0.2, "short")
    assert control.settings() == updated
    with pytest.raises(EmulatorControlError) as caught:
        control.update_settings(success_shape="tiny")
    assert caught.value.status_code == 400
    assert "success_shape" in caught.value.message
    with pytest.raises(EmulatorControlError):
        control.update_settings(not_a_setting=True)


def test_unknown_ids_are_404(emulator: EmulatorServer) -> None:
    """Inspecting an unknown project or upload raises EmulatorControlError 404."""
    with pytest.raises(EmulatorControlError) as caught:
        emulator.control.project("nope")
    assert caught.value.status_code == 404
    with pytest.raises(EmulatorControlError):
        emulator.control.upload("nope")


def test_seed_adds_to_world(emulator: EmulatorServer) -> None:
    """seed() adds a project while keeping the demo one."""
    emulator.control.seed({"projects": [{"project_id": "p2", "user_id": DEMO_USER_ID}]})
    ids = {p["project_id"] for p in emulator.control.state()["projects"]}
    assert ids == {DEMO_PROJECT_ID, "p2"}


def test_invalid_reset_seed_keeps_world(emulator: EmulatorServer) -> None:
    """reset() with a broken seed is a 400 and the current world stays."""
    with pytest.raises(EmulatorControlError) as caught:
        emulator.control.reset({"projects": [{"project_id": "p", "user_id": "ghost"}]})
    assert caught.value.status_code == 400
    assert emulator.control.project(DEMO_PROJECT_ID)["region"] == "europe"


def test_state_shows_no_api_keys(emulator: EmulatorServer, emulator_api: httpx.Client) -> None:
    """The state dump lists users and rate-limit slots but never an API key."""
    emulator_api.post("/projects/distribute-file", json=demo_body())
    state = emulator.control.state()
    assert state["users"] == [{"user_id": DEMO_USER_ID}]
    assert state["rate_limits"][0]["endpoint"] == "distribute-file"
    assert DEMO_API_KEY not in repr(state)


def test_set_api_key_rotates_key(emulator: EmulatorServer, emulator_api: httpx.Client) -> None:
    """After set_api_key the old key is refused with 401 and the new one accepted."""
    emulator.control.set_api_key(DEMO_USER_ID, "sp_rotated_fake")
    old = emulator_api.post("/projects/distribute-file", json=demo_body())
    assert (old.status_code, old.json()) == (401, {"message": "Unauthorized: Invalid API Key"})
    new = emulator_api.post("/projects/distribute-file", json=demo_body(apiKey="sp_rotated_fake"))
    assert new.status_code == 200


def test_control_validation_errors_use_message_body(emulator: EmulatorServer) -> None:
    """Malformed control requests answer 400 {"message": ...} instead of FastAPI's 422."""
    response = httpx.put(
        f"{emulator.url}/_emulator/settings",
        content=b"{broken",
        headers={"Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (400, {"message": "Invalid JSON body"})
    response = httpx.patch(f"{emulator.url}/_emulator/projects/{DEMO_PROJECT_ID}", json=[1])
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


def test_standalone_control_client_as_context_manager(emulator: EmulatorServer) -> None:
    """EmulatorControl(url) works on its own and closes as a context manager."""
    with EmulatorControl(emulator.url + "/") as control:
        assert control.settings()["rate_limit_window"] == 1.0
        assert repr(control) == f"EmulatorControl({emulator.url!r})"


def test_reset_accepts_bare_seed_document(emulator: EmulatorServer) -> None:
    """POST /_emulator/reset with a seed document (not wrapped in "seed") serves that seed."""
    seed = {
        "users": [{"user_id": "u1", "api_key": "k1"}],
        "projects": [{"project_id": "p1", "user_id": "u1"}],
    }
    response = httpx.post(f"{emulator.url}/_emulator/reset", json=seed)
    assert response.status_code == 200
    assert [p["project_id"] for p in emulator.control.state()["projects"]] == ["p1"]
