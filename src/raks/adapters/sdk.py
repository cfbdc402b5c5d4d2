"""Import the SDKs the steps use once, in one thread, before any worker starts.

The adapters import azure.*/kubernetes lazily (so `raks --help` stays fast), inside functions
that many step threads reach at the same moment. Two threads importing interdependent packages
for the first time can meet in importlib's per-module locks: one of them gets a
`_DeadlockError` or a partially initialised module ("cannot import name 'Pipeline' from
'azure.core.pipeline'"). Since Python 3.3 an import takes a per-module lock, and "an exception is
made for circular imports, which by construction have to expose an incomplete module object"
(CPython Doc/library/imp.rst, `lock_held`; importlib._bootstrap._ModuleLock raises
_DeadlockError). So a command that is about to start threads imports what they need first.
"""

from __future__ import annotations

import contextlib
import importlib
import threading

# The packages every SDK shares. Once they are loaded, a thread's first use of an azure-mgmt
# package imports only that package's own modules, so no two threads can wait on each other's
# module locks (Arm builds its clients one at a time as well). The azure-mgmt packages themselves
# (~3 s of imports on a loaded CI box) stay lazy: preflight needs four, the steps the others.
AZURE = (
    "azure.core.exceptions",
    "azure.core.pipeline",
    "azure.core.pipeline.policies",
    "azure.core.pipeline.transport",  # the Retail Prices client (adapters/azure/prices.py)
    "azure.core.polling",
    "azure.core.credentials",
    "azure.core.rest",
    "azure.mgmt.core",
    "azure.mgmt.core.polling.arm_polling",
    # Resource Graph (spot eviction rates) is read while other threads start: small (~20 ms), so
    # loaded here with the shared packages rather than lazily.
    "azure.mgmt.resourcegraph",
    "azure.mgmt.resourcegraph.models",
    "requests",
    "isodate",
    "typing_extensions",
)
KUBERNETES = ("urllib3", "kubernetes.client", "kubernetes.config")
IDENTITY = ("azure.identity",)  # DefaultAzureCredential: only against Azure

_lock = threading.Lock()
_done: set[str] = set()


def preload(*, identity: bool = False) -> None:
    """Import the shared SDK packages now (idempotent; ~1 s the first time, nothing after)."""
    wanted = AZURE + KUBERNETES + (IDENTITY if identity else ())
    with _lock:
        for name in wanted:
            if name not in _done:
                importlib.import_module(name)
                _done.add(name)


def preload_soon(*, identity: bool = False) -> None:
    """Start preload() in one background thread (e.g. while a sandbox server starts in another
    process); a later preload() waits for it. Only this thread imports SDK modules meanwhile."""
    threading.Thread(target=_quiet_preload, kwargs={"identity": identity}, name="raks-preload", daemon=True).start()


def _quiet_preload(identity: bool) -> None:
    # A failure here is raised again by the preload() that the command waits on.
    with contextlib.suppress(Exception):
        preload(identity=identity)
