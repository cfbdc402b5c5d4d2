"""One in-process emulator (ARM + Kubernetes) on loopback for a test module: what the kube and
Helm tests start, without the Anyscale server or a state folder of their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from raks.sandbox.server import HttpsServer
from raks.sandbox.tls import ensure_tls
from raks.sandbox.world import World


@contextmanager
def emulator(folder: Path) -> Iterator[tuple[World, str, Path]]:
    """(the World, the server's base URL, the CA that signed its certificate)."""
    tls = ensure_tls(folder / "tls")
    world = World(folder, "instant")
    server = HttpsServer(world, "main", str(tls.server_cert), str(tls.server_key))
    world.base_url = server.url
    server.start()
    try:
        yield world, server.url, tls.ca_cert
    finally:
        server.stop()
        world.close()
