"""First use of the SDKs from many threads at once, in a fresh interpreter each time.

A `raks up --sandbox` once ended with `ImportError: cannot import name 'Pipeline' from
'azure.core.pipeline'`: step threads reached the adapters' lazy imports together. Without the
preload (raks.adapters.sdk) this script failed in 15 of 20 and, in another session, 3 of 10 fresh
interpreters (importlib `_DeadlockError` on azure.core.exceptions, or a partially initialised
requests.utils): a 30-75 % rate that depends on machine load. REPEATS = 12 misses a 30 % rate
with probability 0.7**12 ≈ 1.4 % (a 75 % one: 6e-8), at ~5 s per interpreter.
"""

from __future__ import annotations

import subprocess
import sys

REPEATS = 12
SCRIPT = r"""
import sys, threading, traceback
from pathlib import Path
from raks.cli.cloud import open_target
from raks.config import RaksConfig

KINDS = ["resource", "msi", "storage", "auth", "network", "aks", "compute"]
KUBECONFIG = {"clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
              "users": [{"name": "u", "user": {"token": "t"}}],
              "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}], "current-context": "x"}
with open_target(RaksConfig(), sandbox=True, config_dir=Path("."), state_dir=Path(sys.argv[1])) as (target, _):
    from raks.adapters.azure.arm import Arm
    from raks.adapters.azure.errors import translate

    def kube():
        from raks.adapters.kube import Kube
        Kube(KUBECONFIG)

    shared = Arm(target)
    jobs = [lambda k=k: shared._client(k) for k in KINDS]  # one command's Arm, as the steps share it
    jobs += [lambda k=k: Arm(target)._client(k) for k in reversed(KINDS)]  # preflight's own Arm
    jobs += [lambda: translate(RuntimeError("x"), what="x"), kube]
    barrier = threading.Barrier(len(jobs))
    failed = []

    def run(job):
        barrier.wait()  # all first uses at the same moment
        try:
            job()
        except BaseException:
            failed.append(traceback.format_exc())

    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        print(failed[0], file=sys.stderr)
        sys.exit(3)
"""


def test_first_sdk_use_from_many_threads_at_once_never_fails_an_import(served):
    for attempt in range(REPEATS):
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(served.dir)], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, f"attempt {attempt + 1}: {proc.stderr[-1500:]}"
