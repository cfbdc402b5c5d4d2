"""Integration tests: the real CLI against a sandbox served from a temporary folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.azure_clients import Clients
from raks.cli.main import main
from raks.sandbox.client import SandboxControl
from raks.sandbox.runner import Sandbox


class Served:
    """A `raks sandbox serve` equivalent in this process, plus helpers to run raks against it."""

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

    def writes(self, since: float = 0.0, api: str = "arm") -> list[dict[str, Any]]:
        """Requests that change something (ARM's list* and checkNameAvailability POST actions are reads)."""
        return [
            e
            for e in self.control.requests(since)
            if e["method"] in ("PUT", "PATCH", "DELETE", "POST")
            and e["api"] == api
            and not (
                api == "arm" and e["path"].rsplit("/", 1)[-1].lower().startswith(("list", "checknameavailability"))
            )
        ]

    def clients(self) -> Clients:
        return Clients(self.endpoints)

    def stop(self) -> None:
        self.sandbox.stop()


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    s = Served(tmp_path / "sandbox")
    try:
        yield s
    finally:
        s.stop()


def parse_json(text: str) -> Any:
    return json.loads(text)
