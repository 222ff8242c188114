"""Fixtures shared by every test; server fixtures live in tests/fixtures_*.py."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.fixtures_emulator", "tests.fixtures_receiver"]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove STREAMPIXEL_* variables so no test depends on the caller's shell."""
    for name in list(os.environ):
        if name.startswith("STREAMPIXEL_"):
            monkeypatch.delenv(name)
