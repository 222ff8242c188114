"""Program tests of BuildRelease under pulumi.runtime.set_mocks: registration and the pickle."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from streampixel_pulumi.provider import BuildReleaseProvider
from streampixel_pulumi.resource import OUTPUT_KEYS, BuildRelease, BuildReleaseArgs
from tests.e2e.harness import copy_program, is_secret, reveal, run_program

KEY = "sk-program-test-8d1f0c"
PROJECT = "664f1a2b3c4d5e6f7a8b9c0d"
UPLOAD = "665a0b1c2d3e4f5a6b7c8d01"
TYPE = "pulumi-python:dynamic/streampixel:BuildRelease"


class Recorder(pulumi.runtime.Mocks):
    """Records registrations; answers with outputs as a create would."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outputs = {k: v for k, v in args.inputs.items() if not k.startswith("__")}
        outputs.update(status="triggered", action="release", region="europe", history=[])
        return str(args.inputs.get("project_id")), outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


@pytest.fixture
def mocks() -> Iterator[Recorder]:
    """set_mocks with a stack config holding the API key as a secret."""
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="app", stack="dev", preview=False)
    pulumi.runtime.set_all_config(
        {"streampixel:apiKey": KEY, "streampixel:userId": "u1"}, ["streampixel:apiKey"]
    )
    yield recorder
    pulumi.runtime.set_all_config({}, [])


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_registration_has_dynamic_type_and_only_real_inputs(mocks: Recorder) -> Any:
    """The resource registers its type token and sends only its inputs and __provider."""
    release = BuildRelease("r", project_id=PROJECT, upload_id=UPLOAD, triggers=["v1"])

    def verify(_: Any) -> None:
        (args,) = mocks.resources
        assert args.typ == TYPE
        assert args.name == "r"
        assert set(args.inputs) == {"project_id", "upload_id", "triggers", "__provider"}
        assert args.inputs["triggers"] == ["v1"]

    return release.urn.apply(verify)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_every_output_is_declared(mocks: Recorder) -> Any:
    """All outputs exist as Output attributes and resolve from the provider's answer."""
    release = BuildRelease("r", project_id=PROJECT, upload_id=UPLOAD)
    for key in OUTPUT_KEYS:
        assert isinstance(getattr(release, key), pulumi.Output), key

    def verify(values: list[Any]) -> None:
        assert values == [PROJECT, UPLOAD, "triggered", "release", "europe", PROJECT]

    return pulumi.Output.all(
        release.project_id,
        release.upload_id,
        release.status,
        release.action,
        release.region,
        release.id,
    ).apply(verify)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_args_class_registers_the_same_inputs(mocks: Recorder) -> Any:
    """BuildReleaseArgs, positional or as args=, equals the keyword form."""
    releases = [
        BuildRelease(
            "a", BuildReleaseArgs(project_id=PROJECT, upload_id=UPLOAD, deadline_seconds=60)
        ),
        BuildRelease("b", args=BuildReleaseArgs(project_id=PROJECT, upload_id=UPLOAD)),
        BuildRelease("c", project_id=PROJECT, upload_id=UPLOAD),
    ]

    def verify(_: Any) -> None:
        by_name = {args.name: args.inputs for args in mocks.resources}
        assert by_name["a"]["deadline_seconds"] == 60
        assert {k: v for k, v in by_name["a"].items() if k != "deadline_seconds"} == by_name["b"]
        assert by_name["b"] == by_name["c"]

    return pulumi.Output.all(*(release.urn for release in releases)).apply(verify)


def test_missing_ids_or_mixed_forms_raise_type_error(mocks: Recorder) -> None:
    """Leaving out an id or mixing args with keywords is a programming error."""
    with pytest.raises(TypeError):
        BuildRelease("r", project_id=PROJECT)
    with pytest.raises(TypeError):
        BuildRelease("r", upload_id=UPLOAD, args=BuildReleaseArgs(PROJECT, UPLOAD))


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_pickled_provider_round_trips_to_an_empty_provider(mocks: Recorder) -> Any:
    """__provider unpickles to a BuildReleaseProvider with no state, and is tiny."""
    release = BuildRelease("r", project_id=PROJECT, upload_id=UPLOAD)

    def verify(_: Any) -> None:
        blob = mocks.resources[0].inputs["__provider"]
        assert isinstance(blob, str)  # not a secret: it holds nothing secret
        assert len(blob) < 200
        provider = dill.loads(base64.b64decode(blob))  # noqa: S301 (our own blob)
        assert type(provider) is BuildReleaseProvider
        assert provider.__dict__ == {}
        assert blob == serialize_provider(BuildReleaseProvider())
        inputs = {"project_id": PROJECT, "upload_id": UPLOAD}
        assert provider.check({}, inputs).failures == []

    return release.urn.apply(verify)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_api_key_is_never_a_plain_input(mocks: Recorder) -> Any:
    """The key in stack config appears in no input, not even inside the pickled provider."""
    release = BuildRelease("r", project_id=PROJECT, upload_id=UPLOAD)

    def verify(_: Any) -> None:
        inputs = mocks.resources[0].inputs
        assert KEY not in json.dumps(inputs)
        blob = base64.b64decode(inputs["__provider"])
        assert KEY.encode() not in blob

    return release.urn.apply(verify)


def test_provider_blob_identical_from_two_directories(tmp_path: Path) -> None:
    """The program run from two checkouts in different directories pickles the same bytes."""
    blobs = []
    for name in ("checkout-a", "deeper/checkout-b"):
        program = copy_program("release", tmp_path / name)
        (registration,) = run_program(program)
        blobs.append(registration.provider_blob)
    assert blobs[0] == blobs[1] == serialize_provider(BuildReleaseProvider())


def test_program_with_secret_key_config_sends_no_plain_key(tmp_path: Path) -> None:
    """A real program run with streampixel:apiKey secret in the stack file never sends it plain."""
    from tests.e2e.harness import StackConfig

    program = copy_program("release", tmp_path / "p")
    StackConfig(program, "release-app", "dev").set("streampixel:apiKey", KEY, secret=True)
    (registration,) = run_program(program)
    plain = {k: v for k, v in registration.inputs.items() if not is_secret(v)}
    assert KEY not in json.dumps(plain)
    assert KEY not in json.dumps(reveal(registration.inputs)[0])
    assert registration.type == TYPE
    assert set(registration.inputs) == {"project_id", "upload_id", "__provider"}
