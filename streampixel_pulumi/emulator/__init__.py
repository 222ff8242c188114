"""A local Streampixel API emulator for tests, demos and dry runs (FastAPI + uvicorn).

Start it with ``streampixel-emulator`` (or ``python -m streampixel_pulumi.emulator``), or in
Python with ``streampixel_pulumi.emulator.server.EmulatorServer``. Importing this package is
cheap: the server framework is only imported by the modules that need it (app, server).
"""

from __future__ import annotations

from .control import EmulatorControl, EmulatorControlError
from .demo import DEMO_API_KEY, DEMO_PROJECT_ID, DEMO_SEED, DEMO_UPLOAD_IDS, DEMO_USER_ID
from .settings import EmulatorSettings

__all__ = [
    "DEMO_API_KEY",
    "DEMO_PROJECT_ID",
    "DEMO_SEED",
    "DEMO_UPLOAD_IDS",
    "DEMO_USER_ID",
    "EmulatorControl",
    "EmulatorControlError",
    "EmulatorSettings",
]
