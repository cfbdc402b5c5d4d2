"""Starting the emulator, in-process or as `raks sandbox serve`, and finding a running one.

A `serve` writes DIR/endpoints.json (the contract other tools rely on: `arm`, `ca_bundle`,
`anyscale`, `subscription_id`, `tenant_id`, `graph` (Microsoft Graph's base URL, under the ARM
server), `prices` (the Retail Prices API's base URL, under it too), plus `pid`, `profile`,
`polling_interval`). A raks
command on the same directory uses that server when it answers; otherwise it starts the
emulator in-process on the same persisted state, holding the directory's lock while it runs.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.request
from pathlib import Path
from typing import Any

from raks.sandbox.state import ENDPOINTS_FILE


class Sandbox:
    """A running emulator: the world, its two HTTPS servers and its endpoints."""

    def __init__(self, state_dir: Path, profile: str = "instant", *, port: int = 0, anyscale_port: int = 0) -> None:
        self.state_dir = state_dir
        self.profile = profile
        self.port = port
        self.anyscale_port = anyscale_port
        self.world: Any = None
        self._servers: list[Any] = []
        self._lock: Any = None

    def start(self, *, blocking: bool = True) -> dict[str, Any]:
        from raks.sandbox.server import HttpsServer
        from raks.sandbox.state import StateDir
        from raks.sandbox.tls import ensure_tls
        from raks.sandbox.world import World

        self.state_dir.mkdir(parents=True, exist_ok=True)
        lock = StateDir(self.state_dir)
        if not lock.lock(blocking=blocking):
            raise RuntimeError(f"another raks sandbox holds {self.state_dir}")
        self._lock = lock
        try:
            tls = ensure_tls(self.state_dir / "tls")
            self.world = World(self.state_dir, self.profile)
            self.world.ca_file = tls.ca_cert
            cert, key = str(tls.server_cert), str(tls.server_key)
            main = HttpsServer(self.world, "main", cert, key, port=self.port)
            try:
                anyscale = HttpsServer(self.world, "anyscale", cert, key, port=self.anyscale_port)
            except OSError:
                main._server.server_close()  # not serving yet: shutdown() would wait forever
                raise
        except BaseException:
            # A port already taken (OSError EADDRINUSE) must not leave the folder locked.
            if self.world is not None:
                self.world.close()
                self.world = None
            lock.unlock()
            self._lock = None
            raise
        self.world.base_url, self.world.anyscale_url = main.url, anyscale.url
        for server in (main, anyscale):
            server.start()
        self._servers = [main, anyscale]
        return self.endpoints()

    def endpoints(self) -> dict[str, Any]:
        w = self.world
        scale = w.profile.scale
        return {
            "arm": w.base_url,
            "ca_bundle": str(w.ca_file),
            "anyscale": w.anyscale_url,
            "graph": f"{w.base_url}/graph",
            "prices": f"{w.base_url}/prices",  # the Retail Prices API's base (raks' prices_url)
            "subscription_id": w.subscription_id,
            "tenant_id": w.tenant_id,
            "profile": w.profile.spec(),
            # How often clients poll operations that send no Retry-After (all of them when the
            # profile is instant): quick, since the emulator answers in microseconds.
            "polling_interval": 0.01 if scale <= 0 else min(1.0, max(0.01, 5.0 * scale)),
            # azure-core's retry back-off (0.8 s, doubling) scaled the same way: a retried 5xx or
            # reset costs what it would against Azure, times the profile's factor.
            "retry_backoff_factor": 0.01 if scale <= 0 else min(0.8, max(0.01, 0.8 * scale)),
            "pid": os.getpid(),
        }

    def write_endpoints(self) -> Path:
        path = self.state_dir / ENDPOINTS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.endpoints(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers = []
        if self.world is not None:
            self.world.close()
        if getattr(self, "_lock", None) is not None:
            self._lock.unlock()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def running_endpoints(state_dir: Path) -> dict[str, Any] | None:
    """The endpoints of a `raks sandbox serve` on this directory, if one answers."""
    path = state_dir / ENDPOINTS_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    pid = data.get("pid")
    try:
        if pid:
            os.kill(int(pid), 0)
    except (ProcessLookupError, PermissionError, ValueError):
        return None
    try:
        ctx = ssl.create_default_context(cafile=data["ca_bundle"])
        with urllib.request.urlopen(f"{data['arm']}/_sandbox/health", context=ctx, timeout=2) as resp:
            if resp.status == 200:
                return data
    except (OSError, KeyError):
        return None
    return None
