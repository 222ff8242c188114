"""End-to-end: several releases of one user never trip the per-user rate limit.

The emulator enforces a real 1 s window per user (its fast settings) and the programs set
``streampixel:rateLimitSeconds: 1``; pacing must space the calls so no 429 is ever answered.
"""

from __future__ import annotations

import threading
from itertools import pairwise
from pathlib import Path
from typing import Any

from streampixel_pulumi.emulator.demo import DEMO_PROJECT_ID, DEMO_UPLOAD_IDS
from streampixel_pulumi.emulator.server import EmulatorServer
from tests.e2e.conftest import MakeStack, distributions, seed_project
from tests.e2e.harness import OperationResult

PROJECT_B, UPLOAD_B = "664f0000000000000000000b", "665a0000000000000000000b"
PROJECT_C, UPLOAD_C = "664f0000000000000000000c", "665a0000000000000000000c"


def call_gaps(calls: list[dict[str, Any]]) -> list[float]:
    """Seconds between consecutive requests, as the emulator received them."""
    times = sorted(float(call["time"]) for call in calls)
    return [later - earlier for earlier, later in pairwise(times)]


def test_three_projects_of_one_user_in_one_up_never_hit_429(
    make_stack: MakeStack, emulator: EmulatorServer
) -> None:
    """Three creates sent at once through one provider process are paced, all accepted."""
    seed_project(emulator, PROJECT_B, [UPLOAD_B])
    seed_project(emulator, PROJECT_C, [UPLOAD_C])
    stack = make_stack("releases")
    stack.config.set(
        "releases",
        [
            {"name": "a", "projectId": DEMO_PROJECT_ID, "uploadId": DEMO_UPLOAD_IDS[0]},
            {"name": "b", "projectId": PROJECT_B, "uploadId": UPLOAD_B},
            {"name": "c", "projectId": PROJECT_C, "uploadId": UPLOAD_C},
        ],
    )
    result = stack.up(skip_preview=True)
    assert result.ops == {"a": "create", "b": "create", "c": "create"}
    calls = distributions(emulator)
    assert [c["status"] for c in calls] == [200, 200, 200]
    assert sorted(c["project_id"] for c in calls) == sorted([DEMO_PROJECT_ID, PROJECT_B, PROJECT_C])
    assert min(call_gaps(calls)) >= 0.95
    assert any("pacing:" in line for line in result.lines)


def test_two_stacks_of_one_user_deploying_at_once_never_hit_429(
    make_stack: MakeStack, emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Two provider processes of one user share pacing through the cache dir's file lock."""
    seed_project(emulator, PROJECT_B, [UPLOAD_B])
    shared_cache = tmp_path / "shared-cache"
    first = make_stack(cache_dir=shared_cache)
    second = make_stack(cache_dir=shared_cache)
    second.config.set("projectId", PROJECT_B)
    second.config.set("uploadId", UPLOAD_B)
    results: dict[str, OperationResult | BaseException] = {}

    def deploy(name: str, stack: Any) -> None:
        try:
            results[name] = stack.up(skip_preview=True)
        except BaseException as error:
            results[name] = error

    threads = [
        threading.Thread(target=deploy, args=("first", first)),
        threading.Thread(target=deploy, args=("second", second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(result, OperationResult) for result in results.values()), results
    calls = distributions(emulator)
    assert [c["status"] for c in calls] == [200, 200]
    assert min(call_gaps(calls)) >= 0.95
