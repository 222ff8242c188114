"""Fixtures of the end-to-end tests: stacks of the test programs wired to the emulator.

Every stack gets the emulator's URL and the demo API key (as a secret) in its
``Pulumi.dev.yaml``, and its own pacing cache directory, so tests never share pacing state.
The emulator fixture's fast settings (1 s rate-limit window, short stages) match the test
programs' ``streampixel:rateLimitSeconds: 1``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streampixel_pulumi.emulator.demo import DEMO_API_KEY, DEMO_USER_ID
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.e2e.harness import Stack, copy_program

DISTRIBUTE = "/projects/distribute-file"

MakeStack = Callable[..., Stack]


@pytest.fixture
def make_stack(emulator: EmulatorServer, tmp_path: Path) -> MakeStack:
    """Factory: copy a test program to a fresh directory and return its configured Stack."""

    def make(
        program: str = "release",
        *,
        directory: Path | None = None,
        cache_dir: Path | None = None,
        api_key: str = DEMO_API_KEY,
        env: dict[str, str] | None = None,
    ) -> Stack:
        target = directory or tmp_path / f"{program}-{len(list(tmp_path.glob(program + '-*')))}"
        copy_program(program, target)
        stack_env = {"STREAMPIXEL_CACHE_DIR": str(cache_dir or tmp_path / "cache")}
        stack_env.update(env or {})
        stack = Stack(target, "dev", env=stack_env)
        stack.config.set("streampixel:apiUrl", emulator.base_url)
        stack.config.set("streampixel:apiKey", api_key, secret=True)
        return stack

    return make


@pytest.fixture
def stack(make_stack: MakeStack) -> Stack:
    """The one-release program's stack, configured for the emulator."""
    return make_stack()


def distributions(emulator: EmulatorServer, project_id: str | None = None) -> list[dict[str, Any]]:
    """The distribute-file requests that reached the emulator (optionally for one project)."""
    return [
        entry
        for entry in emulator.control.requests(DISTRIBUTE)
        if project_id is None or entry.get("project_id") == project_id
    ]


def seed_project(
    emulator: EmulatorServer, project_id: str, upload_ids: list[str], *, status: str = "Approved"
) -> None:
    """Add a demo-user project with uploads in `status` to the emulator."""
    emulator.control.seed(
        {
            "projects": [
                {
                    "project_id": project_id,
                    "user_id": DEMO_USER_ID,
                    "name": f"Project {project_id[-4:]}",
                    "region": "us-east-1",
                    "enabled": True,
                }
            ],
            "uploads": [
                {
                    "upload_id": upload_id,
                    "project_id": project_id,
                    "status": status,
                    "file_url": f"https://builds.example.invalid/{upload_id}.zip",
                    "auto_release": False,
                }
                for upload_id in upload_ids
            ],
        }
    )


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a neutral identity and no user or system config."""
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "e2e",
        "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
        "GIT_COMMITTER_NAME": "e2e",
        "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout
