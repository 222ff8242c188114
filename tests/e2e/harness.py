"""Engine-protocol harness: drive ``python -m pulumi.dynamic`` the way the Pulumi engine does.

No Pulumi CLI can run here, so this module reproduces what the engine does for ``preview``,
``up``, ``refresh`` and ``destroy`` (shared/pulumi-dynamic-providers.md) against the real
provider process, over gRPC, keeping a stack's state between commands like the engine:

- the program runs in a subprocess under ``set_mocks`` (program_runner.py), with its working
  directory set to the program directory and the config of ``Pulumi.<stack>.yaml``;
- each command (and the preview pass of ``up``) starts a fresh provider process with the
  program directory as working directory, reads its port from the first stdout line, calls
  GetPluginInfo and Configure (the whole stack config as plaintext strings) and then
  Check/Diff/Create/Update/Read/Delete as the engine would;
- secrets are stripped before anything reaches the provider (it answers acceptSecrets=False),
  and an output is secret when the input of the same top-level key was;
- ``olds`` in Diff/Update are the previous outputs; Read and Delete get the ``__provider``
  from state; a failed Create records nothing and a failed Update keeps the old state.

Everything the provider printed is kept (`OperationResult.lines`, `Stack.lines`) so tests can
assert on progress lines and on the absence of secrets. Resources are treated as independent:
mutating steps of one command run concurrently (``parallel`` workers), as the engine does for
resources without dependencies; deletions run afterwards, newest first.

Usage (see tests/e2e/conftest.py for the `make_stack` fixture that does the first lines)::

    stack = Stack(copy_program("release", tmp_path / "p"), "dev",
                  env={"STREAMPIXEL_CACHE_DIR": str(tmp_path / "cache")})
    stack.config.set("streampixel:apiUrl", emulator.base_url)
    stack.config.set("streampixel:apiKey", key, secret=True)
    stack.preview().ops            # {"release": "create"}: Check only, nothing sent
    stack.up()                     # preview pass, then Check/Diff/Create
    stack.config.set("uploadId", other)
    stack.up().ops                 # {"release": "update"}
    stack.outputs("release")       # plaintext outputs, without __provider
    stack.refresh(); stack.destroy()

A failing command raises OperationFailed (its `.result` and `.errors`: ProviderError with the
provider's traceback in `.details`, `.error_type` and `.message`, or CheckFailed).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.e2e.program_runner import SECURE_PREFIX, config_string, load_stack_config

__all__ = [
    "PROGRAMS",
    "UNKNOWN",
    "CheckFailed",
    "CheckOutcome",
    "DiffOutcome",
    "HarnessError",
    "OperationFailed",
    "OperationResult",
    "ProviderError",
    "ProviderProcess",
    "ReadOutcome",
    "Registration",
    "ResourceState",
    "Stack",
    "StackConfig",
    "Step",
    "copy_program",
    "is_secret",
    "reveal",
    "run_program",
    "secret",
]

PROGRAMS = Path(__file__).parent / "programs"
RUNNER = Path(__file__).parent / "program_runner.py"
PROVIDER_KEY = "__provider"
UNKNOWN = rpc.UNKNOWN
_SIG_KEY = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc._special_sig_key
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # pulumi.runtime.rpc._special_secret_sig
_STACK_PREFIX = "pulumi:pulumi:Stack$"


# --------------------------------------------------------------------------------- secrets
def secret(value: Any) -> dict[str, Any]:
    """Wrap a value the way the engine marks a secret property."""
    return {_SIG_KEY: _SECRET_SIG, "value": value}


def is_secret(value: Any) -> bool:
    """Whether `value` is a wrapped secret."""
    return isinstance(value, dict) and value.get(_SIG_KEY) == _SECRET_SIG


def reveal(value: Any) -> tuple[Any, bool]:
    """Strip secret wrappers anywhere in `value`: (plaintext, whether any was found)."""
    if is_secret(value):
        return reveal(value["value"])[0], True
    if isinstance(value, dict):
        found = False
        plain: dict[str, Any] = {}
        for key, item in value.items():
            plain[key], inner = reveal(item)
            found = found or inner
        return plain, found
    if isinstance(value, list):
        items = [reveal(item) for item in value]
        return [item for item, _ in items], any(inner for _, inner in items)
    return value, False


def _reveal_properties(props: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    plain: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in props.items():
        plain[key], found = reveal(value)
        if found:
            secret_keys.add(key)
    return plain, frozenset(secret_keys)


def _serialize(props: Mapping[str, Any]) -> Any:
    """A property bag as the protobuf Struct the engine sends."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
    finally:
        loop.close()


def _deserialize(struct: Any) -> dict[str, Any]:
    result = rpc.deserialize_properties(struct, keep_unknowns=True)
    return dict(result) if result else {}


# ---------------------------------------------------------------------------------- errors
class HarnessError(Exception):
    """Base class of the harness's own errors."""


class ProviderError(HarnessError):
    """The provider answered a gRPC call with an error (its details hold the traceback)."""

    def __init__(self, method: str, urn: str, code: grpc.StatusCode, details: str) -> None:
        self.method = method
        self.urn = urn
        self.code = code
        self.details = details or ""
        last = next(
            (line for line in reversed(self.details.splitlines()) if line.strip()),
            "",
        )
        kind, _, message = last.partition(": ")
        #: dotted exception type raised in the provider, e.g. streampixel_pulumi.errors.AuthError
        self.error_type = kind.strip()
        #: the exception's message (the traceback's last line without the type)
        self.message = message.strip() if message else last.strip()
        super().__init__(f"{method} {urn}: {last or code}")


class CheckFailed(HarnessError):
    """Check returned failures for a resource; `failures` are (property, reason) pairs."""

    def __init__(self, urn: str, failures: list[tuple[str, str]]) -> None:
        self.urn = urn
        self.failures = failures
        text = "; ".join(f"{prop}: {reason}" for prop, reason in failures)
        super().__init__(f"check failed for {urn}: {text}")


class OperationFailed(HarnessError):
    """A command failed; `result` has the steps done, `errors` what went wrong."""

    def __init__(self, result: OperationResult) -> None:
        self.result = result
        self.errors = result.errors
        super().__init__(
            f"{result.command} failed: " + " | ".join(str(error) for error in result.errors)
        )


# --------------------------------------------------------------------------- stack config
class StackConfig:
    """``Pulumi.<stack>.yaml`` of a program directory, read and written like the CLI does.

    Keys without a namespace get the project's. Secrets are stored as
    ``{"secure": "harness:<base64>"}``: hidden from a casual read, not encryption.
    """

    def __init__(self, program_dir: Path, project: str, stack: str) -> None:
        self.path = program_dir / f"Pulumi.{stack}.yaml"
        self.program_dir = program_dir
        self.project = project
        self.stack = stack

    def _key(self, key: str) -> str:
        return key if ":" in key else f"{self.project}:{key}"

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"config": {}}
        document = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        document.setdefault("config", {})
        if document["config"] is None:
            document["config"] = {}
        return dict(document)

    def _save(self, document: dict[str, Any]) -> None:
        self.path.write_text(yaml.safe_dump(document, sort_keys=True), encoding="utf-8")

    def set(self, key: str, value: Any, *, secret: bool = False) -> None:
        """Set one key (like ``pulumi config set [--secret]``); objects are kept structured."""
        document = self._load()
        if secret:
            encoded = base64.b64encode(config_string(value).encode("utf-8")).decode("ascii")
            document["config"][self._key(key)] = {"secure": SECURE_PREFIX + encoded}
        else:
            document["config"][self._key(key)] = value
        self._save(document)

    def remove(self, key: str) -> None:
        """Remove one key (like ``pulumi config rm``)."""
        document = self._load()
        document["config"].pop(self._key(key), None)
        self._save(document)

    def values(self) -> dict[str, str]:
        """Every key (namespaced) to its plaintext string, as the engine passes config."""
        return load_stack_config(self.program_dir, self.project, self.stack)[0]

    def secret_keys(self) -> list[str]:
        """The keys stored as secrets."""
        return load_stack_config(self.program_dir, self.project, self.stack)[1]

    def raw_text(self) -> str:
        """The file's text (what a reviewer sees in a pull request)."""
        return self.path.read_text(encoding="utf-8")


def copy_program(name: str, dest: Path) -> Path:
    """Copy tests/e2e/programs/<name> to `dest` (created) and return it."""
    shutil.copytree(PROGRAMS / name, dest, dirs_exist_ok=True)
    return dest


def _project_name(program_dir: Path) -> str:
    document = yaml.safe_load((program_dir / "Pulumi.yaml").read_text(encoding="utf-8"))
    return str(document["name"])


# ---------------------------------------------------------------------------- programs
@dataclass
class Registration:
    """One resource the program registered: raw inputs (secrets wrapped) and options."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    options: dict[str, Any]

    @property
    def provider_blob(self) -> str:
        """The pickled provider (``__provider``), unwrapped if secret."""
        return str(reveal(self.inputs[PROVIDER_KEY])[0])


def _clean_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The caller's environment without STREAMPIXEL_* and PULUMI_* variables, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STREAMPIXEL_", "PULUMI_"))
    }
    env.update(extra or {})
    return env


def run_program(
    program_dir: Path,
    stack: str = "dev",
    *,
    preview: bool = False,
    env: Mapping[str, str] | None = None,
    python: str = sys.executable,
    timeout: float = 60.0,
) -> list[Registration]:
    """Run the program in a subprocess (cwd = `program_dir`) and return its registrations."""
    with tempfile.TemporaryDirectory(prefix="regs-") as scratch:
        out = Path(scratch) / "regs.json"
        command = [python, str(RUNNER), "--stack", stack, "--out", str(out)]
        if preview:
            command.append("--preview")
        done = subprocess.run(
            command,
            cwd=program_dir,
            env=_clean_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            msg = f"program {program_dir} failed (exit {done.returncode}):\n{done.stderr}"
            raise HarnessError(msg)
        data = json.loads(out.read_text(encoding="utf-8"))
    registrations = []
    for item in data["resources"]:
        urn = str(item["urn"]).replace(_STACK_PREFIX, "")
        registrations.append(
            Registration(
                urn=urn,
                type=item["type"],
                name=item["name"],
                custom=item["custom"],
                inputs=item["inputs"],
                options=item["options"],
            )
        )
    return registrations


# ---------------------------------------------------------------------- provider process
@dataclass
class CheckOutcome:
    """What Check answered: the inputs to use and (property, reason) failures."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


@dataclass
class DiffOutcome:
    """What Diff answered; `changes` is "some", "none" or "unknown"."""

    changes: str
    replaces: list[str]
    delete_before_replace: bool


@dataclass
class ReadOutcome:
    """What Read answered: the id ("" = gone), outputs and optional new inputs."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None


_CHANGES = {
    provider_pb2.DiffResponse.DIFF_SOME: "some",
    provider_pb2.DiffResponse.DIFF_NONE: "none",
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
}


class ProviderProcess:
    """One ``python -u -m pulumi.dynamic`` process and its gRPC stub.

    Args:
        cwd: working directory (the program directory, as the engine uses).
        env: the complete environment of the process.
        python: the interpreter (the program's virtualenv).
        call_timeout: seconds allowed for each gRPC call.
    """

    def __init__(
        self,
        cwd: Path,
        env: Mapping[str, str],
        *,
        python: str = sys.executable,
        call_timeout: float = 120.0,
    ) -> None:
        self.call_timeout = call_timeout
        self.output: list[tuple[str, str]] = []
        self._output_lock = threading.Lock()
        self._port: int | None = None
        self._port_ready = threading.Event()
        self._process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.dynamic"],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._drains = [
            threading.Thread(target=self._drain, args=("stdout",), daemon=True),
            threading.Thread(target=self._drain, args=("stderr",), daemon=True),
        ]
        for drain in self._drains:
            drain.start()
        self._channel: grpc.Channel | None = None
        self._stub: Any = None

    def _drain(self, name: str) -> None:
        stream = self._process.stdout if name == "stdout" else self._process.stderr
        assert stream is not None
        for raw in stream:
            line = raw.rstrip("\n")
            if name == "stdout" and self._port is None:
                self._port = int(line.strip())
                self._port_ready.set()
                continue
            with self._output_lock:
                self.output.append((name, line))
        if name == "stdout":
            self._port_ready.set()

    def connect(self, timeout: float = 30.0) -> None:
        """Wait for the port line and open the gRPC channel."""
        if not self._port_ready.wait(timeout) or self._port is None:
            self.close()
            msg = f"provider process gave no port within {timeout:g} s:\n{self.text}"
            raise HarnessError(msg)
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self._port}")
        grpc.channel_ready_future(self._channel).result(timeout=timeout)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    @property
    def lines(self) -> list[str]:
        """Everything printed after the port line, both streams, in arrival order."""
        with self._output_lock:
            return [line for _, line in self.output]

    @property
    def stderr_lines(self) -> list[str]:
        with self._output_lock:
            return [line for name, line in self.output if name == "stderr"]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def _call(self, method: str, urn: str, request: Any) -> Any:
        if self._stub is None:
            self.connect()
        try:
            return getattr(self._stub, method)(request, timeout=self.call_timeout)
        except grpc.RpcError as error:
            raise ProviderError(method, urn, error.code(), error.details() or "") from None

    def get_plugin_info(self) -> str:
        """GetPluginInfo; returns the version."""
        from google.protobuf import empty_pb2

        return str(self._call("GetPluginInfo", "", empty_pb2.Empty()).version)

    def configure(self, config: Mapping[str, str]) -> bool:
        """Configure with the stack config (plaintext strings); returns acceptSecrets."""
        request = provider_pb2.ConfigureRequest(
            variables=dict(config),
            args=_serialize(config),
            acceptSecrets=True,
            acceptResources=True,
        )
        return bool(self._call("Configure", "", request).acceptSecrets)

    def check(
        self, urn: str, type_: str, name: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> CheckOutcome:
        """Check(olds = previous inputs, news = program inputs)."""
        request = provider_pb2.CheckRequest(
            urn=urn, name=name, type=type_, olds=_serialize(olds), news=_serialize(news)
        )
        response = self._call("Check", urn, request)
        failures = [(f.property, f.reason) for f in response.failures]
        return CheckOutcome(_deserialize(response.inputs), failures)

    def diff(
        self,
        urn: str,
        type_: str,
        name: str,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any],
    ) -> DiffOutcome:
        """Diff(olds = previous OUTPUTS, news = checked inputs)."""
        request = provider_pb2.DiffRequest(
            id=id_,
            urn=urn,
            name=name,
            type=type_,
            olds=_serialize(olds),
            news=_serialize(news),
            old_inputs=_serialize(old_inputs),
        )
        response = self._call("Diff", urn, request)
        return DiffOutcome(
            _CHANGES[response.changes], list(response.replaces), response.deleteBeforeReplace
        )

    def create(
        self, urn: str, type_: str, name: str, props: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Create(properties = checked inputs); returns (id, outputs)."""
        request = provider_pb2.CreateRequest(
            urn=urn, name=name, type=type_, properties=_serialize(props)
        )
        response = self._call("Create", urn, request)
        return response.id, _deserialize(response.properties)

    def update(
        self,
        urn: str,
        type_: str,
        name: str,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Update(olds = previous outputs, news = checked inputs); returns outputs."""
        request = provider_pb2.UpdateRequest(
            id=id_,
            urn=urn,
            name=name,
            type=type_,
            olds=_serialize(olds),
            news=_serialize(news),
            old_inputs=_serialize(old_inputs),
        )
        return _deserialize(self._call("Update", urn, request).properties)

    def read(
        self,
        urn: str,
        type_: str,
        name: str,
        id_: str,
        props: Mapping[str, Any],
        inputs: Mapping[str, Any],
    ) -> ReadOutcome:
        """Read(properties = previous outputs, inputs = previous inputs)."""
        request = provider_pb2.ReadRequest(
            id=id_,
            urn=urn,
            name=name,
            type=type_,
            properties=_serialize(props),
            inputs=_serialize(inputs),
        )
        response = self._call("Read", urn, request)
        new_inputs = _deserialize(response.inputs) if response.HasField("inputs") else None
        return ReadOutcome(response.id, _deserialize(response.properties), new_inputs or None)

    def delete(
        self,
        urn: str,
        type_: str,
        name: str,
        id_: str,
        props: Mapping[str, Any],
        old_inputs: Mapping[str, Any],
    ) -> None:
        """Delete(properties = previous outputs, with the ``__provider`` from state)."""
        request = provider_pb2.DeleteRequest(
            id=id_,
            urn=urn,
            name=name,
            type=type_,
            properties=_serialize(props),
            old_inputs=_serialize(old_inputs),
        )
        self._call("Delete", urn, request)

    def close(self) -> None:
        """Stop the process (the engine kills its plugins) and collect its output."""
        if self._channel is not None:
            self._channel.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        for drain in self._drains:
            drain.join(timeout=10)
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------ engine model
@dataclass
class ResourceState:
    """A resource in the stack's state: inputs and outputs as plaintext, plus secret keys."""

    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    secret_inputs: frozenset[str] = frozenset()
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def secret_outputs(self) -> frozenset[str]:
        """Output keys the engine stores as secrets (same key as a secret input)."""
        extra = set(self.options.get("additionalSecretOutputs") or ())
        return frozenset(key for key in self.outputs if key in self.secret_inputs or key in extra)

    @property
    def plain_outputs(self) -> dict[str, Any]:
        """The outputs without ``__provider``."""
        return {key: value for key, value in self.outputs.items() if key != PROVIDER_KEY}


@dataclass
class Step:
    """One resource's step in a command: op is create, update, replace, same, delete, read."""

    op: str
    urn: str
    name: str
    changes: str | None = None
    replaces: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    error: BaseException | None = None


@dataclass
class OperationResult:
    """A command's outcome: its steps, provider output lines and errors."""

    command: str
    preview: bool
    steps: list[Step] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    @property
    def ops(self) -> dict[str, str]:
        """Resource name -> op (the last step for each name)."""
        return {step.name: step.op for step in self.steps}

    @property
    def text(self) -> str:
        """Every provider output line, joined."""
        return "\n".join(self.lines)


class Stack:
    """A program directory plus a stack's state, driven command by command like the CLI.

    Args:
        program_dir: the program (``Pulumi.yaml``, ``__main__.py``, ``Pulumi.<stack>.yaml``).
        stack: the stack name.
        env: environment variables for the program and the provider processes (the
            harness removes STREAMPIXEL_* and PULUMI_* from its own environment first);
            mutable between commands through `env`.
        parallel: how many mutating steps may run at once (the CLI's ``--parallel``).
    """

    def __init__(
        self,
        program_dir: Path,
        stack: str = "dev",
        *,
        env: Mapping[str, str] | None = None,
        parallel: int = 10,
        python: str = sys.executable,
    ) -> None:
        self.program_dir = program_dir
        self.stack = stack
        self.env: dict[str, str] = dict(env or {})
        self.parallel = parallel
        self.python = python
        self.project = _project_name(program_dir)
        self.config = StackConfig(program_dir, self.project, stack)
        self.state: dict[str, ResourceState] = {}
        self.pending_deletes: list[ResourceState] = []
        self.results: list[OperationResult] = []
        self.lines: list[str] = []
        self._lock = threading.Lock()

    # --------------------------------------------------------------------- inspection
    def resource(self, name: str) -> ResourceState:
        """The state of the resource called `name`."""
        for state in self.state.values():
            if state.name == name:
                return state
        msg = f"no resource {name!r} in state (have {[s.name for s in self.state.values()]})"
        raise KeyError(msg)

    def outputs(self, name: str) -> dict[str, Any]:
        """Plaintext outputs of `name` without ``__provider``."""
        return self.resource(name).plain_outputs

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the state, for before/after comparisons."""
        return copy.deepcopy(
            {
                urn: (s.id, s.inputs, s.outputs, sorted(s.secret_inputs))
                for urn, s in self.state.items()
            }
        )

    # --------------------------------------------------------------------- processes
    def registrations(self, *, preview: bool = False) -> list[Registration]:
        """Run the program once and return what it registers."""
        return run_program(
            self.program_dir, self.stack, preview=preview, env=self.env, python=self.python
        )

    @contextlib.contextmanager
    def _provider(self, result: OperationResult) -> Iterator[ProviderProcess]:
        process = ProviderProcess(self.program_dir, _clean_env(self.env), python=self.python)
        try:
            process.connect()
            process.get_plugin_info()
            process.configure(self.config.values())
            yield process
        finally:
            process.close()
            result.lines.extend(process.lines)
            with self._lock:
                self.lines.extend(process.lines)

    def _finish(self, result: OperationResult) -> OperationResult:
        self.results.append(result)
        if result.errors:
            raise OperationFailed(result)
        return result

    # ----------------------------------------------------------------------- commands
    def preview(
        self, *, transform: Callable[[list[Registration]], list[Registration]] | None = None
    ) -> OperationResult:
        """``pulumi preview``: Check for new resources, Check and Diff for existing ones."""
        result = OperationResult("preview", preview=True)
        self._deploy(result, transform)
        return self._finish(result)

    def up(
        self,
        *,
        skip_preview: bool = False,
        transform: Callable[[list[Registration]], list[Registration]] | None = None,
    ) -> OperationResult:
        """``pulumi up``: a preview pass (own process), then Check/Diff and the changes.

        `transform` may edit the registrations before use (e.g. to make a value unknown).
        """
        if not skip_preview:
            self.preview(transform=transform)
        result = OperationResult("up", preview=False)
        self._deploy(result, transform)
        return self._finish(result)

    def refresh(self, *, skip_preview: bool = False) -> OperationResult:
        """``pulumi refresh``: Read each resource, then Diff (olds/news swapped) for drift."""
        if not skip_preview:
            self._finish(self._refresh(preview=True))
        return self._finish(self._refresh(preview=False))

    def destroy(self, *, skip_preview: bool = False) -> OperationResult:
        """``pulumi destroy``: Delete every resource, the provider unpickled from state."""
        if not skip_preview:
            preview = OperationResult("destroy-preview", preview=True)
            for state in reversed(list(self.state.values())):
                preview.steps.append(Step("delete", state.urn, state.name))
            self._finish(preview)
        result = OperationResult("destroy", preview=False)
        with self._provider(result) as process:
            for state in [*reversed(list(self.state.values())), *self.pending_deletes]:
                self._delete(process, result, state)
        return self._finish(result)

    # ------------------------------------------------------------------------ engine
    def _deploy(
        self,
        result: OperationResult,
        transform: Callable[[list[Registration]], list[Registration]] | None,
    ) -> None:
        preview = result.preview
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            # The engine starts the provider while the program runs; so does the harness.
            program = pool.submit(self.registrations, preview=preview)
            with self._provider(result) as process:
                try:
                    registrations = program.result()
                except HarnessError as error:
                    result.errors.append(error)
                    return
                if transform is not None:
                    registrations = transform(registrations)
                plans = [self._plan(process, result, reg) for reg in registrations]
                seen = {reg.urn for reg in registrations}
                removed = [s for urn, s in self.state.items() if urn not in seen]
                for state in reversed(removed):
                    result.steps.append(Step("delete", state.urn, state.name))
                if preview:
                    return
                self._apply(process, result, [plan for plan in plans if plan is not None])
                for state in [*self.pending_deletes, *reversed(removed)]:
                    self._delete(process, result, state)

    def _plan(
        self, process: ProviderProcess, result: OperationResult, reg: Registration
    ) -> tuple[Step, Registration, dict[str, Any], frozenset[str]] | None:
        old = self.state.get(reg.urn)
        raw = dict(reg.inputs)
        if old is not None:
            for key in reg.options.get("ignoreChanges") or ():
                if key in old.inputs:
                    raw[key] = old.inputs[key]
        news, secret_keys = _reveal_properties(raw)
        try:
            checked = process.check(reg.urn, reg.type, reg.name, old.inputs if old else {}, news)
            if checked.failures:
                raise CheckFailed(reg.urn, checked.failures)
            if old is None:
                step = Step("create", reg.urn, reg.name)
            else:
                diff = process.diff(
                    reg.urn, reg.type, reg.name, old.id, old.outputs, checked.inputs, old.inputs
                )
                changes = diff.changes
                if changes == "unknown":
                    # The engine then compares old and new inputs itself, __provider included.
                    changes = "some" if old.inputs != checked.inputs else "none"
                # replaceOnChanges needs a detailed diff, which dynamic providers never send.
                replaces = list(diff.replaces)
                if changes == "some" and replaces:
                    op = "replace"
                elif changes == "some":
                    op = "update"
                else:
                    op = "same"
                step = Step(
                    op,
                    reg.urn,
                    reg.name,
                    changes=diff.changes,
                    replaces=replaces,
                    delete_before_replace=bool(
                        diff.delete_before_replace or reg.options.get("deleteBeforeReplace")
                    ),
                )
        except (ProviderError, CheckFailed) as error:
            result.steps.append(Step("failed", reg.urn, reg.name, error=error))
            result.errors.append(error)
            return None
        result.steps.append(step)
        return step, reg, checked.inputs, secret_keys

    def _apply(
        self,
        process: ProviderProcess,
        result: OperationResult,
        plans: list[tuple[Step, Registration, dict[str, Any], frozenset[str]]],
    ) -> None:
        replaced: list[ResourceState] = []

        def run(plan: tuple[Step, Registration, dict[str, Any], frozenset[str]]) -> None:
            step, reg, inputs, secret_keys = plan
            old = self.state.get(reg.urn)
            if step.op == "replace" and step.delete_before_replace and old is not None:
                self._delete(process, result, old)
                if reg.urn in self.state:  # the delete failed: no create either
                    return
                old = None
            try:
                if step.op in ("create", "replace"):
                    id_, outputs = process.create(reg.urn, reg.type, reg.name, inputs)
                elif step.op == "update":
                    assert old is not None
                    outputs = process.update(
                        reg.urn, reg.type, reg.name, old.id, old.outputs, inputs, old.inputs
                    )
                    id_ = old.id
                else:
                    assert old is not None
                    id_, outputs = old.id, old.outputs
            except ProviderError as error:
                step.error = error
                with self._lock:
                    result.errors.append(error)
                return
            new = ResourceState(
                reg.urn, reg.type, reg.name, id_, inputs, outputs, secret_keys, reg.options
            )
            with self._lock:
                if step.op == "replace" and old is not None:
                    replaced.append(old)
                self.state[reg.urn] = new

        with concurrent.futures.ThreadPoolExecutor(max(1, self.parallel)) as pool:
            list(pool.map(run, plans))
        # Create-before-delete: the replaced resources go once the new ones exist.
        self.pending_deletes.extend(replaced)

    def _delete(
        self, process: ProviderProcess, result: OperationResult, state: ResourceState
    ) -> None:
        step = Step("delete", state.urn, state.name)
        result.steps.append(step)
        try:
            process.delete(state.urn, state.type, state.name, state.id, state.outputs, state.inputs)
        except ProviderError as error:
            step.error = error
            result.errors.append(error)
            return
        with self._lock:
            if state in self.pending_deletes:
                self.pending_deletes.remove(state)
            elif self.state.get(state.urn) is state:
                del self.state[state.urn]

    def _refresh(self, *, preview: bool) -> OperationResult:
        result = OperationResult("refresh-preview" if preview else "refresh", preview=preview)
        with self._provider(result) as process:
            for urn, state in list(self.state.items()):
                step = Step("read", urn, state.name)
                result.steps.append(step)
                try:
                    read = process.read(
                        urn, state.type, state.name, state.id, state.outputs, state.inputs
                    )
                    if not read.id:
                        step.op = "deleted"
                        if not preview:
                            del self.state[urn]
                        continue
                    inputs = read.inputs if read.inputs is not None else state.inputs
                    diff = process.diff(
                        urn, state.type, state.name, read.id, read.outputs, inputs, state.inputs
                    )
                except ProviderError as error:
                    step.error = error
                    result.errors.append(error)
                    continue
                step.changes = diff.changes
                step.replaces = diff.replaces
                if not preview:
                    self.state[urn] = ResourceState(
                        urn,
                        state.type,
                        state.name,
                        read.id,
                        inputs,
                        read.outputs,
                        state.secret_inputs,
                        state.options,
                    )
        return result
