"""Probing the command-line tools a deployment needs (helm, anyscale), without using them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tool:
    name: str
    path: str | None  # None: not on PATH
    version: str = ""  # what the tool printed, first line
    major: int | None = None
    error: str = ""  # why the version could not be read


def locate(name: str) -> str | None:
    """On PATH, or beside the Python raks runs from (a CLI pip-installed into raks' venv)."""
    found = shutil.which(name)
    if found is None:
        beside = Path(sys.executable).with_name(name)
        found = str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None
    return found


def probe(name: str, version_args: list[str] | None, timeout: float = 10.0) -> Tool:
    """Where `name` is, and the major version it reports (`v3.15.2+g…` -> 3); presence only
    when version_args is None."""
    path = locate(name)
    if path is None or version_args is None:
        return Tool(name, path)
    try:
        done = subprocess.run([path, *version_args], capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Tool(name, path, error=f"{type(exc).__name__}: {exc}")
    text = (done.stdout or done.stderr).strip()
    first = text.splitlines()[0] if text else ""
    if done.returncode != 0:
        return Tool(name, path, first, error=f"exit status {done.returncode}")
    m = re.search(r"v?(\d+)\.\d+", first)
    return Tool(name, path, first, int(m.group(1)) if m else None)


def helm() -> Tool:
    return probe("helm", ["version", "--short"])


def anyscale() -> Tool:
    # Presence only: `anyscale --version` takes over a second, longer than all of preflight's reads.
    return probe("anyscale", None)
