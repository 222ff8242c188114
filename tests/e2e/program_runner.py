"""Run a Pulumi program under ``pulumi.runtime.set_mocks`` and write its registrations as JSON.

Used as a script, in a fresh process, by the end-to-end harness (and the program tests):

    python program_runner.py --stack dev --out regs.json [--preview]

with the working directory set to the program directory, as the Pulumi engine does. The stack
config comes from ``Pulumi.<stack>.yaml`` in that directory (so editing or ``git revert``-ing
that file changes what the program declares) and reaches the program the way the engine passes
it: ``PULUMI_CONFIG`` with plaintext values and ``PULUMI_CONFIG_SECRET_KEYS``.

Each registration keeps the raw inputs as the engine would receive them: secret values stay
wrapped in Pulumi's secret signature and unknown values become the UNKNOWN sentinel string.
Only the standard library, PyYAML and pulumi are imported here (no test package).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

import yaml

SECURE_PREFIX = "harness:"
"""`secure:` values in the test stack files are base64 behind this prefix (not encryption)."""


def decode_secure(value: str) -> str:
    """Plaintext of a harness ``secure:`` value."""
    if not value.startswith(SECURE_PREFIX):
        msg = "secure values must be written by the harness (StackConfig.set(..., secret=True))"
        raise ValueError(msg)
    return base64.b64decode(value[len(SECURE_PREFIX) :]).decode("utf-8")


def config_string(value: Any) -> str:
    """A config value as the engine hands it over: strings as is, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def load_stack_config(
    program_dir: Path, project: str, stack: str
) -> tuple[dict[str, str], list[str]]:
    """Read ``Pulumi.<stack>.yaml``: (namespaced key -> plaintext string, secret keys)."""
    path = program_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}, []
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    values: dict[str, str] = {}
    secrets: list[str] = []
    for raw_key, raw_value in (document.get("config") or {}).items():
        key = raw_key if ":" in raw_key else f"{project}:{raw_key}"
        if isinstance(raw_value, dict) and set(raw_value) == {"secure"}:
            values[key] = decode_secure(raw_value["secure"])
            secrets.append(key)
        else:
            values[key] = config_string(raw_value)
    return values, secrets


def load_project(program_dir: Path) -> tuple[str, Path]:
    """The project name and the main file from ``Pulumi.yaml``."""
    document = yaml.safe_load((program_dir / "Pulumi.yaml").read_text(encoding="utf-8"))
    main = program_dir / str(document.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    return str(document["name"]), main


def _jsonable(value: Any) -> Any:
    from pulumi.output import Unknown
    from pulumi.runtime import rpc

    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def run(program_dir: Path, stack: str, *, preview: bool) -> dict[str, Any]:
    """Run the program and return its project, stack and registrations."""
    project, main = load_project(program_dir)
    values, secrets = load_stack_config(program_dir, project, stack)
    os.environ["PULUMI_CONFIG"] = json.dumps(values)
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(secrets)

    import pulumi
    from pulumi.runtime import mocks
    from pulumi.runtime import stack as runtime_stack
    from pulumi.runtime.sync_await import _sync_await

    registrations: list[dict[str, Any]] = []

    class Recorder(pulumi.runtime.Mocks):
        def new_resource(
            self, args: pulumi.runtime.MockResourceArgs
        ) -> tuple[str | None, dict[str, Any]]:
            state = {k: v for k, v in args.inputs.items() if not k.startswith("__")}
            return (None if preview else f"{args.name}-id"), state

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
            return {}, None

    class RecordingMonitor(mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            from pulumi.runtime import rpc

            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                registrations.append(
                    {
                        "urn": response.urn,
                        "type": request.type,
                        "name": request.name,
                        "custom": request.custom,
                        "inputs": _jsonable(rpc.deserialize_properties(request.object, True)),
                        "options": {
                            "deleteBeforeReplace": request.deleteBeforeReplace,
                            "ignoreChanges": list(request.ignoreChanges),
                            "replaceOnChanges": list(request.replaceOnChanges),
                            "additionalSecretOutputs": list(request.additionalSecretOutputs),
                            "protect": request.protect,
                            "retainOnDelete": request.retainOnDelete,
                            "dependencies": list(request.dependencies),
                        },
                    }
                )
            return response

    recorder = Recorder()
    pulumi.runtime.set_mocks(
        recorder,
        project=project,
        stack=stack,
        preview=preview,
        monitor=RecordingMonitor(recorder),
    )
    pulumi.runtime.set_all_config(values, secrets)
    sys.path.insert(0, str(program_dir))
    runpy.run_path(str(main), run_name="__main__")
    _sync_await(runtime_stack.wait_for_rpcs())
    return {"project": project, "stack": stack, "resources": registrations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--out", required=True)
    parser.add_argument("--preview", action="store_true")
    parser.add_argument("--program", default=".")
    options = parser.parse_args()
    result = run(Path(options.program).resolve(), options.stack, preview=options.preview)
    Path(options.out).write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
