"""Reliability suites: the real CLI against sandboxes, some copied from a converged baseline."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.azure_clients import Clients
from raks.cli.main import main
from raks.sandbox.client import SandboxControl
from raks.sandbox.runner import Sandbox

REGIONS = ("uksouth", "swedencentral")
# kuberay: the anyscale CLI (≈1 s a call) is not the subject of the ARM/Kubernetes suites.
KUBERAY_YAML = "platform: kuberay\nregions: [uksouth, swedencentral]\n"
RUNTIME_FILES = ("endpoints.json", "requests.jsonl")  # per run; not part of the emulated cloud


class Served:
    """An emulator served in this process on `directory` (its persisted state, if any, is kept)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.sandbox = Sandbox(directory, "instant")
        self.endpoints = self.sandbox.start()
        self.sandbox.write_endpoints()
        self.control = SandboxControl(self.endpoints)

    def raks(self, capsys: Any, *argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*argv, "--sandbox", "--sandbox-dir", str(self.dir)])
        out = capsys.readouterr()
        return code, out.out, out.err

    def clients(self) -> Clients:
        return Clients(self.endpoints)

    def stop(self) -> None:
        self.sandbox.stop()


def copy_state(source: Path, target: Path) -> None:
    """A stopped sandbox's cloud (state, CA) in a new folder, without the old run's endpoints/log."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*RUNTIME_FILES))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = Served(tmp_path / "sandbox")
    try:
        yield s
    finally:
        s.stop()
