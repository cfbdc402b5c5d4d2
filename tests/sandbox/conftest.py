"""A sandbox per test, and the real Azure SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpers.azure_clients import Clients
from raks.sandbox.client import SandboxControl
from raks.sandbox.runner import Sandbox


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path / "sandbox", "instant")
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def endpoints(sandbox) -> dict[str, Any]:
    return sandbox.endpoints()


@pytest.fixture
def control(endpoints) -> SandboxControl:
    return SandboxControl(endpoints)


@pytest.fixture
def az(endpoints) -> Clients:
    return Clients(endpoints)
