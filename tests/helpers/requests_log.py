"""Reading the sandbox's request log (requests.jsonl, or the control API's copy of it): which
requests changed something in ARM, a cluster's Kubernetes API or Anyscale. Every "nothing was
written" check uses `writes`, so a stray Kubernetes or Anyscale write fails it like an ARM one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

WRITE_METHODS = ("PUT", "PATCH", "DELETE", "POST")
# ARM actions that read: list* (listKeys, listClusterUserCredential) and checkNameAvailability.
ARM_READ_ACTIONS = ("list", "checknameavailability")
# A Resource Graph query is a POST that reads (spot eviction rates: adapters/azure/eviction.py).
RESOURCE_GRAPH_QUERY = "/providers/microsoft.resourcegraph/resources"
# Anyscale POSTs that change nothing the user owns: look-ups by name, and the CLI's own
# telemetry (sent by every CLI command; see raks.sandbox.anyscale_api's route table).
ANYSCALE_READ_POSTS = ("find_by_name", "find_cloud_resource_by_name", "cli_usage", "analytics")


def is_write(entry: dict[str, Any]) -> bool:
    """A request that changes something: ARM, Kubernetes (/k8s/), Anyscale or Microsoft Graph, not a
    Kubernetes dry run."""
    if entry["method"] not in WRITE_METHODS or entry["api"] == "control":
        return False
    last = entry["path"].rstrip("/").rsplit("/", 1)[-1].lower()
    if entry["api"] == "arm":
        if entry["path"].rstrip("/").lower() == RESOURCE_GRAPH_QUERY:
            return False
        return not last.startswith(ARM_READ_ACTIONS)
    if entry["api"] == "anyscale":
        return last not in ANYSCALE_READ_POSTS
    # Kubernetes: ?dryRun=All is validated and answered but not persisted. Graph: every write is one.
    return not (entry.get("query") or {}).get("dryRun")


def writes(log: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in log if is_write(e)]


def read(path: Path, start_line: int = 0) -> list[dict[str, Any]]:
    """The complete lines of a requests.jsonl from line `start_line` on (a line being written is left
    out: the emulator may be writing it, or was killed while writing it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = text.split("\n")[:-1]  # the part after the last newline is not a complete line
    return [json.loads(line) for line in lines[start_line:] if line.strip()]


def line_count(path: Path) -> int:
    try:
        return path.read_text(encoding="utf-8").count("\n")
    except FileNotFoundError:
        return 0


class LogTail:
    """A requests.jsonl read as it grows (by another process): complete lines only, each once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self._offset = 0
        self._partial = b""

    def refresh(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return self.entries
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        self.entries += [json.loads(line) for line in lines if line.strip()]
        return self.entries
