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


def beside_raks(name: str) -> Path | None:
    """A CLI pip-installed into the environment raks runs from (its console script sits beside
    this Python), if there is one."""
    beside = Path(sys.executable).parent / name
    return beside if beside.is_file() and os.access(beside, os.X_OK) else None


def locate(name: str, *, beside_first: bool = False) -> str | None:
    """On PATH, or beside the Python raks runs from; `beside_first` prefers the latter (a CLI that
    is a pip dependency of raks: the one installed with it is the one raks was tested with)."""
    beside = beside_raks(name)
    if beside_first and beside is not None:
        return str(beside)
    return shutil.which(name) or (str(beside) if beside is not None else None)


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
    """The anyscale CLI raks runs (the one beside raks first) and its version.

    The one beside raks is a console script of this very environment, so its version is the
    installed distribution's (instant); another is asked (`anyscale version` prints the bare
    version in every release since 0.5, anyscale/scripts.py) — over a second, so only then."""
    path = locate("anyscale", beside_first=True)
    if path is None:
        return Tool("anyscale", None)
    beside = beside_raks("anyscale")
    if beside is not None and str(beside) == path:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return Tool("anyscale", path, version("anyscale"))
        except PackageNotFoundError:
            pass
    env = dict(os.environ, ANYSCALE_SUPPRESS_UPGRADE_WARNING="1", ANYSCALE_TELEMETRY_SAMPLE_RATE="0")
    try:
        done = subprocess.run([path, "version"], capture_output=True, text=True, timeout=60, check=False, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Tool("anyscale", path, error=f"{type(exc).__name__}: {exc}")
    lines = (done.stdout or "").strip().splitlines()
    if done.returncode != 0 or not lines:
        return Tool("anyscale", path, error=f"'anyscale version' exit status {done.returncode}")
    return Tool("anyscale", path, lines[-1].strip())


def version_tuple(text: str) -> tuple[int, ...] | None:
    """'0.26.112' -> (0, 26, 112); None when the text holds no dotted version."""
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g) for g in m.groups() if g is not None) if m else None
