"""Benchmarks reuse the tests' SDK client helpers."""

from __future__ import annotations

import sys
from pathlib import Path


def add_tests_to_path() -> None:
    tests = str(Path(__file__).resolve().parents[1] / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
