"""Provider blob: the size of ``__provider`` and whether it is byte-identical everywhere.

The program pickles the provider into every resource's ``__provider`` input and the engine
stores it in state; a blob that changes with the checkout path or the process would make every
``up`` look different, and a large one bloats state. The package source tree (and the no-op
baseline) is copied into two temporary checkouts at different paths; fresh processes, with only
that checkout first on the import path, serialize the provider as ``dynamic.Resource`` does
(``serialize_provider``) and print the blob. The blobs of each provider must all be equal.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from benchmarks.common import REPO_ROOT, child_env, progress, run_python
from benchmarks.report import Figure, safe_ratio

__all__ = ["TARGET_BYTES", "measure_blob"]

TARGET_BYTES = 300

_PROVIDERS = {
    "subject": ("streampixel_pulumi.provider", "BuildReleaseProvider"),
    "baseline": ("benchmarks.noop_provider", "NoopProvider"),
}

_SNIPPET = """\
import importlib, json
from pulumi.dynamic.dynamic import serialize_provider
result = {}
for role, (module_name, class_name) in json.loads(%r).items():
    module = importlib.import_module(module_name)
    provider = getattr(module, class_name)()
    result[role] = {"blob": serialize_provider(provider), "file": module.__file__}
print(json.dumps(result))
"""


def _checkout(root: Path) -> Path:
    """Copy the package and the no-op provider into `root`, as a second clone would hold them."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO_ROOT / "streampixel_pulumi", root / "streampixel_pulumi", ignore=ignore)
    (root / "benchmarks").mkdir(parents=True)
    for name in ("__init__.py", "noop_provider.py"):
        shutil.copy2(REPO_ROOT / "benchmarks" / name, root / "benchmarks" / name)
    return root


def _blobs(checkout: Path, cwd: Path) -> dict[str, str]:
    """Serialize both providers in a fresh process that imports them from `checkout`."""
    out = run_python(
        _SNIPPET % json.dumps(_PROVIDERS),
        env=child_env(pythonpath=checkout),
        cwd=cwd,
        timeout=60.0,
    )
    found = json.loads(out.strip().splitlines()[-1])
    blobs = {}
    for role, item in found.items():
        if not Path(item["file"]).resolve().is_relative_to(checkout.resolve()):
            msg = f"{role} provider was imported from outside the checkout {checkout}"
            raise RuntimeError(msg)
        blobs[role] = str(item["blob"])
    return blobs


def measure_blob(processes_per_checkout: int) -> tuple[Figure, Figure]:
    """(size figure, identity figure) from two checkouts x `processes_per_checkout` processes."""
    samples: dict[str, list[str]] = {"subject": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="bench-blob-") as scratch:
        base = Path(scratch)
        checkouts = [
            _checkout(base / "a"),
            _checkout(base / "second-checkout" / "of-streampixel-pulumi"),
        ]
        cwd = base / "cwd"
        cwd.mkdir()
        for index, checkout in enumerate(checkouts):
            for run in range(processes_per_checkout):
                progress(f"provider blob: checkout {index + 1}/2, process {run + 1}")
                for role, blob in _blobs(checkout, cwd).items():
                    samples[role].append(blob)
    # The blob is base64 text in state: its size in bytes is its length.
    size, base_size = float(len(samples["subject"][0])), float(len(samples["baseline"][0]))
    same = len(set(samples["subject"])) == 1
    base_same = len(set(samples["baseline"])) == 1
    count = len(samples["subject"])
    size_figure = Figure(
        key="provider_blob_bytes",
        label="provider blob: size of __provider",
        unit="B",
        measured=size,
        baseline=base_size,
        ratio=safe_ratio(size, base_size),
        target=f"<= {TARGET_BYTES} B",
        passed=size <= TARGET_BYTES and all(len(b) == size for b in samples["subject"]),
        note="base64 text as stored in state; baseline: the no-op dynamic provider",
        samples={
            "subject_bytes": [float(len(b)) for b in samples["subject"]],
            "baseline_bytes": [float(len(b)) for b in samples["baseline"]],
        },
    )
    identity_figure = Figure(
        key="provider_blob_identical",
        label="provider blob: identical across checkouts and processes",
        unit="",
        measured="identical" if same else "differs",
        baseline="identical" if base_same else "differs",
        target="identical",
        passed=same,
        note=f"{count} blobs: 2 checkouts at different paths x {processes_per_checkout} process(es)",
    )
    return size_figure, identity_figure
