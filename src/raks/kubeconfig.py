"""Kubeconfig files: merging a cluster's entries into one, and writing them readable only by the user."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from raks.errors import ConfigError

SECTIONS = ("clusters", "contexts", "users")


def read(path: Path) -> dict[str, Any]:
    """An existing kubeconfig; anything else is a usage error naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"--file: cannot read '{path}' as a kubeconfig: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or any(not isinstance(data.get(s) or [], list) for s in SECTIONS):
        raise ConfigError(f"--file: '{path}' is not a kubeconfig (expected clusters, contexts and users lists)")
    return data


def merge(existing: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """`new`'s clusters, contexts and users replace same-named entries of `existing`; the rest
    stays. The current context becomes new's, as `az aks get-credentials` does."""
    out: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "preferences": {}, **(existing or {})}
    for section in SECTIONS:
        incoming = list(new.get(section) or [])
        replaced = {e.get("name") for e in incoming}
        out[section] = [e for e in out.get(section) or [] if e.get("name") not in replaced] + incoming
    if new.get("current-context"):
        out["current-context"] = new["current-context"]
    return out


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Write atomically with mode 0600 (it holds credentials), whatever the umask or the old mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(data, fh, sort_keys=False, default_flow_style=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
