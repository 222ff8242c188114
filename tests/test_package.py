"""The package's public surface and the weight of `import streampixel_pulumi`."""

from __future__ import annotations

import json
import subprocess
import sys

import streampixel_pulumi

# pyyaml is not listed: pulumi itself imports it.
SERVER_MODULES = (
    "fastapi",
    "uvicorn",
    "starlette",
    "streampixel_pulumi.emulator",
    "streampixel_pulumi.webhooks.receiver",
    "streampixel_pulumi.serving",
)


def test_all_is_sorted_and_every_name_exists() -> None:
    """Every name in __all__ is exported, and __all__ is sorted."""
    assert streampixel_pulumi.__all__ == sorted(streampixel_pulumi.__all__)
    for name in streampixel_pulumi.__all__:
        assert hasattr(streampixel_pulumi, name), name


def test_public_objects_report_the_package_as_home() -> None:
    """Exported classes live in public-looking streampixel_pulumi modules."""
    for name in streampixel_pulumi.__all__:
        module = getattr(streampixel_pulumi, name).__module__
        assert module.startswith("streampixel_pulumi."), (name, module)
        assert not module.split(".")[-1].startswith("_"), (name, module)


def test_import_loads_no_server_framework() -> None:
    """A Pulumi program's `import streampixel_pulumi` pulls in no server code."""
    code = "import json, sys, streampixel_pulumi; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    for name in SERVER_MODULES:
        assert name not in loaded, name


def test_import_loads_no_http_client_or_pydantic() -> None:
    """A Pulumi program pays only for BuildRelease: httpx and pydantic load on first use."""
    code = "import json, sys, streampixel_pulumi; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "httpx" not in loaded
    assert "pydantic" not in loaded


def test_client_is_exported_on_first_use() -> None:
    """StreampixelClient is reachable from the package root although loaded lazily."""
    from streampixel_pulumi.client import StreampixelClient

    assert streampixel_pulumi.StreampixelClient is StreampixelClient
