"""The `emulator` fixture: one real emulator server per test session, reset around each test.

Short timings keep tests fast: a 1 s rate-limit window and 0.05 s pipeline stages and
distribution. Also `emulator_api` (an httpx client on the API base URL) and small helpers
for the emulator's own tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
)
from streampixel_pulumi.emulator.server import EmulatorServer, EmulatorSettings

FAST_SETTINGS = EmulatorSettings(
    rate_limit_window=1.0,
    stage_seconds=0.05,
    distribute_seconds=0.05,
)


def demo_body(**fields: Any) -> dict[str, Any]:
    """A distribute-file body for the demo account (first demo upload), with overrides."""
    body: dict[str, Any] = {
        "apiKey": DEMO_API_KEY,
        "userId": DEMO_USER_ID,
        "projectId": DEMO_PROJECT_ID,
        "uploadId": DEMO_UPLOAD_IDS[0],
    }
    body.update(fields)
    return body


def demo_query(**fields: Any) -> dict[str, Any]:
    """Query parameters authenticating the demo account on GET endpoints."""
    return {"userId": DEMO_USER_ID, "apikey": DEMO_API_KEY, **fields}


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[EmulatorServer]:
    """Start the session's emulator on 127.0.0.1, port 0, and stop it at the end."""
    with EmulatorServer(settings=FAST_SETTINGS, port=0) as server:
        yield server


@pytest.fixture
def emulator(_emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """A running emulator with the demo account and the fast settings, freshly reset."""
    _emulator_server.control.reset()
    yield _emulator_server
    _emulator_server.control.reset()


@pytest.fixture
def emulator_api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """An httpx client whose base URL is the emulator's API (…/pixelStripeApi)."""
    with httpx.Client(base_url=emulator.base_url, timeout=10.0) as client:
        yield client
