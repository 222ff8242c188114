"""The demo account the emulator serves when it is started without a seed.

Every value is fake: the key is visibly not a real Streampixel key, the URLs use the
reserved ``.invalid`` domain.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = [
    "DEMO_API_KEY",
    "DEMO_PROJECT_ID",
    "DEMO_SEED",
    "DEMO_UPLOAD_IDS",
    "DEMO_USER_ID",
    "demo_seed",
]

DEMO_USER_ID = "5f0c1d2e3f4a5b6c7d8e9f01"
DEMO_API_KEY = "sp_demo_not_a_real_key_0123456789"
DEMO_PROJECT_ID = "664f1a2b3c4d5e6f7a8b9c0d"
DEMO_UPLOAD_IDS = ("665a0b1c2d3e4f5a6b7c8d01", "665a0b1c2d3e4f5a6b7c8d02")

DEMO_SEED: dict[str, Any] = {
    "users": [{"user_id": DEMO_USER_ID, "api_key": DEMO_API_KEY}],
    "projects": [
        {
            "project_id": DEMO_PROJECT_ID,
            "user_id": DEMO_USER_ID,
            "name": "Demo",
            "region": "europe",
            "enabled": True,
            "live_upload_id": None,
            "webhook_url": None,
            "webhook_events": None,
        }
    ],
    "uploads": [
        {
            "upload_id": upload_id,
            "project_id": DEMO_PROJECT_ID,
            "status": "Approved",
            "file_url": f"https://builds.example.invalid/demo-build-{number}.zip",
            "auto_release": False,
            "reject_at": None,
            "objection": None,
            "reject_on_distribute": None,
        }
        for number, upload_id in enumerate(DEMO_UPLOAD_IDS, start=1)
    ],
}


def demo_seed() -> dict[str, Any]:
    """Return a fresh copy of DEMO_SEED that the caller may change."""
    return copy.deepcopy(DEMO_SEED)
