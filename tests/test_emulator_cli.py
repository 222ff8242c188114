"""The streampixel-emulator command line: flags, seed files (JSON and YAML), banner, --help."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from streampixel_pulumi.emulator.__main__ import load_seed, parse_config
from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
)
from streampixel_pulumi.emulator.server import EmulatorServer
from streampixel_pulumi.emulator.settings import EmulatorSettings

SEED = {
    "users": [{"user_id": "5f0000000000000000000001", "api_key": "sp_seeded_fake"}],
    "projects": [
        {
            "project_id": "664f00000000000000000001",
            "user_id": "5f0000000000000000000001",
            "name": "Seeded",
            "region": "us-east-1",
            "enabled": True,
            "live_upload_id": None,
            "webhook_url": None,
            "webhook_events": ["build.approved"],
        }
    ],
    "uploads": [
        {
            "upload_id": "665a00000000000000000001",
            "project_id": "664f00000000000000000001",
            "status": "Approved",
            "file_url": "https://example.invalid/build.zip",
            "auto_release": False,
            "reject_at": None,
            "objection": None,
            "reject_on_distribute": None,
        }
    ],
}

SEED_YAML = """\
users:
  - user_id: "5f0000000000000000000001"
    api_key: sp_seeded_fake
projects:
  - project_id: "664f00000000000000000001"
    user_id: "5f0000000000000000000001"
    name: Seeded
    region: us-east-1
    enabled: true
    live_upload_id: null
    webhook_url: null
    webhook_events: [build.approved]
uploads:
  - upload_id: "665a00000000000000000001"
    project_id: "664f00000000000000000001"
    status: Approved
    file_url: https://example.invalid/build.zip
    auto_release: false
    reject_at: null
    objection: null
    reject_on_distribute: null
"""


@pytest.mark.parametrize(
    ("name", "text"),
    [("seed.json", json.dumps(SEED)), ("seed.yaml", SEED_YAML), ("seed.txt", SEED_YAML)],
    ids=["json", "yaml", "yaml-without-extension"],
)
def test_seed_file_loads_json_and_yaml(tmp_path: Path, name: str, text: str) -> None:
    """The CLI's loader reads JSON and YAML seeds into the same data."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    seed = load_seed(str(path))
    assert seed["users"] == SEED["users"]
    assert seed["uploads"] == SEED["uploads"]
    assert seed["projects"][0]["webhook_events"] == ["build.approved"]


def test_seed_file_serves_seeded_account(tmp_path: Path) -> None:
    """A YAML seed loaded by the CLI's loader is what the server answers with."""
    path = tmp_path / "seed.yml"
    path.write_text(SEED_YAML, encoding="utf-8")
    config = parse_config(["--seed", str(path), "--rate-limit-window", "0"])
    with EmulatorServer(config.settings, config.seed) as emu:
        response = httpx.post(
            f"{emu.base_url}/projects/distribute-file",
            json={
                "apiKey": "sp_seeded_fake",
                "userId": "5f0000000000000000000001",
                "projectId": "664f00000000000000000001",
                "uploadId": "665a00000000000000000001",
            },
        )
        assert response.json()["region"] == "us-east-1"


def test_invalid_seed_file_is_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A seed with a typo makes the CLI exit with a usage error naming the field."""
    path = tmp_path / "seed.json"
    path.write_text(
        json.dumps({"users": [{"user": "x", "api_key": "sp_hidden"}]}), encoding="utf-8"
    )
    with pytest.raises(SystemExit) as caught:
        parse_config(["--seed", str(path)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "users.0.user" in err
    assert "sp_hidden" not in err


def test_flags_set_every_kind_of_setting() -> None:
    """Float, bool, choice, list and string settings are all flags."""
    config = parse_config(
        [
            "--port",
            "0",
            "--rate-limit-window",
            "5",
            "--send-retry-after",
            "--no-rejected-requests-use-slot",
            "--success-shape",
            "short",
            "--distribute-events",
            "build.approved",
            "--access-denied-message",
            "Forbidden",
            "--max-body-bytes",
            "100",
        ]
    )
    assert config.port == 0
    assert config.seed is None
    assert config.settings == EmulatorSettings(
        rate_limit_window=5,
        send_retry_after=True,
        rejected_requests_use_slot=False,
        success_shape="short",
        distribute_events=["build.approved"],
        access_denied_message="Forbidden",
        max_body_bytes=100,
    )


def test_defaults_are_documented_behaviour() -> None:
    """Without flags the CLI serves port 8787 with the default settings."""
    config = parse_config([])
    assert (config.host, config.port, config.settings) == ("127.0.0.1", 8787, EmulatorSettings())


def test_invalid_setting_value_is_usage_error() -> None:
    """A negative window is refused by argparse with exit code 2."""
    with pytest.raises(SystemExit) as caught:
        parse_config(["--stage-seconds", "-1"])
    assert caught.value.code == 2


def test_help_lists_every_setting() -> None:
    """`python -m streampixel_pulumi.emulator --help` works and names every setting."""
    result = subprocess.run(
        [sys.executable, "-m", "streampixel_pulumi.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    for name in (
        "--host",
        "--port",
        "--seed",
        *(f"--{n.replace('_', '-')}" for n in EmulatorSettings.model_fields),
    ):
        assert name in result.stdout


def test_cli_serves_and_prints_demo_account() -> None:
    """Started without a seed the CLI prints the demo account, serves it and stops on SIGTERM."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streampixel_pulumi.emulator",
            "--port",
            "0",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    timer = threading.Timer(30, process.kill)
    timer.start()
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(8)]
        banner = "".join(lines)
        for value in (DEMO_USER_ID, DEMO_API_KEY, DEMO_PROJECT_ID, *DEMO_UPLOAD_IDS):
            assert value in banner
        url = lines[0].split(" on ")[1].strip()
        response = httpx.get(f"{url}/_emulator/projects/{DEMO_PROJECT_ID}")
        assert response.json()["region"] == "europe"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        timer.cancel()
        process.kill()
        process.communicate()
