"""Integration tests: the real CLI against a sandbox served from a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.served import Served


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    s = Served(tmp_path / "sandbox")
    try:
        yield s
    finally:
        s.stop()
