"""The README, followed as far as this machine allows, so that it cannot drift from the code.

Fenced blocks preceded by ``<!-- readme-test: KIND -->`` are what the tests read. The
quickstart's set-up command has already run (it made this virtualenv). The emulator command is
started as written, as a real process, with ``--port`` (documented) set to a free port and
``--rate-limit-window`` shortened to the test's 1 s; the stack follows with
``streampixel:apiUrl`` and ``streampixel:rateLimitSeconds``, as the README says to do for another
port. Then every command of the walkthrough blocks runs in order: ``git`` for real in a copy of
the project, ``pulumi ...`` through the engine-protocol harness (there is no Pulumi CLI here).
A command the test does not know fails it, so the README can only show commands that are run.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from streampixel_pulumi import config as settings_module
from streampixel_pulumi.emulator.__main__ import DEFAULT_PORT, build_parser
from streampixel_pulumi.emulator.control import EmulatorControl
from streampixel_pulumi.emulator.demo import DEMO_API_KEY, DEMO_PROJECT_ID, DEMO_UPLOAD_IDS
from streampixel_pulumi.emulator.server import EmulatorServer
from streampixel_pulumi.resource import OUTPUT_KEYS
from tests.e2e.conftest import git
from tests.e2e.harness import Stack

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DEMO = REPO / "scripts" / "demo"
SETUP = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"'
DISTRIBUTE = "/projects/distribute-file"
TEST_WINDOW = "1"

_BLOCK = re.compile(r"<!-- readme-test: ([\w-]+) -->\n```\w*\n(.*?)```", re.DOTALL)


def readme_blocks(kind: str) -> list[list[str]]:
    """The command lines of every README block marked `kind`, in order."""
    text = README.read_text(encoding="utf-8")
    return [
        [line.strip() for line in body.splitlines() if line.strip()]
        for found_kind, body in _BLOCK.findall(text)
        if found_kind == kind
    ]


def readme_block(kind: str) -> list[str]:
    """The one README block marked `kind`."""
    blocks = readme_blocks(kind)
    assert len(blocks) == 1, f"README needs exactly one block marked {kind}"
    return blocks[0]


def documented_passphrase() -> str:
    """The passphrase the dev stack file says it was encrypted with."""
    found = re.search(
        r"passphrase of this stack: (\S+)", (REPO / "Pulumi.dev.yaml").read_text("utf-8")
    )
    assert found is not None
    return found[1]


def demo_assignments() -> dict[str, str]:
    """``NAME=value`` lines of scripts/demo (``${VAR:-default}`` gives the default)."""
    values = {}
    for name, raw in re.findall(r"^([A-Z_]+)=(\S+)", DEMO.read_text("utf-8"), re.MULTILINE):
        default = re.fullmatch(r'"\$\{\w+:-(.*)\}"', raw)
        values[name] = default[1] if default else raw.strip('"')
    return values


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _with_option(args: list[str], option: str, value: str) -> list[str]:
    """`args` with `option` set to `value` (replaced if present, else appended)."""
    if option in args:
        index = args.index(option)
        return [*args[: index + 1], value, *args[index + 2 :]]
    return [*args, option, value]


def _without_port(args: list[str]) -> list[str]:
    """`args` without a ``--port VALUE`` pair."""
    if "--port" not in args:
        return args
    index = args.index("--port")
    return [*args[:index], *args[index + 2 :]]


@dataclass
class RunningEmulator:
    """The README's emulator command, running as a process."""

    process: subprocess.Popen[str]
    url: str
    banner: list[str]

    @property
    def base_url(self) -> str:
        return f"{self.url}/pixelStripeApi"


@pytest.fixture
def readme_emulator() -> Iterator[RunningEmulator]:
    """Start the README's emulator command on a free port with the test's 1 s window."""
    command = shlex.split(readme_block("emulator")[0])
    assert command[0] == "streampixel-emulator"
    # The console script the set-up command installed next to this interpreter.
    script = Path(sys.executable).with_name("streampixel-emulator")
    assert script.exists(), "the set-up command installs the streampixel-emulator script"
    port = _free_port()
    args = _with_option(command[1:], "--port", str(port))
    args = _with_option(args, "--rate-limit-window", TEST_WINDOW)
    process = subprocess.Popen(
        [str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("STREAMPIXEL_")},
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    banner: list[str] = []
    deadline = time.monotonic() + 30
    try:
        while not any("Streampixel emulator on" in line for line in banner):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "the emulator exited:\n" + "\n".join(banner)
            banner.append(line)
        yield RunningEmulator(process, f"http://127.0.0.1:{port}", banner)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        reader.join(timeout=15)
        if process.stdout is not None:
            process.stdout.close()


@dataclass
class Walkthrough:
    """Runs README commands in a copy of the root project, like a shell with the Pulumi CLI."""

    directory: Path
    control: EmulatorControl
    cache_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    stack: Stack | None = None
    log: list[tuple[str, Any]] = field(default_factory=list)

    def run(self, line: str) -> None:
        """Run one README line; a trailing ``# value`` is the output it must print."""
        command, _, expected = line.partition(" #")
        words = shlex.split(command)
        if words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                self.env[name] = value
        elif words[0] == "git":
            git(self.directory, *words[1:])
        elif words[0] == "pulumi":
            self.pulumi(words[1:], expected.strip())
        else:
            pytest.fail(f"the README walkthrough runs {words[0]!r}, which this test cannot run")

    def current_stack(self) -> Stack:
        """The stack `pulumi stack init` created."""
        assert self.stack is not None, "`pulumi stack init` must come first"
        return self.stack

    def pulumi(self, args: list[str], expected: str) -> None:
        """What the Pulumi CLI would do for `args`, through the harness."""
        options = {arg for arg in args if arg.startswith("-")}
        words = [arg for arg in args if not arg.startswith("-")]
        assert options <= {"--yes", "--diff"}, options
        if words == ["stack", "init", "dev"]:
            assert self.stack is None, "the stack exists already"
            assert self.env.get("PULUMI_BACKEND_URL", "").startswith("file://")
            assert self.env.get("PULUMI_CONFIG_PASSPHRASE") == documented_passphrase()
            self.stack = Stack(
                self.directory, "dev", env={"STREAMPIXEL_CACHE_DIR": str(self.cache_dir)}
            )
        elif words == ["preview"]:
            before = len(self.control.requests())
            result = self.current_stack().preview()
            assert len(self.control.requests()) == before, "preview called Streampixel"
            self.log.append(("preview", result))
        elif words == ["up"]:
            assert "--yes" in options
            self.log.append(("up", self.current_stack().up()))
        elif words[:3] == ["config", "set", words[2]] and len(words) == 4:
            self.current_stack().config.set(words[2], words[3])
        elif words[:2] == ["stack", "output"] and len(words) == 3:
            value = self.current_stack().outputs("game").get(words[2])
            self.log.append(("output", (words[2], value)))
            assert str(value) == expected, f"`pulumi stack output {words[2]}`: {value}"
        else:
            pytest.fail(f"the README runs `pulumi {' '.join(args)}`, which this test cannot run")


def _prepare_project(directory: Path, emulator: RunningEmulator) -> None:
    """A git repository holding the root project, wired to the emulator the test started."""
    for relative in ("Pulumi.yaml", "Pulumi.dev.yaml", "examples/quickstart/__main__.py"):
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, target)
    stack = Stack(directory, "dev")
    assert stack.project == "streampixel-quickstart"
    # The public demo key, stored in the harness's encoding (the committed one needs the CLI).
    stack.config.set("streampixel:apiKey", DEMO_API_KEY, secret=True)
    stack.config.set("streampixel:apiUrl", emulator.base_url)
    stack.config.set("streampixel:rateLimitSeconds", TEST_WINDOW)
    stack.config.set("streampixel:progressSeconds", "1")
    git(directory, "init", "--quiet", "--initial-branch=main")
    git(directory, "add", ".")
    git(directory, "commit", "--quiet", "-m", "The quickstart project")


def test_readme_walkthrough_releases_and_rolls_back_against_the_emulator_it_starts(
    readme_emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The README's emulator command and walkthrough release, change and roll back for real."""
    first, second = DEMO_UPLOAD_IDS
    project = tmp_path / "project"
    _prepare_project(project, readme_emulator)
    with EmulatorControl(readme_emulator.url) as control:
        walkthrough = Walkthrough(project, control, tmp_path / "cache")
        for block in readme_blocks("walkthrough"):
            for line in block:
                walkthrough.run(line)

        calls = control.requests(DISTRIBUTE)
        assert [(call["status"], call["upload_id"]) for call in calls] == [
            (200, first),
            (200, second),
            (200, first),
        ]
        control.wait_for_live(DEMO_PROJECT_ID, first, timeout=20)

    stack = walkthrough.current_stack()
    outputs = stack.outputs("game")
    assert (outputs["action"], outputs["previous_upload_id"]) == ("rollback", second)
    assert [entry["upload_id"] for entry in outputs["history"]] == [first, second, first]
    kinds = [(kind, result.ops) for kind, result in walkthrough.log if kind != "output"]
    assert kinds == [
        ("preview", {"game": "create"}),
        ("up", {"game": "create"}),
        ("preview", {"game": "update"}),
        ("up", {"game": "update"}),
        ("preview", {"game": "update"}),
        ("up", {"game": "update"}),
    ]
    # The progress lines the README shows are the provider's.
    text = README.read_text(encoding="utf-8")
    shown = re.findall(r"^streampixel: project .*(?:distributing|triggered).*$", text, re.M)
    assert shown
    for line in shown:
        assert line in stack.lines
    assert not any(DEMO_API_KEY in line for line in stack.lines)


def test_readme_quickstart_is_the_setup_command_then_the_demo() -> None:
    """The quickstart is two commands: the CI's set-up command, then scripts/demo."""
    assert readme_block("quickstart") == [SETUP, "scripts/demo"]
    assert readme_block("setup") == [SETUP]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m venv .venv" in ci
    assert ". .venv/bin/activate" in ci
    assert re.search(r'pip install [^\n]*-e "\.\[dev\]"', ci)


def test_readme_test_command_is_the_ci_test_command() -> None:
    """The README's test command is the one .ci/run runs."""
    assert readme_block("tests") == ["python -m pytest"]
    assert "\npython -m pytest\n" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_rollback_section_repeats_the_walkthrough_rollback() -> None:
    """The rollback section's commands are the walkthrough's, and its preview matches them."""
    rollback = readme_block("rollback")
    walkthrough = [
        line.partition(" #")[0].strip() for b in readme_blocks("walkthrough") for line in b
    ]
    starts = [i for i, line in enumerate(walkthrough) if line == rollback[0]]
    assert any(walkthrough[i : i + len(rollback)] == rollback for i in starts)
    first, second = DEMO_UPLOAD_IDS
    text = README.read_text(encoding="utf-8")
    assert f'~ upload_id: "{second}" => "{first}"' in text
    assert f"[id={DEMO_PROJECT_ID}]" in text


def test_readme_documents_every_setting_and_its_environment_variable() -> None:
    """Each stack config key the provider reads is in the README with its variable."""
    text = README.read_text(encoding="utf-8")
    keys = [
        value for value in vars(settings_module).values() if isinstance(value, settings_module.Key)
    ]
    assert {key.stack for key in keys} == set(settings_module.STACK_KEYS)
    for key in keys:
        assert re.search(rf"`{key.stack}`.*\| `{key.env}` \|", text), key


def test_readme_documents_every_output() -> None:
    """Each output of BuildRelease appears in the README's output table."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| output | meaning |") :]
    for key in OUTPUT_KEYS:
        assert f"`{key}`" in table, key


def test_demo_without_pulumi_says_how_to_install_it_and_fails(tmp_path: Path) -> None:
    """scripts/demo exits non-zero with install instructions when no pulumi is on PATH."""
    path = os.pathsep.join(
        directory
        for directory in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
        if directory and not (Path(directory) / "pulumi").exists()
    )
    before = (REPO / "Pulumi.dev.yaml").read_bytes()
    done = subprocess.run(
        [str(DEMO)],
        env={"PATH": path, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "curl -fsSL https://get.pulumi.com | sh" in done.stderr
    assert "then run scripts/demo again" in done.stderr
    assert done.stdout == ""
    assert (REPO / "Pulumi.dev.yaml").read_bytes() == before
    assert list(tmp_path.iterdir()) == []


def test_demo_uses_the_dev_stack_and_readme_values() -> None:
    """scripts/demo's port, passphrase, ids and emulator flags are those of the stack and README."""
    values = demo_assignments()
    config = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text(encoding="utf-8"))["config"]
    assert int(values["PORT"]) == DEFAULT_PORT
    assert config["streampixel:apiUrl"] == f"http://127.0.0.1:{values['PORT']}/pixelStripeApi"
    assert values["PASSPHRASE"] == documented_passphrase()
    assert values["PROJECT_ID"] == config["streampixel-quickstart:projectId"] == DEMO_PROJECT_ID
    assert (values["FIRST_UPLOAD"], values["SECOND_UPLOAD"]) == DEMO_UPLOAD_IDS
    assert values["FIRST_UPLOAD"] == config["streampixel-quickstart:uploadId"]
    assert values["UPLOAD_KEY"] == "streampixel-quickstart:uploadId"
    emulator = re.search(r"^EMULATOR=\((.*)\)$", DEMO.read_text("utf-8"), re.MULTILINE)
    assert emulator is not None
    demo_args = shlex.split(emulator[1])
    assert demo_args[0] == ".venv/bin/streampixel-emulator"
    readme_args = shlex.split(readme_block("emulator")[0])[1:]
    assert _without_port(demo_args[1:]) == _without_port(readme_args)


_FAKE_PULUMI = """\
import json, os, pathlib, sys
with open(os.environ["FAKE_PULUMI_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({
        "args": sys.argv[1:],
        "cwd": os.getcwd(),
        "backend": os.environ.get("PULUMI_BACKEND_URL", ""),
        "passphrase": os.environ.get("PULUMI_CONFIG_PASSPHRASE", ""),
        "cache": os.environ.get("STREAMPIXEL_CACHE_DIR", ""),
    }) + "\\n")
if sys.argv[1:3] == ["config", "set"]:  # the real CLI rewrites the stack file
    stack = pathlib.Path("Pulumi.dev.yaml")
    stack.write_text(stack.read_text(encoding="utf-8") + "# changed by the demo\\n", "utf-8")
if sys.argv[1:3] == ["stack", "output"]:
    print("{}")
"""


def test_demo_runs_its_steps_around_the_emulator_and_restores_the_stack(tmp_path: Path) -> None:
    """With a recording `pulumi`, the demo starts the emulator, runs its steps, cleans up."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(f"#!{sys.executable}\n{_FAKE_PULUMI}", encoding="utf-8")
    fake.chmod(0o755)
    log = tmp_path / "pulumi.log"
    port = _free_port()
    before = (REPO / "Pulumi.dev.yaml").read_bytes()
    path = os.pathsep.join(
        [str(bin_dir)]
        + [
            directory
            for directory in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if directory and not (Path(directory) / "pulumi").exists()
        ]
    )
    (tmp_path / "tmp").mkdir()
    done = subprocess.run(
        [str(DEMO)],
        env={
            "PATH": path,
            "HOME": str(tmp_path),
            "TMPDIR": str(tmp_path / "tmp"),
            "DEMO_PORT": str(port),
            "FAKE_PULUMI_LOG": str(log),
        },
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    first, second = DEMO_UPLOAD_IDS
    assert [" ".join(call["args"]) for call in calls] == [
        "stack init dev --non-interactive",
        f"config set streampixel:apiUrl http://127.0.0.1:{port}/pixelStripeApi",
        "preview --diff --non-interactive",
        "up --yes --diff --non-interactive",
        f"config set streampixel-quickstart:uploadId {second}",
        "preview --diff --non-interactive",
        "up --yes --diff --non-interactive",
        f"config set streampixel-quickstart:uploadId {first}",
        "preview --diff --non-interactive",
        "up --yes --diff --non-interactive",
        "stack output --json",
        "destroy --yes --non-interactive",
    ]
    for call in calls:
        assert Path(call["cwd"]) == REPO
        assert call["backend"].startswith(f"file://{tmp_path / 'tmp'}")
        assert call["passphrase"] == documented_passphrase()
        assert call["cache"].startswith(str(tmp_path / "tmp"))
    assert "Streampixel (emulator): live upload None" in done.stdout
    # Stopped, restored, removed: the port is free, the stack file as committed, no temp dir.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert (REPO / "Pulumi.dev.yaml").read_bytes() == before
    assert list((tmp_path / "tmp").iterdir()) == []


def _section(title: str) -> str:
    """The README's text from heading `## title` to the next level-2 heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_emulator_flags_are_the_emulators() -> None:
    """Every flag the README's emulator section names is one the emulator accepts."""
    known = {option for action in build_parser()._actions for option in action.option_strings}
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", _section("Emulator")))
    assert named
    assert named <= known, named - known


def test_readme_inspection_endpoints_answer(emulator: EmulatorServer) -> None:
    """Each GET endpoint in the README's emulator table answers 200 on a running emulator."""
    paths = re.findall(r"^\| `(?:GET|GET`, `PUT) (/_emulator/[^`]*)`", _section("Emulator"), re.M)
    assert len(paths) >= 6
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        for path in paths:
            concrete = path.replace("/projects/{id}", f"/projects/{DEMO_PROJECT_ID}").replace(
                "/uploads/{id}", f"/uploads/{DEMO_UPLOAD_IDS[0]}"
            )
            assert client.get(concrete).status_code == 200, path


def test_readme_program_excerpt_is_the_quickstart_program() -> None:
    """The program the README shows is taken line by line from examples/quickstart."""
    program = (REPO / "examples" / "quickstart" / "__main__.py").read_text(encoding="utf-8")
    program_lines = {line.strip() for line in program.splitlines()}
    excerpt = [line for line in readme_block("program") if not line.startswith("#")]
    assert "from streampixel_pulumi import BuildRelease" in excerpt
    for line in excerpt:
        assert line in program_lines, line
