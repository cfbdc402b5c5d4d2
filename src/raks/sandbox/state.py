"""The emulator's world, persisted as JSON in the state directory.

One emulator process owns a state directory at a time (an exclusive lock file), so separate
`raks` invocations see the same world one after another, and a `raks sandbox serve` shares it
with any client through endpoints.json. Writes are atomic (write + rename): a process killed
at any moment leaves the last complete state.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
LOCK_FILE = "lock"
REQUEST_LOG = "requests.jsonl"
ENDPOINTS_FILE = "endpoints.json"
FORMAT_VERSION = 1


def new_state() -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "subscription_id": str(uuid.UUID(int=0x5A4DB0C5_0000_4000_8000_000000000001)),
        "tenant_id": str(uuid.UUID(int=0x7E4A4700_0000_4000_8000_000000000001)),
        "arm": {},  # lower-cased resource id -> resource
        "operations": {},  # operation id -> long-running operation record
        "kube": {},  # cluster key -> Kubernetes API state
        "anyscale": {},
        "faults": [],
        "capacity": {},  # region -> quota/SKU overrides (see sandbox.catalog)
        "blobs": {},  # account -> container -> blob name -> base64 content (see sandbox.blobs)
        "counters": {},
    }


class StateDir:
    """Lock, load and save the world in one folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd: int | None = None

    def lock(self, blocking: bool = True) -> bool:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.path / STATE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return new_state()
        fresh = new_state()
        for key, value in fresh.items():
            data.setdefault(key, value)
        return data

    def save(self, state: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".{STATE_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(state, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, self.path / STATE_FILE)

    def reset(self) -> None:
        for name in (STATE_FILE, REQUEST_LOG):
            (self.path / name).unlink(missing_ok=True)
