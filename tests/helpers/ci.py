"""Running raks as a CI runner does: a subprocess with no terminal, against a served sandbox."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from helpers.served import Served as Served  # re-exported for tests/ci

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
