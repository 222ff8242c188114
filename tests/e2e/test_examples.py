"""The examples as users get them: committed stack files, set_mocks runs, releases end to end.

Each example (and the repository root, whose Pulumi.yaml runs the quickstart) is copied to a
temporary directory and run with its own committed ``Pulumi.dev.yaml``. Only what a test run
must change is changed, through the stack config the way a user would: the emulator's port
(``streampixel:apiUrl``), the pacing interval (``streampixel:rateLimitSeconds``, matching the
test emulator's 1 s window) and the API key. The committed key is encrypted for the demo
passphrase, which needs the Pulumi CLI to decrypt; the test stores the same public demo key in
the harness's encoding instead, after checking the committed value's shape.
"""

from __future__ import annotations

import ast
import base64
import itertools
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from streampixel_pulumi.emulator.__main__ import DEFAULT_PORT
from streampixel_pulumi.emulator.demo import (
    DEMO_API_KEY,
    DEMO_PROJECT_ID,
    DEMO_UPLOAD_IDS,
    DEMO_USER_ID,
)
from streampixel_pulumi.emulator.seed import load_seed_file
from streampixel_pulumi.emulator.server import EmulatorServer
from streampixel_pulumi.resource import OUTPUT_KEYS
from tests.e2e.conftest import distributions
from tests.e2e.harness import Stack, run_program

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DEMO_PASSPHRASE = "streampixel-demo"
RESOURCE_TYPE = "pulumi-python:dynamic/streampixel:BuildRelease"
MULTI_SEED = EXAMPLES / "multi-project" / "emulator-seed.yaml"

# name -> (directory holding Pulumi.yaml and Pulumi.dev.yaml, files to copy)
PROJECTS: dict[str, tuple[Path, tuple[str, ...]]] = {
    "root": (REPO, ("Pulumi.yaml", "Pulumi.dev.yaml", "examples/quickstart/__main__.py")),
    "quickstart": (EXAMPLES / "quickstart", ("Pulumi.yaml", "Pulumi.dev.yaml", "__main__.py")),
    "multi-project": (
        EXAMPLES / "multi-project",
        ("Pulumi.yaml", "Pulumi.dev.yaml", "__main__.py"),
    ),
}
PROGRAMS = {
    "quickstart": EXAMPLES / "quickstart" / "__main__.py",
    "multi-project": EXAMPLES / "multi-project" / "__main__.py",
}

_B64 = r"[A-Za-z0-9+/]+={0,2}"


def _b64_len(text: str) -> int:
    return len(base64.b64decode(text, validate=True))


def copy_project(name: str, dest: Path) -> Path:
    """Copy one project's committed files (not its virtualenv) to `dest`."""
    source, files = PROJECTS[name]
    for relative in files:
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / relative, target)
    return dest


def example_stack(
    name: str, tmp_path: Path, emulator: EmulatorServer, *, rate_limit: str = "1"
) -> Stack:
    """A copy of a project's dev stack wired to the test emulator, as a user would wire it."""
    program_dir = copy_project(name, tmp_path / name)
    stack = Stack(program_dir, "dev", env={"STREAMPIXEL_CACHE_DIR": str(tmp_path / "cache")})
    stack.config.set("streampixel:apiKey", DEMO_API_KEY, secret=True)
    stack.config.set("streampixel:apiUrl", emulator.base_url)
    stack.config.set("streampixel:rateLimitSeconds", rate_limit)
    stack.config.set("streampixel:progressSeconds", "1")
    return stack


def committed_config(name: str) -> dict[str, Any]:
    """The `config:` block of a project's committed Pulumi.dev.yaml."""
    source, _ = PROJECTS[name]
    document = yaml.safe_load((source / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    return dict(document["config"])


@pytest.mark.parametrize("name", sorted(PROJECTS), ids=sorted(PROJECTS))
def test_committed_dev_stack_targets_the_emulator_demo_account(name: str) -> None:
    """Each dev stack file points at the emulator's default port and its demo user."""
    config = committed_config(name)
    assert config["streampixel:apiUrl"] == f"http://127.0.0.1:{DEFAULT_PORT}/pixelStripeApi"
    assert config["streampixel:userId"] == DEMO_USER_ID
    assert all(isinstance(value, (str, dict)) for value in config.values())


@pytest.mark.parametrize("name", sorted(PROJECTS), ids=sorted(PROJECTS))
def test_committed_api_key_is_encrypted_for_the_documented_passphrase(name: str) -> None:
    """The demo key is stored only as a Pulumi passphrase secret, with its salt and passphrase."""
    source, _ = PROJECTS[name]
    text = (source / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    assert DEMO_API_KEY not in text
    assert f"passphrase of this stack: {DEMO_PASSPHRASE}" in text
    document = yaml.safe_load(text)
    # Pulumi's passphrase state: v1:<8-byte salt>:v1:<12-byte nonce>:<AES-GCM of "pulumi">.
    salt = re.fullmatch(rf"v1:({_B64}):v1:({_B64}):({_B64})", document["encryptionsalt"])
    assert salt is not None
    assert _b64_len(salt[1]) == 8
    assert _b64_len(salt[2]) == 12
    assert _b64_len(salt[3]) == len(b"pulumi") + 16
    secure = document["config"]["streampixel:apiKey"]["secure"]
    value = re.fullmatch(rf"v1:({_B64}):({_B64})", secure)
    assert value is not None
    assert _b64_len(value[1]) == 12
    assert _b64_len(value[2]) == len(DEMO_API_KEY.encode()) + 16


@pytest.mark.parametrize("name", sorted(PROJECTS), ids=sorted(PROJECTS))
def test_committed_dev_stack_paces_like_the_documented_emulator_command(name: str) -> None:
    """The stack's pacing matches the --rate-limit-window its header tells to start with."""
    source, _ = PROJECTS[name]
    text = (source / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    window = re.search(r"streampixel-emulator .*--rate-limit-window (\d+)", text)
    assert window is not None
    assert committed_config(name)["streampixel:rateLimitSeconds"] == window[1]


def test_root_project_runs_the_quickstart_program() -> None:
    """The root Pulumi.yaml is the quickstart project with a virtualenv and its main."""
    root = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))
    example = yaml.safe_load((EXAMPLES / "quickstart" / "Pulumi.yaml").read_text("utf-8"))
    assert root["name"] == example["name"] == "streampixel-quickstart"
    assert root["main"] == "examples/quickstart"
    assert root["runtime"]["name"] == "python"
    assert root["runtime"]["options"]["virtualenv"]


@pytest.mark.parametrize(
    "program_dir",
    [REPO, EXAMPLES / "quickstart", EXAMPLES / "multi-project"],
    ids=["root", "quickstart", "multi-project"],
)
def test_requirements_install_this_repository(program_dir: Path) -> None:
    """The requirements Pulumi installs (the program directory's) point at this package."""
    document = yaml.safe_load((program_dir / "Pulumi.yaml").read_text(encoding="utf-8"))
    program = program_dir / str(document.get("main") or ".")
    # Pulumi runs `pip install -r requirements.txt` in the program directory.
    lines = [
        line.strip()
        for line in (program / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) == 1
    flag, _, path = lines[0].partition(" ")
    assert flag == "-e"
    target = (program / path).resolve()
    assert target == REPO
    assert 'name = "streampixel-pulumi"' in (target / "pyproject.toml").read_text("utf-8")


def test_root_requirements_install_this_repository() -> None:
    """`pip install -r requirements.txt` at the root installs the package, editable."""
    lines = [
        line.strip()
        for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == ["-e ."]


@pytest.mark.parametrize("name", sorted(PROGRAMS), ids=sorted(PROGRAMS))
def test_example_program_exports_every_output(name: str) -> None:
    """The program exports the outputs of BuildRelease (not the echoed optional inputs)."""
    tree = ast.parse(PROGRAMS[name].read_text(encoding="utf-8"))
    exported: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "release"
        ):
            exported.add(node.attr)
    wanted = set(OUTPUT_KEYS) - {"triggers", "deadline_seconds"}
    if name == "multi-project":  # a summary per project
        wanted -= {"message", "history"}
    assert wanted <= exported


@pytest.mark.parametrize("name", sorted(PROJECTS), ids=sorted(PROJECTS))
def test_example_registers_its_releases_under_set_mocks(
    name: str, tmp_path: Path, emulator: EmulatorServer
) -> None:
    """Run under set_mocks, each program declares a BuildRelease per configured project."""
    stack = example_stack(name, tmp_path, emulator)
    registrations = {reg.name: reg for reg in run_program(stack.program_dir, preview=True)}
    config = committed_config(name)
    if name == "multi-project":
        wanted = {
            key: (entry["projectId"], entry["uploadId"])
            for key, entry in config["streampixel-multi-project:releases"].items()
        }
    else:
        wanted = {
            "game": (
                config["streampixel-quickstart:projectId"],
                config["streampixel-quickstart:uploadId"],
            )
        }
    assert {
        n: (r.inputs["project_id"], r.inputs["upload_id"]) for n, r in registrations.items()
    } == (wanted)
    for reg in registrations.values():
        assert reg.type == RESOURCE_TYPE
        blob = base64.b64decode(reg.provider_blob)
        # Pickled by reference: small, and naming the provider's stable import path.
        assert b"streampixel_pulumi.provider" in blob
        assert len(blob) < 500
        assert DEMO_API_KEY.encode() not in blob


def test_quickstart_example_releases_and_previews_a_change_without_calls(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    """up distributes the configured upload; a changed uploadId previews as an update only."""
    stack = example_stack("quickstart", tmp_path, emulator)
    result = stack.up()
    assert result.ops == {"game": "create"}
    first, second = DEMO_UPLOAD_IDS
    assert [(c["status"], c["upload_id"]) for c in distributions(emulator)] == [(200, first)]
    emulator.control.wait_for_live(DEMO_PROJECT_ID, first)
    outputs = stack.outputs("game")
    assert (outputs["upload_id"], outputs["status"], outputs["action"]) == (
        first,
        "triggered",
        "release",
    )

    emulator.control.clear_requests()
    stack.config.set("streampixel-quickstart:uploadId", second)
    preview = stack.preview()
    assert preview.ops == {"game": "update"}
    assert emulator.control.requests() == []
    assert stack.outputs("game")["upload_id"] == first


def test_multi_project_example_releases_every_region_paced_under_the_rate_limit(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    """One up releases all three projects, one accepted call per pacing interval, no 429."""
    seed = load_seed_file(MULTI_SEED)
    emulator.control.reset(seed)
    window = emulator.control.settings()["rate_limit_window"]
    stack = example_stack("multi-project", tmp_path, emulator, rate_limit=f"{window:g}")
    releases = committed_config("multi-project")["streampixel-multi-project:releases"]

    result = stack.up()
    assert result.ops == dict.fromkeys(releases, "create")
    calls = distributions(emulator)
    assert [call["status"] for call in calls] == [200, 200, 200]
    times = sorted(call["time"] for call in calls)
    assert all(later - earlier >= window * 0.9 for earlier, later in itertools.pairwise(times))
    regions = {project["project_id"]: project["region"] for project in seed["projects"]}
    for name, entry in releases.items():
        emulator.control.wait_for_live(entry["projectId"], entry["uploadId"])
        assert stack.outputs(name)["region"] == regions[entry["projectId"]]
    assert sorted(regions.values()) == ["asia-pacific", "europe", "us-east-1"]

    # A release of one project changes one line and makes one call.
    emulator.control.clear_requests()
    releases["showroom-us"]["uploadId"] = "665a0b1c2d3e4f5a6b7c8e02"
    stack.config.set("streampixel-multi-project:releases", releases)
    result = stack.up()
    assert result.ops == {"showroom-apac": "same", "showroom-eu": "same", "showroom-us": "update"}
    assert [(c["project_id"], c["upload_id"]) for c in distributions(emulator)] == [
        (releases["showroom-us"]["projectId"], "665a0b1c2d3e4f5a6b7c8e02")
    ]


def test_upload_script_uploads_without_releasing(emulator: EmulatorServer) -> None:
    """The CI upload script uploads with autoRelease false and prints only the upload id."""
    file_url = "https://builds.example.invalid/1.4.2.zip?X-Amz-Signature=abc123"
    env = {
        "PATH": "/usr/bin:/bin",
        "STREAMPIXEL_API_URL": emulator.base_url,
        "STREAMPIXEL_USER_ID": DEMO_USER_ID,
        "STREAMPIXEL_API_KEY": DEMO_API_KEY,
        "STREAMPIXEL_FILE_URL": file_url,
    }
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "github-actions" / "upload_build.py"),
            "--project-id",
            DEMO_PROJECT_ID,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    upload_id = done.stdout.strip()
    assert re.fullmatch(r"\S+", upload_id)
    upload = emulator.control.upload(upload_id)
    assert (upload["project_id"], upload["auto_release"]) == (DEMO_PROJECT_ID, False)
    assert emulator.control.project(DEMO_PROJECT_ID)["live_upload_id"] is None
    for secret in (DEMO_API_KEY, "abc123"):
        assert secret not in done.stdout + done.stderr


def _workflow(name: str) -> dict[Any, Any]:
    path = EXAMPLES / "github-actions" / name
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_release_workflow_previews_pull_requests_and_deploys_one_at_a_time() -> None:
    """Pull requests get a preview comment; pushes to main run up in one queue, never cancelled."""
    workflow = _workflow("release.yml")
    triggers = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1: `on` is True
    assert set(triggers) == {"pull_request", "push"}
    assert triggers["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    steps = {
        job: next(step for step in jobs[job]["steps"] if "pulumi/actions" in step.get("uses", ""))
        for job in ("preview", "deploy")
    }
    assert "pull_request" in jobs["preview"]["if"]
    assert steps["preview"]["with"]["command"] == "preview"
    assert steps["preview"]["with"]["comment-on-pr"] is True
    assert "push" in jobs["deploy"]["if"]
    assert steps["deploy"]["with"]["command"] == "up"
    assert jobs["deploy"]["concurrency"]["cancel-in-progress"] is False
    assert "STREAMPIXEL_API_KEY" not in str(jobs["preview"])


def test_upload_workflow_uploads_without_release_and_opens_a_pull_request() -> None:
    """The upload workflow runs the script, sets the stack's uploadId and opens a pull request."""
    workflow = _workflow("upload-build.yml")
    steps = workflow["jobs"]["upload"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "scripts/upload_build.py" in runs
    assert "pulumi config set" in runs
    assert "streampixel-quickstart:uploadId" in runs
    assert any("create-pull-request" in step.get("uses", "") for step in steps)
    assert workflow["jobs"]["upload"]["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("name", ["release.yml", "upload-build.yml"])
def test_workflows_take_every_credential_from_the_secret_store(name: str) -> None:
    """Keys, tokens and passphrases come from `secrets.`; no literal credential is written."""
    text = (EXAMPLES / "github-actions" / name).read_text(encoding="utf-8")
    assignments = re.findall(r"(\w*(?:TOKEN|API_KEY|PASSPHRASE)\w*):\s*(.+)", text)
    assert assignments
    for variable, value in assignments:
        assert value.strip().startswith("${{ secrets."), (variable, value)
    assert DEMO_API_KEY not in text
