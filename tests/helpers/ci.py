"""Running raks as a CI runner does: a subprocess with no terminal, against a served sandbox."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raks.cli.main import main
from raks.sandbox.client import SandboxControl
from raks.sandbox.runner import Sandbox

ANSI = re.compile(r"\x1b[\[\]()#;?0-9]")  # any CSI/OSC/charset escape
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Ran:
    code: int
    out: str
    err: str


def run(*argv: str, env: dict[str, str] | None = None) -> Ran:
    """The installed `raks` with no terminal anywhere (stdin /dev/null, stdout and stderr pipes)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("RAKS_")}
    full.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "raks", *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=full,
        timeout=300,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)


class Served:
    """A `raks sandbox serve` in this process (endpoints.json written), and ways to run raks on it."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
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

    def run(self, *argv: str, env: dict[str, str] | None = None) -> Ran:
        """In a subprocess without a terminal, as a CI runner starts it."""
        return run(*argv, "--sandbox", "--sandbox-dir", str(self.dir), env=env)

    def writes(self, since: float = 0.0) -> list[dict[str, Any]]:
        """ARM requests that change something (list* and checkNameAvailability POSTs are reads)."""
        return [
            e
            for e in self.control.requests(since)
            if e["method"] in ("PUT", "PATCH", "DELETE", "POST")
            and e["api"] == "arm"
            and not e["path"].rsplit("/", 1)[-1].lower().startswith(("list", "checknameavailability"))
        ]

    def stop(self) -> None:
        self.sandbox.stop()
