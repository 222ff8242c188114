"""Release makespan: N projects of one user released in one ``up`` against the emulator.

Streampixel allows one distribute-file call per user per window W, so releasing N projects
cannot take less than (N - 1) x W from the first call to the last; the provider must not take
longer, and must not be answered 429 (its pacing should avoid them, not recover from them).

Each run starts from a fresh emulator world (N projects, one ready upload each), a fresh pacing
cache and a fresh stack, then runs the harness's ``Stack.up()`` (program run, preview pass,
provider process, Check/Diff/Create for all N at the harness's parallelism).
The makespan is read from the emulator's request log: from the first distribute-file request to
the last accepted one. The whole ``up`` is timed too, as information.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON, child_env, progress
from benchmarks.report import Figure, median, safe_ratio
from streampixel_pulumi.emulator.demo import DEMO_API_KEY, DEMO_USER_ID
from streampixel_pulumi.emulator.server import EmulatorServer, EmulatorSettings
from tests.e2e.harness import Stack, copy_program

__all__ = ["TARGET_429", "TARGET_RATIO", "measure_makespan"]

TARGET_RATIO = 1.05
TARGET_429 = 0
_DISTRIBUTE = "/projects/distribute-file"


def _seed(projects: int) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """An emulator world of `projects` projects of the demo user, and the `releases` config."""
    seed: dict[str, Any] = {
        "users": [{"user_id": DEMO_USER_ID, "api_key": DEMO_API_KEY}],
        "projects": [],
        "uploads": [],
    }
    releases = []
    for index in range(projects):
        project_id = f"6650{index:020x}"
        upload_id = f"6660{index:020x}"
        seed["projects"].append(
            {
                "project_id": project_id,
                "user_id": DEMO_USER_ID,
                "name": f"Bench {index}",
                "region": "europe",
                "enabled": True,
            }
        )
        seed["uploads"].append(
            {
                "upload_id": upload_id,
                "project_id": project_id,
                "status": "Approved",
                "file_url": f"https://builds.example.invalid/bench-{index}.zip",
                "auto_release": False,
            }
        )
        releases.append(
            {"name": f"release-{index}", "projectId": project_id, "uploadId": upload_id}
        )
    return seed, releases


def _run(
    emulator: EmulatorServer,
    scratch: Path,
    projects: int,
    window: float,
    *,
    skip_preview: bool,
) -> tuple[float, float, int, int]:
    """(makespan s, up wall time s, 429 answers, accepted calls) of one fresh release."""
    seed, releases = _seed(projects)
    emulator.control.reset(seed)
    program = copy_program("releases", scratch / "program")
    stack = Stack(
        program,
        env=child_env({"STREAMPIXEL_CACHE_DIR": str(scratch / "cache")}),
        parallel=10,
        python=PYTHON,
    )
    stack.config.set("streampixel:apiUrl", emulator.base_url)
    stack.config.set("streampixel:apiKey", DEMO_API_KEY, secret=True)
    stack.config.set("streampixel:userId", DEMO_USER_ID)
    stack.config.set("streampixel:rateLimitSeconds", f"{window:g}")
    stack.config.set("streampixel:deadlineSeconds", f"{max(30.0, 4 * projects * window):g}")
    stack.config.set("streampixel:progressSeconds", "5")
    stack.config.set("releases", releases)
    start = time.perf_counter()
    stack.up(skip_preview=skip_preview)
    wall = time.perf_counter() - start
    entries = emulator.control.requests(_DISTRIBUTE)
    accepted = [entry["time"] for entry in entries if entry["status"] == 200]
    limited = sum(1 for entry in entries if entry["status"] == 429)
    if len(accepted) != projects:
        msg = f"makespan: {len(accepted)} distributions accepted, expected {projects}"
        raise RuntimeError(msg)
    makespan = max(accepted) - min(entry["time"] for entry in entries)
    return makespan, wall, limited, len(accepted)


def measure_makespan(
    projects: int, window: float, runs: int, *, skip_preview: bool = False
) -> tuple[Figure, Figure, Figure]:
    """(makespan figure, 429 figure, up wall time figure) over `runs` fresh releases."""
    settings = EmulatorSettings(
        rate_limit_window=window, stage_seconds=0.05, distribute_seconds=0.05
    )
    makespans: list[float] = []
    walls: list[float] = []
    limited: list[float] = []
    with EmulatorServer(settings=settings, port=0) as emulator:
        for index in range(runs):
            progress(
                f"release makespan: run {index + 1}/{runs} ({projects} projects, W={window:g} s)"
            )
            with tempfile.TemporaryDirectory(prefix="bench-makespan-") as scratch:
                makespan, wall, answers_429, _ = _run(
                    emulator, Path(scratch), projects, window, skip_preview=skip_preview
                )
            makespans.append(makespan)
            walls.append(wall)
            limited.append(float(answers_429))
    floor = (projects - 1) * window
    measured = median(makespans)
    ratio = safe_ratio(measured, floor)
    how = f"N={projects} projects of one user, W={window:g} s, median of {runs} run(s)"
    makespan_figure = Figure(
        key="release_makespan",
        label=f"release makespan: {projects} projects in one up, first to last call",
        unit="s",
        measured=measured,
        baseline=floor,
        ratio=ratio,
        target=f"ratio <= {TARGET_RATIO:.2f}",
        passed=ratio is not None and ratio <= TARGET_RATIO,
        note=f"baseline (N-1) x W; {how}; from the emulator's request log",
        samples={"makespan": makespans},
    )
    total_429 = sum(limited)
    limited_figure = Figure(
        key="release_429",
        label="release: 429 answers during the up",
        unit="count",
        measured=total_429,
        baseline=float(TARGET_429),
        target=f"== {TARGET_429}",
        passed=total_429 == TARGET_429,
        note=f"summed over {runs} run(s)",
        samples={"per_run": limited},
    )
    wall = median(walls)
    wall_figure = Figure(
        key="release_up_wall",
        label="release: whole up, wall time (information)",
        unit="s",
        measured=wall,
        baseline=floor,
        ratio=safe_ratio(wall, floor),
        target="-",
        passed=None,
        note=(
            "program runs, "
            + ("" if skip_preview else "preview pass, ")
            + "provider start and the releases; baseline (N-1) x W"
        ),
        samples={"wall": walls},
    )
    return makespan_figure, limited_figure, wall_figure
