"""Preview cost: an engine-protocol preview of many BuildReleases against a no-op provider.

``pulumi preview`` of a stack whose resources exist starts a fresh provider process, sends
GetPluginInfo and Configure, then Check (old inputs, new inputs) and Diff (old outputs, checked
inputs) per resource (shared/pulumi-dynamic-providers.md). Both providers are driven through the
end-to-end harness's ProviderProcess with the same property bags; only ``__provider`` differs.

Two figures per run, from one process each:
- cold: from starting the process to the last Diff answer (what a preview costs a user, the
  provider's imports on first unpickling included);
- warm: further passes of Check and Diff over the same resources in that process (the
  per-call cost once the provider is loaded), alternating between the two live processes.
Runs alternate between the two providers; the figures are medians.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from pulumi.dynamic.dynamic import serialize_provider

from benchmarks.common import PYTHON, REPO_ROOT, child_env, progress
from benchmarks.noop_provider import NoopProvider
from benchmarks.report import Figure, median, safe_ratio
from streampixel_pulumi.provider import BuildReleaseProvider
from tests.e2e.harness import ProviderProcess

__all__ = ["TARGET_RATIO", "measure_preview"]

TARGET_RATIO = 1.10
PROVIDER_KEY = "__provider"
_TYPE = "pulumi-python:dynamic/streampixel:BuildRelease"
_CONFIG = {
    "streampixel:userId": "5f0c1d2e3f4a5b6c7d8e9f01",
    "streampixel:apiKey": "bench-not-a-real-key",
    "streampixel:apiUrl": "http://127.0.0.1:9/pixelStripeApi",
    "streampixel:deadlineSeconds": "60",
}


def _resources(count: int, blob: str) -> list[dict[str, Any]]:
    """`count` resources as state holds them after an `up`: urn, id, inputs and outputs."""
    resources = []
    for index in range(count):
        project_id = f"{index:024x}"
        upload_id = f"{index + 1_000_000:024x}"
        inputs = {"project_id": project_id, "upload_id": upload_id, PROVIDER_KEY: blob}
        triggered_at = "2025-03-01T12:00:00+00:00"
        outputs = {
            **inputs,
            "region": "europe",
            "status": "triggered",
            "triggered_at": triggered_at,
            "action": "release",
            "history": [
                {"upload_id": upload_id, "action": "release", "triggered_at": triggered_at}
            ],
            "message": "Distribution started",
        }
        resources.append(
            {
                "urn": f"urn:pulumi:bench::preview::{_TYPE}::release-{index}",
                "name": f"release-{index}",
                "id": project_id,
                "inputs": inputs,
                "outputs": outputs,
            }
        )
    return resources


def _preview_pass(process: ProviderProcess, resources: list[dict[str, Any]]) -> None:
    """Check and Diff every resource as a preview of an unchanged stack does."""
    for item in resources:
        checked = process.check(item["urn"], _TYPE, item["name"], item["inputs"], item["inputs"])
        if checked.failures:
            msg = f"preview benchmark: Check failed: {checked.failures}"
            raise RuntimeError(msg)
        diff = process.diff(
            item["urn"],
            _TYPE,
            item["name"],
            item["id"],
            item["outputs"],
            checked.inputs,
            item["inputs"],
        )
        if diff.changes != "none":
            msg = f"preview benchmark: Diff answered {diff.changes!r} for an unchanged resource"
            raise RuntimeError(msg)


def _cold(resources: list[dict[str, Any]], env: dict[str, str]) -> tuple[float, ProviderProcess]:
    """Seconds from starting a provider process to its last Diff answer; the live process."""
    start = time.perf_counter()
    process = ProviderProcess(REPO_ROOT, env, python=PYTHON, call_timeout=60.0)
    try:
        process.connect(timeout=60.0)
        process.get_plugin_info()
        process.configure(_CONFIG)
        _preview_pass(process, resources)
    except BaseException:
        process.close()
        raise
    return time.perf_counter() - start, process


def _warm(process: ProviderProcess, resources: list[dict[str, Any]]) -> float:
    """Seconds of one more Check+Diff pass in a process that has loaded its provider."""
    start = time.perf_counter()
    _preview_pass(process, resources)
    return time.perf_counter() - start


def measure_preview(resources: int, runs: int, warm_passes: int = 3) -> tuple[Figure, Figure]:
    """(cold figure, warm figure) over `runs` runs per provider.

    Each run starts one provider's process, then the other's (cold samples), then alternates
    `warm_passes` passes between the two live processes; its warm sample per provider is the
    median of its passes.
    """
    bags = {
        "subject": _resources(resources, serialize_provider(BuildReleaseProvider())),
        "baseline": _resources(resources, serialize_provider(NoopProvider())),
    }
    samples: dict[str, list[float]] = {
        "subject_cold": [],
        "baseline_cold": [],
        "subject_warm": [],
        "baseline_warm": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as scratch:
        env = child_env({"STREAMPIXEL_CACHE_DIR": str(Path(scratch) / "cache")})
        for index in range(runs):
            progress(f"preview cost: run {index + 1}/{runs} ({resources} resources each)")
            processes: dict[str, ProviderProcess] = {}
            try:
                # Who goes first alternates, so neither always starts on a warmer machine.
                order = ("baseline", "subject") if index % 2 == 0 else ("subject", "baseline")
                for role in order:
                    cold, processes[role] = _cold(bags[role], env)
                    samples[f"{role}_cold"].append(cold)
                passes: dict[str, list[float]] = {"baseline": [], "subject": []}
                for _ in range(warm_passes):
                    for role, process in processes.items():
                        passes[role].append(_warm(process, bags[role]))
                for role, values in passes.items():
                    samples[f"{role}_warm"].append(median(values))
            finally:
                for process in processes.values():
                    process.close()
    figures = []
    for phase, what in (
        ("cold", "process start, Configure, Check+Diff"),
        ("warm", "Check+Diff, provider loaded"),
    ):
        measured = median(samples[f"subject_{phase}"])
        base = median(samples[f"baseline_{phase}"])
        ratio = safe_ratio(measured, base)
        figures.append(
            Figure(
                key=f"preview_{phase}",
                label=f"preview cost, {phase}: {resources} resources ({what})",
                unit="s",
                measured=measured,
                baseline=base,
                ratio=ratio,
                target=f"ratio <= {TARGET_RATIO:.2f}",
                passed=ratio is not None and ratio <= TARGET_RATIO,
                note=(
                    f"baseline: no-op dynamic provider; median of {runs} alternating run(s)"
                    + ("" if phase == "cold" else f"; {warm_passes} passes per run, interleaved")
                ),
                samples={
                    "subject": samples[f"subject_{phase}"],
                    "baseline": samples[f"baseline_{phase}"],
                },
            )
        )
    return figures[0], figures[1]
