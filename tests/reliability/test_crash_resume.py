"""Crash and resume: `raks up` and `raks down` as processes, killed with SIGKILL (the whole process
group, as a cancelled CI job or an OOM kill takes the anyscale CLI with it) right after chosen
writes, then run again until they converge. The emulator is the background sandbox the first
run starts (its own session: the kill does not take it, as Azure outlives a killed client), so
what survives is what raks persisted and what the cloud already did, as after a real crash.

Kill moments come from the request log, not from a timer: an uninterrupted reference run (in a
scratch folder) gives how many writes each phase makes — global (resource group, identity,
storage, role assignments), network, cluster (AKS, federated credentials), pools, in-cluster
(Kubernetes objects, Helm) and Anyscale — and the seeded schedule kills a run once the log shows
the j-th write of a phase (counted over all runs of the command), for a few j inside every
phase. Each kill is checked against the log as the killed process left it.

Checks: the final `up` exits 0 and `plan --detailed-exitcode` 0; nothing is duplicated (two
clusters, one identity, one role assignment per principal and role, one federated credential
per region, one Anyscale cloud); after the final `down --yes --delete-data` nothing carrying the
deployment's tags (and no Anyscale cloud) is left, except what the user planted. And Ctrl-C
(SIGINT) during `up` stops with exit 130 and a line naming the steps in flight, and a re-run
converges.

Seed: RAKS_CRASH_SEED (printed with the command that reproduces a run).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from helpers.requests_log import ANYSCALE_READ_POSTS, WRITE_METHODS, LogTail, writes
from helpers.served import Served
from raks.sandbox.client import SandboxControl
from reliability.conftest import KUBERAY_YAML, REGIONS

KILLS_PER_PHASE = 2
PROFILE = "azure:0.003"  # a 2-region `up` takes ≈ 3 s: AKS and its pools are still long operations
RG = "aks-anyscale-rg"
IDENTITY = "aks-anyscale-operator-mi"
ANYSCALE_YAML = "platform: anyscale\nregions: [uksouth]\n"  # one region: the anyscale CLI is slow
RUN_TIMEOUT = 300.0  # a hung run fails the test instead of hanging CI


def _print_seed(seed: int) -> None:
    print(f"crash-resume seed {seed}; reproduce: RAKS_CRASH_SEED={seed} pytest tests/reliability/test_crash_resume.py")


def phase(entry: dict[str, object]) -> str:
    """Which part of the apply (or teardown) a write belongs to."""
    if entry["api"] == "kube":
        return "in-cluster"
    if entry["api"] == "anyscale":
        return "anyscale"
    path = str(entry["path"]).lower()
    if "/agentpools/" in path:
        return "pools"
    if "/managedclusters/" in path or "/federatedidentitycredentials/" in path:
        return "cluster"  # a federated credential needs the cluster's OIDC issuer
    if "/microsoft.network/" in path:
        return "network"
    return "global"


def _env(profile: str = PROFILE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAKS_")}
    env["RAKS_SANDBOX_PROFILE"] = profile
    return env


def _as_in_a_terminal() -> None:
    """SIGINT at its default, as in a terminal's foreground job: a test run started in the
    background (`pytest … &`, nohup) ignores it, the child inherits that, and Python then installs
    no KeyboardInterrupt handler, so the Ctrl-C test would check nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(workdir: Path, *argv: str, profile: str = PROFILE, stderr: int | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "raks", *argv, "--sandbox", "--sandbox-dir", str(workdir / "sandbox")]
    return subprocess.Popen(
        cmd,
        cwd=workdir,
        env=_env(profile),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if stderr is None else stderr,
        start_new_session=True,  # its own process group: a kill takes the anyscale CLI with it
        preexec_fn=_as_in_a_terminal,
    )


def _run(workdir: Path, *argv: str) -> tuple[int, str]:
    proc = _start(workdir, *argv)
    _, err = proc.communicate(timeout=RUN_TIMEOUT)
    return proc.returncode, err.decode()


@dataclass
class Kill:
    phase: str
    j: int  # kill once the log shows the j-th write of this phase (over all runs of the command)
    k: int = 0  # writes of the command in the log when the killed process was gone
    phase_writes: int = 0  # of which in this phase


def _schedule(reference: list[dict[str, object]], rng: random.Random) -> list[Kill]:
    """A few kills inside each phase the reference run wrote in, in the order the reference met them."""
    order: dict[tuple[str, int], int] = {}
    counts: Counter[str] = Counter()
    for i, entry in enumerate(reference):
        counts[phase(entry)] += 1
        order[(phase(entry), counts[phase(entry)])] = i
    kills = []
    for name, n in sorted(counts.items()):  # a fixed order: the seed alone decides the schedule
        # j < n when the phase has more than one write: the kill lands before its last write
        choices = range(1, n) if n > 1 else range(1, 2)
        kills += [Kill(name, j) for j in rng.sample(choices, min(KILLS_PER_PHASE, len(choices)))]
    return sorted(kills, key=lambda kill: order[(kill.phase, kill.j)])


def _log(workdir: Path) -> LogTail:
    return LogTail(workdir / "sandbox" / "requests.jsonl")


def _kill_after_writes(workdir: Path, argv: tuple[str, ...], schedule: list[Kill], seed: int) -> list[Kill]:
    """Each kill in turn: start the command, watch the log, SIGKILL it right after the chosen write."""
    log = _log(workdir)
    seen = len(log.refresh())  # entries of earlier commands are not this one's
    counts: Counter[str] = Counter()  # this command's writes per phase, over its runs so far
    for n, kill in enumerate(schedule):
        run_writes = 0
        with open(workdir / f"{argv[0]}-{n}.err", "wb") as err:
            proc = _start(workdir, *argv, stderr=err.fileno())
            deadline = time.monotonic() + RUN_TIMEOUT  # a guard against a hang, not a wait
            while True:
                new = writes(log.refresh()[seen:])
                seen = len(log.entries)
                counts.update(phase(e) for e in new)
                run_writes += len(new)
                if run_writes and counts[kill.phase] >= kill.j:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    break
                try:
                    code = proc.wait(timeout=0.005)  # the log is polled; the wait only paces the poll
                except subprocess.TimeoutExpired:
                    assert time.monotonic() < deadline, f"{argv} run {n} hung (seed {seed})"
                    continue
                # The command converged before this write (an earlier kill left less to do than the
                # reference run had): the later kills cannot happen; the phase check below says
                # whether the kills so far still hit every phase.
                assert code == 0, f"{argv} run {n} failed (seed {seed}): {workdir / f'{argv[0]}-{n}.err'}"
                print(f"{argv[0]}: run {n} converged before write {kill.j} of {kill.phase} ({dict(counts)})")
                return schedule[:n]
        assert proc.returncode == -signal.SIGKILL
        # What the killed process left in the log (its last lines read now): the kill came after
        # the chosen write, and after at least one write of this run.
        new = writes(log.refresh()[seen:])
        seen = len(log.entries)
        counts.update(phase(e) for e in new)
        kill.k, kill.phase_writes = counts.total(), counts[kill.phase]
        assert kill.phase_writes >= kill.j and run_writes + len(new) >= 1, (kill, seed)
    return schedule


def _assert_kills_landed_inside_every_phase(
    workdir: Path, argv: tuple[str, ...], kills: list[Kill], phases: set[str], since: int
) -> None:
    """Every phase was hit by a kill before the command had made that phase's last write (`since`:
    the log's length before the command's first run)."""
    total = Counter(phase(e) for e in writes(_log(workdir).refresh()[since:]))
    inside = {kill.phase for kill in kills if kill.phase_writes < total[kill.phase]}
    print(f"{argv[0]}: kills (phase, j, k): {[(kill.phase, kill.j, kill.k) for kill in kills]}")
    assert inside == phases, (inside, total)


def _reference(workdir: Path, config: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """An uninterrupted `up` and `down`: the writes each makes, in order."""
    workdir.mkdir()
    (workdir / "raks.yaml").write_text(config)
    log = _log(workdir)
    code, err = _run(workdir, "up", "--yes")
    assert code == 0, err
    up = writes(log.refresh())
    code, err = _run(workdir, "down", "--yes", "--delete-data")
    assert code == 0, err
    return up, writes(log.refresh())[len(up) :]


def _census(served: Served, regions: tuple[str, ...]) -> None:
    az = served.clients()
    clusters = [c.name for c in az.aks.managed_clusters.list_by_resource_group(RG)]
    assert sorted(clusters) == sorted(f"aks-{r}" for r in regions)
    identities = [i.name for i in az.msi.user_assigned_identities.list_by_resource_group(RG)]
    assert identities == [IDENTITY]
    fics = [f.name for f in az.msi.federated_identity_credentials.list(RG, IDENTITY)]
    assert sorted(fics) == sorted(f"aks-{r}-operator-fic" for r in regions)
    account = next(r for r in az.resource.resources.list_by_resource_group(RG) if r.type.endswith("storageAccounts"))
    pairs = Counter(
        (a.principal_id, a.role_definition_id)
        for a in az.auth.role_assignments.list_for_scope(account.id, filter="atScope()")
    )
    assert all(n == 1 for n in pairs.values()), pairs
    types = Counter(r.type for r in az.resource.resources.list_by_resource_group(RG))
    assert all(n == len(regions) for t, n in types.items() if t.startswith("Microsoft.Network")), types


def _tagged(served: Served) -> list[str]:
    az = served.clients()
    ours = [r.id for r in az.resource.resources.list() if (r.tags or {}).get("raks-deployment")]
    return ours + [g.id for g in az.resource.resource_groups.list() if (g.tags or {}).get("raks-deployment")]


# The first Anyscale write of the command, whatever its method, is held in flight by the sandbox,
# so the kill that follows its log line lands while the phase has writes still to make, however
# slowly this machine runs the test (with the anyscale CLI the whole phase takes well under a
# second: a kill that races it can land after the phase). The path is that of every Anyscale
# write (helpers.requests_log: the look-up and telemetry POSTs are reads).
ANYSCALE_WRITE_PATH = r"^anyscale:(?!.*(" + "|".join(ANYSCALE_READ_POSTS) + r"))"
HOLD_SECONDS = 60.0  # longer than any poll of the log; the killed caller never sees the answer


def _hold_first_anyscale_write(workdir: Path) -> SandboxControl:
    """Start the background sandbox (as the command would) and hold the next Anyscale write of each
    method once; the caller clears the rules after the kill, so the resumed run is not held."""
    sandbox = workdir / "sandbox"
    code, err = _raks(workdir, "sandbox", "start", "--state-dir", str(sandbox), "--profile", PROFILE)
    assert code == 0, err
    control = SandboxControl(json.loads((sandbox / "endpoints.json").read_text()))
    control.clear_faults()
    for method in WRITE_METHODS:
        control.add_fault(method=method, path=ANYSCALE_WRITE_PATH, hold=HOLD_SECONDS, times=1)
    return control


def _kill_inside(workdir: Path, argv: tuple[str, ...], schedule: list[Kill], seed: int, only: str | None) -> list[Kill]:
    if only != "anyscale":
        return _kill_after_writes(workdir, argv, schedule, seed)
    control = _hold_first_anyscale_write(workdir)
    try:
        return _kill_after_writes(workdir, argv, schedule, seed)
    finally:
        control.clear_faults()


def _raks(workdir: Path, *argv: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "raks", *argv], cwd=workdir, env=_env(), capture_output=True, timeout=RUN_TIMEOUT
    )
    return proc.returncode, proc.stderr.decode()


def _anyscale_clouds(served: Served) -> list[dict[str, object]]:
    return list(served.control.call("GET", "/anyscale/clouds")["value"])


def _crash_and_resume(
    tmp_path: Path, seed: int, config: str, regions: tuple[str, ...], only: str | None = None
) -> None:
    """Kill `up` inside every phase (or, with `only`, right after that phase's first write, which
    needs no reference run), converge, check; the same for `down`."""
    _print_seed(seed)
    rng = random.Random(seed)
    if only is None:
        ref_up, ref_down = _reference(tmp_path / "reference", config)
        schedule_up, schedule_down = _schedule(ref_up, rng), _schedule(ref_down, rng)
        phases_up, phases_down = {phase(e) for e in ref_up}, {phase(e) for e in ref_down}
    else:
        schedule_up, schedule_down = [Kill(only, 1)], [Kill(only, 1)]
        phases_up = phases_down = {only}
    (tmp_path / "raks.yaml").write_text(config)

    up = ("up", "--yes")
    kills = _kill_inside(tmp_path, up, schedule_up, seed, only)  # the log starts with the first run
    code, err = _run(tmp_path, *up)
    assert code == 0, err
    code, err = _run(tmp_path, "plan", "--detailed-exitcode")
    assert code == 0, err
    _assert_kills_landed_inside_every_phase(tmp_path, up, kills, phases_up, 0)
    served = Served(tmp_path / "sandbox")
    try:
        _census(served, regions)
        clouds = _anyscale_clouds(served)
        assert len(clouds) == (1 if "anyscale" in config else 0), clouds
        planted = served.clients().resource.resource_groups.create_or_update("users-own-rg", {"location": "uksouth"})
    finally:
        served.stop()

    down = ("down", "--yes", "--delete-data")
    since = len(_log(tmp_path).refresh())
    kills = _kill_inside(tmp_path, down, schedule_down, seed, only)
    code, err = _run(tmp_path, *down)
    assert code == 0, err
    _assert_kills_landed_inside_every_phase(tmp_path, down, kills, phases_down, since)
    served = Served(tmp_path / "sandbox")
    try:
        assert _tagged(served) == []
        assert _anyscale_clouds(served) == []
        assert planted.name in {g.name for g in served.clients().resource.resource_groups.list()}
    finally:
        served.stop()


def test_up_and_down_killed_inside_every_azure_and_kubernetes_phase_converge_without_duplicates(tmp_path, crash_seed):
    _crash_and_resume(tmp_path, crash_seed, KUBERAY_YAML, REGIONS)


def test_up_and_down_killed_inside_the_anyscale_phase_converge_to_one_cloud_then_none(tmp_path, crash_seed):
    _crash_and_resume(tmp_path, crash_seed, ANYSCALE_YAML, ("uksouth",), only="anyscale")


def test_ctrl_c_during_up_exits_130_naming_the_steps_in_flight(tmp_path):
    (tmp_path / "raks.yaml").write_text(KUBERAY_YAML)
    proc = _start(tmp_path, "up", "--yes", profile="azure:0.01")  # the AKS create alone takes ≈ 4 s
    assert proc.stderr is not None
    seen = []
    for raw in proc.stderr:  # interrupt once an AKS create has started: a step is surely in flight
        seen.append(raw.decode())
        if re.search(r"AKS cluster: create started", seen[-1]):
            break
    else:
        raise AssertionError("up ended without starting an AKS create:\n" + "".join(seen[-20:]))
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the whole foreground group
    _, err = proc.communicate(timeout=RUN_TIMEOUT)
    text = "".join(seen) + err.decode()
    assert proc.returncode == 130, text[-2000:]
    note = [line for line in text.splitlines() if "interrupted" in line]
    assert note and "steps in flight" in note[0] and re.search(r"(uksouth|swedencentral)/cluster\b", note[0]), text[
        -2000:
    ]
    code, err2 = _run(tmp_path, "up", "--yes")
    assert code == 0, err2
