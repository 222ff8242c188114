import pytest


@pytest.fixture
def emulator():
    return 1
