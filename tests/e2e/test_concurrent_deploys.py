"""End-to-end: concurrent deploys of one user share the pacing and never receive a 429.

Two layers are exercised against the emulator's real per-user window: the provider's 4 gRPC
worker threads (more releases in one ``up`` than threads), and two provider processes (two
stacks of the same user deploying at once on one machine) that share only the user's cache
directory, where the file lock and the pacing stamp live. tests/e2e/test_rate_limits.py covers
the three-project and two-single-stack cases; these add more resources than threads, stacks of
several releases each, and the default cache directory under the user's home.
"""

from __future__ import annotations

import threading
from itertools import pairwise
from pathlib import Path
from typing import Any

from streampixel_pulumi.emulator.demo import DEMO_PROJECT_ID, DEMO_UPLOAD_IDS, DEMO_USER_ID
from streampixel_pulumi.emulator.server import EmulatorServer
from streampixel_pulumi.pacing import user_key
from tests.e2e.conftest import MakeStack, distributions, seed_project
from tests.e2e.harness import OperationResult, Stack

WINDOW = 0.5
THREAD_WAIT = "waiting for another Streampixel call of the same user in this deployment"
PROJECTS = [(f"664f00000000000000000{n:03d}", f"665a00000000000000000{n:03d}") for n in range(1, 5)]


def arrival_gaps(calls: list[dict[str, Any]]) -> list[float]:
    """Seconds between consecutive distribute-file requests, as the emulator received them."""
    times = sorted(float(call["time"]) for call in calls)
    return [later - earlier for earlier, later in pairwise(times)]


def releases(stack: Stack, projects: list[tuple[str, str]]) -> None:
    """Point the several-releases program at `projects` with the short pacing interval."""
    stack.config.set(
        "releases",
        [
            {"name": f"r{index}", "projectId": project, "uploadId": upload}
            for index, (project, upload) in enumerate(projects)
        ],
    )
    stack.config.set("streampixel:rateLimitSeconds", f"{WINDOW:g}")


def deploy_together(*stacks: Stack) -> list[OperationResult | BaseException]:
    """Run ``up`` on every stack at once, each in its own thread (its own provider process)."""
    results: list[OperationResult | BaseException] = [RuntimeError("did not finish")] * len(stacks)

    def deploy(index: int, stack: Stack) -> None:
        try:
            results[index] = stack.up(skip_preview=True)
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=deploy, args=item) for item in enumerate(stacks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return results


def test_more_releases_than_provider_threads_are_paced_without_429(
    make_stack: MakeStack, emulator: EmulatorServer
) -> None:
    """Five creates through the provider's 4 worker threads wait their turns; all are accepted."""
    emulator.control.update_settings(rate_limit_window=WINDOW)
    for project, upload in PROJECTS:
        seed_project(emulator, project, [upload])
    stack = make_stack("releases")
    releases(stack, [(DEMO_PROJECT_ID, DEMO_UPLOAD_IDS[0]), *PROJECTS])

    result = stack.up(skip_preview=True)

    assert set(result.ops.values()) == {"create"}
    assert len(result.ops) == 5
    calls = distributions(emulator)
    assert [call["status"] for call in calls] == [200] * 5
    assert min(arrival_gaps(calls)) >= WINDOW * 0.95
    assert any(THREAD_WAIT in line for line in result.lines)
    assert not any("rate limited" in line for line in result.lines)


def test_two_stacks_of_one_user_share_pacing_through_the_users_cache_dir(
    make_stack: MakeStack, emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Two provider processes with only HOME in common space their calls; neither gets a 429."""
    emulator.control.update_settings(rate_limit_window=WINDOW)
    for project, upload in PROJECTS:
        seed_project(emulator, project, [upload])
    home = tmp_path / "home"
    user_env = {"HOME": str(home), "XDG_CACHE_HOME": ""}  # the default: ~/.cache
    first, second = make_stack("releases", env=user_env), make_stack("releases", env=user_env)
    for stack in (first, second):
        del stack.env["STREAMPIXEL_CACHE_DIR"]
    releases(first, PROJECTS[:2])
    releases(second, PROJECTS[2:])

    results = deploy_together(first, second)

    assert all(isinstance(result, OperationResult) for result in results), results
    calls = distributions(emulator)
    assert [call["status"] for call in calls] == [200] * 4
    assert min(arrival_gaps(calls)) >= WINDOW * 0.95
    assert not any("rate limited" in line for line in first.lines + second.lines)
    cache = home / ".cache" / "streampixel-pulumi"
    key = user_key(DEMO_USER_ID)
    assert sorted(path.name for path in cache.iterdir()) == [
        f"pacing-{key}-distribute.json",
        f"pacing-{key}-distribute.lock",
    ]
    everywhere = [path for path in tmp_path.rglob("pacing-*") if path.is_file()]
    assert all(path.parent == cache for path in everywhere), everywhere


def test_two_stacks_with_an_explicit_cache_dir_share_it(
    make_stack: MakeStack, emulator: EmulatorServer, tmp_path: Path
) -> None:
    """STREAMPIXEL_CACHE_DIR moves the lock for both stacks; the user id is not in a file name."""
    emulator.control.update_settings(rate_limit_window=WINDOW)
    for project, upload in PROJECTS:
        seed_project(emulator, project, [upload])
    shared = tmp_path / "shared cache"
    first, second = (
        make_stack("releases", cache_dir=shared),
        make_stack("releases", cache_dir=shared),
    )
    releases(first, PROJECTS[:2])
    releases(second, PROJECTS[2:])

    results = deploy_together(first, second)

    assert all(isinstance(result, OperationResult) for result in results), results
    calls = distributions(emulator)
    assert [call["status"] for call in calls] == [200] * 4
    assert min(arrival_gaps(calls)) >= WINDOW * 0.95
    names = [path.name for path in shared.iterdir()]
    assert f"pacing-{user_key(DEMO_USER_ID)}-distribute.lock" in names
    assert all(DEMO_USER_ID not in name for name in names)
