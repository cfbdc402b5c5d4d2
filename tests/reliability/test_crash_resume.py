"""Crash and resume: `raks up` and `raks down` as processes, killed with SIGKILL at seeded random
moments, then run again until they converge — with the emulator inside the killed process (an
in-process sandbox), so what survives is what raks and the emulator persisted, as after a real
crash. Checks: the final `up` exits 0 and `plan --detailed-exitcode` 0; nothing is duplicated
(two clusters, one identity, one role assignment per principal and role, one federated
credential per region); after the final `down --yes --delete-data` nothing carrying the
deployment's tags is left except what the user planted. And Ctrl-C (SIGINT) during `up` stops
with exit 130 and a line naming the steps in flight (let finish), and a re-run converges.

`platform: kuberay`: the anyscale CLI is not the subject. Seed: RAKS_CRASH_SEED (printed).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from helpers.served import Served
from reliability.conftest import KUBERAY_YAML, REGIONS

KILLS = 20  # per command
PROFILE = "azure:0.003"  # a 2-region `up` takes ≈ 3 s: kills land in every phase
RG = "aks-anyscale-rg"
IDENTITY = "aks-anyscale-operator-mi"


def _env(profile: str = PROFILE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAKS_")}
    env["RAKS_SANDBOX_PROFILE"] = profile
    return env


def _start(workdir: Path, *argv: str, profile: str = PROFILE) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "raks", *argv, "--sandbox", "--sandbox-dir", str(workdir / "sandbox")]
    return subprocess.Popen(cmd, cwd=workdir, env=_env(profile), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _run(workdir: Path, *argv: str) -> tuple[int, str]:
    proc = _start(workdir, *argv)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err.decode()


def _kill_at_random(workdir: Path, rng: random.Random, argv: tuple[str, ...]) -> int:
    """KILLS runs, each SIGKILLed after a random delay (or finished first); how many were killed."""
    killed = 0
    for _ in range(KILLS):
        proc = _start(workdir, *argv)
        try:
            proc.wait(timeout=rng.uniform(0.4, 3.0))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
    return killed


def _census(served: Served) -> None:
    az = served.clients()
    clusters = [c.name for c in az.aks.managed_clusters.list_by_resource_group(RG)]
    assert sorted(clusters) == sorted(f"aks-{r}" for r in REGIONS)
    identities = [i.name for i in az.msi.user_assigned_identities.list_by_resource_group(RG)]
    assert identities == [IDENTITY]
    fics = [f.name for f in az.msi.federated_identity_credentials.list(RG, IDENTITY)]
    assert sorted(fics) == sorted(f"aks-{r}-operator-fic" for r in REGIONS)
    account = next(r for r in az.resource.resources.list_by_resource_group(RG) if r.type.endswith("storageAccounts"))
    pairs = Counter(
        (a.principal_id, a.role_definition_id)
        for a in az.auth.role_assignments.list_for_scope(account.id, filter="atScope()")
    )
    assert all(n == 1 for n in pairs.values()), pairs
    types = Counter(r.type for r in az.resource.resources.list_by_resource_group(RG))
    assert all(n == len(REGIONS) for t, n in types.items() if t.startswith("Microsoft.Network")), types


def _tagged(served: Served) -> list[str]:
    az = served.clients()
    ours = [r.id for r in az.resource.resources.list() if (r.tags or {}).get("raks-deployment")]
    return ours + [g.id for g in az.resource.resource_groups.list() if (g.tags or {}).get("raks-deployment")]


def test_up_and_down_killed_at_random_moments_converge_without_duplicates_or_orphans(tmp_path):
    seed = int(os.environ.get("RAKS_CRASH_SEED", "20261126"))
    print(f"crash-resume seed: {seed} (RAKS_CRASH_SEED={seed} reproduces)")
    rng = random.Random(seed)
    (tmp_path / "raks.yaml").write_text(KUBERAY_YAML)

    killed = _kill_at_random(tmp_path, rng, ("up", "--yes"))
    print(f"up: {killed} of {KILLS} runs killed")
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} runs were still running when killed"
    code, err = _run(tmp_path, "up", "--yes")
    assert code == 0, err
    code, err = _run(tmp_path, "plan", "--detailed-exitcode")
    assert code == 0, err
    served = Served(tmp_path / "sandbox")
    try:
        _census(served)
        planted = served.clients().resource.resource_groups.create_or_update("users-own-rg", {"location": "uksouth"})
    finally:
        served.stop()

    killed = _kill_at_random(tmp_path, rng, ("down", "--yes", "--delete-data"))
    print(f"down: {killed} of {KILLS} runs killed")
    assert killed >= 1
    code, err = _run(tmp_path, "down", "--yes", "--delete-data")
    assert code == 0, err
    served = Served(tmp_path / "sandbox")
    try:
        assert _tagged(served) == []
        assert planted.name in {g.name for g in served.clients().resource.resource_groups.list()}
    finally:
        served.stop()


def test_ctrl_c_during_up_exits_130_naming_the_steps_in_flight(tmp_path):
    (tmp_path / "raks.yaml").write_text(KUBERAY_YAML)
    proc = _start(tmp_path, "up", "--yes", profile="azure:0.01")  # the AKS create alone takes 3 s
    time.sleep(3.5)  # past start-up, preflight and the plan: steps are running
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 130, text
    note = [line for line in text.splitlines() if "interrupted" in line]
    assert note and "steps in flight" in note[0] and re.search(r"(global|uksouth|swedencentral)/[a-z-]+", note[0]), (
        text[-2000:]
    )
    code, err2 = _run(tmp_path, "up", "--yes")
    assert code == 0, err2
