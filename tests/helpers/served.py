"""A sandbox served in this process from a test's folder (endpoints.json written, as `raks
sandbox serve` does), and ways to run raks on it and read back what it wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.azure_clients import Clients
from raks.cli.main import main
from raks.sandbox.client import SandboxControl
from raks.sandbox.runner import Sandbox


class Served:
    """A `raks sandbox serve` in this process (endpoints.json written), and ways to run raks on it."""

    def __init__(self, directory: Path) -> None:
        from raks.sandbox import daemon

        self.dir = directory
        daemon.stop(directory)  # a background sandbox an earlier command started holds the folder
        self.sandbox = Sandbox(directory, "instant")
        self.endpoints = self.sandbox.start()
        self.sandbox.write_endpoints()
        self.control = SandboxControl(self.endpoints)

    def raks(self, capsys: Any, *argv: str) -> tuple[int, str, str]:
        """In-process (the same code path as the `raks` script), output captured."""
        capsys.readouterr()
        code = main([*argv, "--sandbox", "--sandbox-dir", str(self.dir)])
        out = capsys.readouterr()
        return code, out.out, out.err

    def run(self, *argv: str, env: dict[str, str] | None = None) -> Any:
        """In a subprocess without a terminal, as a CI runner starts it."""
        from helpers.ci import run

        return run(*argv, "--sandbox", "--sandbox-dir", str(self.dir), env=env)

    def writes(self, since: float = 0.0, api: str | None = None) -> list[dict[str, Any]]:
        """Requests that changed something (ARM, Kubernetes and Anyscale; see helpers.requests_log),
        or only those of one API ("arm", "kube", "anyscale")."""
        from helpers.requests_log import writes

        return [e for e in writes(self.control.requests(since)) if api is None or e["api"] == api]

    def clients(self) -> Clients:
        """The real azure-mgmt clients on this sandbox, to read back what raks wrote."""
        return Clients(self.endpoints)

    def stop(self) -> None:
        self.sandbox.stop()
