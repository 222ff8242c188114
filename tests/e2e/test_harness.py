"""Tests of the harness's own pieces: secrets, stack config files, provider errors."""

from __future__ import annotations

from pathlib import Path

import grpc

from tests.e2e.harness import (
    ProviderError,
    StackConfig,
    copy_program,
    is_secret,
    reveal,
    run_program,
    secret,
)


def test_reveal_strips_nested_secrets_and_reports_them() -> None:
    """reveal returns plaintext and whether any secret was inside."""
    value = {"a": [1, secret("s")], "b": "plain"}
    assert reveal(value) == ({"a": [1, "s"], "b": "plain"}, True)
    assert reveal({"b": "plain"}) == ({"b": "plain"}, False)
    assert is_secret(secret(None))


def test_stack_config_round_trip_keeps_secrets_out_of_the_file(tmp_path: Path) -> None:
    """Secrets are stored encoded, read back as plaintext and listed as secret keys."""
    program = copy_program("release", tmp_path / "p")
    config = StackConfig(program, "release-app", "dev")
    config.set("streampixel:apiKey", "sk-harness-test", secret=True)
    config.set("triggers", ["a", 1])
    assert "sk-harness-test" not in config.raw_text()
    values = config.values()
    assert values["streampixel:apiKey"] == "sk-harness-test"
    assert values["release-app:triggers"] == '["a", 1]'
    assert config.secret_keys() == ["streampixel:apiKey"]
    config.remove("triggers")
    assert "release-app:triggers" not in config.values()


def test_program_sees_stack_config_and_secrets(tmp_path: Path) -> None:
    """The program run gets structured config values from the stack file."""
    program = copy_program("release", tmp_path / "p")
    StackConfig(program, "release-app", "dev").set("triggers", ["v", 2])
    (registration,) = run_program(program)
    assert registration.inputs["triggers"] == ["v", 2]


def test_provider_error_exposes_type_and_message() -> None:
    """The traceback's last line gives the exception type and message."""
    details = (
        "Traceback (most recent call last):\n  File x\n"
        "streampixel_pulumi.errors.AuthError: Streampixel answered HTTP 401: nope\n"
    )
    error = ProviderError("Create", "urn:x", grpc.StatusCode.UNKNOWN, details)
    assert error.error_type == "streampixel_pulumi.errors.AuthError"
    assert error.message == "Streampixel answered HTTP 401: nope"
    assert "AuthError" in str(error)
