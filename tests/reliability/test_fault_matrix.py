"""The fault matrix: every step of `up` and of `down` × every fault kind Azure (or an API
server) throws at it, generated from the step graph (`raks.steps.graph.build`), so a new step is
covered without editing this file. Cells and targets: `faultcells.py`.

Setup per cell: a copy of one converged 2-region deployment (`platform: kuberay`, `instant`
profile) — for `up` minus the faulted step's own resource (removed with the step's destroy), so
the fault bites on that step's first write; the resource group and the identity start from an
empty cloud (see FRESH_START). Faults target the global steps and uksouth's;
swedencentral must finish. Expectations:

- transient (429 with Retry-After 1 s, then 500, 503 and a connection reset on the same write,
  one after the other): the command succeeds with no user action, every fault was hit, and the
  retry after the 429 waited the Retry-After; `plan --detailed-exitcode` is then 0 (or, for
  `down`, nothing of the deployment is left);
- permanent (409 OperationNotAllowed, 403, LRO ending Failed, quota, SKU): exit 3 for an ARM
  auth failure, otherwise 5 when the failed step is regional (the other region finished: all
  its steps done) and 4 when it is global; one stderr line `error: <region|global>/<step>:
  <code>: …`; after the fault is lifted a re-run exits 0, `plan --detailed-exitcode` is 0 and
  nothing is duplicated (resource types and counts as in the baseline, one role assignment
  per principal and role, one federated credential per region) — for `down`, nothing is left.

Exclusions (kind × step, and why):

| kind | not applied to | reason |
| --- | --- | --- |
| LRO ending Failed | up: identity, federated credential, role assignment, container, blob CORS, resource group; down: identity, federated credential, role assignment, container, blob CORS (its removal is a PUT), storage account | their write is not a long-running operation (the SDK call is not `begin_*`): there is no operation to fail |
| quota exceeded, SKU not available | every step but node pools, and every delete | only a node pool allocates VMs; ARM does not answer a delete with them |
| LRO ending Failed | Kubernetes-object and Helm steps | the Kubernetes API has no long-running operations |
| 403 | Kubernetes-object and Helm steps expect exit 5, not 3 | a Kubernetes RBAC refusal is the cluster's answer, not an Azure login problem (it names `Forbidden`) |
| all (up) | the system pool | it is created inside the cluster's PUT (`agentPoolProfiles`): its faults are the cluster's |
| all (down) | node pools | `down` deletes pools with their cluster: a pool sends no request of its own |
| all | Anyscale steps | the matrix runs `platform: kuberay` (an anyscale CLI call costs ≈1 s); the anyscale CLI itself retries 5xx on add_resource for up to 300 s, so 5xx/reset cells there would test the CLI's patience, not raks |
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from helpers.served import Served
from raks.steps.base import Context, Step
from raks.steps.helm_addons import HelmReleaseStep
from raks.steps.identity import IdentityStep
from raks.steps.resource_group import ResourceGroupStep
from reliability.conftest import KUBERAY_YAML, REGIONS, copy_state
from reliability.faultcells import FAULTED_REGION, Fault, cells, fault_named, matrix_steps, target

RG = "aks-anyscale-rg"
IDENTITY = "aks-anyscale-operator-mi"
STEPS = {s.key: s for s in matrix_steps()}
# Start from an empty cloud, not the baseline minus the resource: a resource group is kept by
# its destroy while it holds anything, and a re-created identity has a new client id, which the
# existing StorageClass cannot take in place (raks then asks the user to delete it).
FRESH_START = (ResourceGroupStep, IdentityStep)


def _ids(cell: tuple[str, str]) -> str:
    return f"{cell[0]}-{cell[1]}"


# -- the shared baseline -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """One converged deployment (stopped), and its census, copied by every cell."""
    from raks.cli.main import main

    base = tmp_path_factory.mktemp("converged")
    config = base / "raks.yaml"
    config.write_text(KUBERAY_YAML)
    served = Served(base / "sandbox")
    try:
        assert main(["up", "--yes", "--config", str(config), "--sandbox", "--sandbox-dir", str(served.dir)]) == 0
        baseline = census(served)
    finally:
        served.stop()
    yield served.dir, baseline


def census(served: Served) -> dict[str, Any]:
    """What exists, in a form where a duplicate shows: types and counts, pools, credentials."""
    az = served.clients()
    # Role assignments are counted below, among current principals: deleting a cluster (a cell's
    # setup) leaves its identity's assignment behind, as Azure does.
    resources = Counter(
        r.type for r in az.resource.resources.list_by_resource_group(RG) if not r.type.endswith("/roleAssignments")
    )
    pools = {r: sorted(p.name for p in az.aks.agent_pools.list(RG, f"aks-{r}")) for r in REGIONS}
    fics = sorted(f.name for f in az.msi.federated_identity_credentials.list(RG, IDENTITY))
    principals = {az.msi.user_assigned_identities.get(RG, IDENTITY).principal_id}
    principals |= {az.aks.managed_clusters.get(RG, f"aks-{r}").identity.principal_id for r in REGIONS}
    account = next(r for r in az.resource.resources.list_by_resource_group(RG) if r.type.endswith("storageAccounts"))
    assignments = Counter(
        (a.principal_id, a.role_definition_id)
        for a in az.auth.role_assignments.list_for_scope(account.id, filter="atScope()")
        if a.principal_id in principals  # an assignment of a deleted principal is Azure's leftover, not raks'
    )
    assert all(n == 1 for n in assignments.values()), f"duplicate role assignments: {assignments}"
    return {"resources": dict(resources), "pools": pools, "fics": fics, "assignments": sum(assignments.values())}


def leftovers(served: Served) -> list[str]:
    """Anything still carrying the deployment's tag."""
    az = served.clients()
    found = [r.id for r in az.resource.resources.list() if (r.tags or {}).get("raks-deployment") == "aks-anyscale"]
    found += [
        g.id for g in az.resource.resource_groups.list() if (g.tags or {}).get("raks-deployment") == "aks-anyscale"
    ]
    return found


# -- one cell ------------------------------------------------------------------------------------
@contextmanager
def observed_context(served: Served) -> Iterator[tuple[Context, dict[str, Step]]]:
    """A step context whose outputs are those of the current deployment (as a plan sees it)."""
    from raks.cli.cloud import sandbox_target
    from raks.cli.session import new_context
    from raks.engine.runner import Engine
    from raks.steps import graph
    from reliability.faultcells import matrix_config

    cfg = matrix_config()
    with sandbox_target(served.dir) as (tgt, _):
        ctx = new_context(cfg, tgt, delete_data=True)
        steps = graph.build(cfg, tgt.subscription_id)  # the real subscription: the storage name depends on it
        Engine(steps, ctx).plan()
        yield ctx, {s.key: s for s in steps}


def cluster_key(served: Served) -> str:
    from raks.sandbox.arm.t_aks import _kube_key

    return _kube_key(served.clients().aks.managed_clusters.get(RG, f"aks-{FAULTED_REGION}").id)


def remove_own_resource(step: Step, ctx: Context) -> bool:
    """Destroy just this step's resource, so `up` writes it again; False when it stays (Azure
    refuses to delete a NAT gateway, subnet or NSG in use, or a cluster's last system pool)."""
    ctx.plan, ctx.destroying = False, True
    try:
        step.destroy(ctx)
    except Exception:
        return False
    finally:
        ctx.plan = True
    return step.observe(ctx) is None


def inject(served: Served, fault: Fault, method: str, path: str) -> None:
    for rule in fault.rules:
        served.control.add_fault(method=method, path=path, **rule)


def expected_exit(step: Step, fault: Fault) -> tuple[int, ...]:
    if 3 in fault.exits:
        return fault.exits
    return (5,) if step.region else (4,)


def log_hits(served: Served, method: str, path: str) -> list[dict[str, Any]]:
    pattern = re.compile(path, re.IGNORECASE)
    return [
        e
        for e in served.control.requests()
        if e["method"] == method and (pattern.search(e["path"]) or pattern.search(f"{e['api']}:{e['path']}"))
    ]


def assert_transient_absorbed(served: Served, fault: Fault, method: str, path: str) -> None:
    assert [f["hits"] for f in served.control.faults()] == [1] * len(fault.rules), "a fault did not bite"
    hits = log_hits(served, method, path)
    throttled = next(i for i, e in enumerate(hits) if e["status"] == 429)
    waited = hits[throttled + 1]["start"] - hits[throttled]["end"]
    assert waited >= 0.9, f"the retry after a 429 with Retry-After: 1 came {waited:.2f} s later"


def assert_failed_cleanly(step: Step, fault: Fault, code: int, out: str, err: str, verb: str) -> None:
    assert code in expected_exit(step, fault), err
    lines = [line for line in err.splitlines() if line.startswith(f"error: {step.key}: ")]
    if isinstance(step, HelmReleaseStep):
        # Helm's errors carry the API server's message, not its status or reason.
        message = fault.rules[-1].get("message") or ""
        assert lines and "HelmFailed" in lines[0] and message in lines[0], f"no line naming {step.key}:\n{err}"
        return
    assert lines and fault.code in lines[0], f"no one-line error naming {step.key} and {fault.code}:\n{err}"
    if step.region:
        doc = json.loads(out)
        other = [s for s in doc["steps"] if s["region"] not in (None, FAULTED_REGION)]
        assert other and all(s["state"] == "done" for s in other), f"{verb}: the other region did not finish"


def start_cell(converged: tuple[Path, dict[str, Any]], tmp_path: Path) -> Served:
    (tmp_path / "raks.yaml").write_text(KUBERAY_YAML)
    copy_state(converged[0], tmp_path / "sandbox")
    return Served(tmp_path / "sandbox")


@pytest.mark.parametrize(("key", "kind"), cells("put"), ids=[_ids(c) for c in cells("put")])
def test_up_under_fault(key: str, kind: str, converged, tmp_path, capsys) -> None:
    step = STEPS[key]
    fault = fault_named(step, "put", kind)
    served = start_cell(converged, tmp_path)
    try:
        with observed_context(served) as (ctx, live):
            method, path = target(live[key], ctx, "put", cluster_key(served))
            absent = not isinstance(step, FRESH_START) and remove_own_resource(live[key], ctx)
        if not absent:  # start from an empty cloud
            served.stop()
            shutil.rmtree(served.dir)
            served = Served(served.dir)
        inject(served, fault, method, path)
        code, out, err = served.raks(capsys, "up", "--yes", "-o", "json")
        assert log_hits(served, method, path), f"{key}: the step never wrote {method} {path}\n{err}"
        if fault.transient:
            assert code == 0, err
            assert_transient_absorbed(served, fault, method, path)
        else:
            assert_failed_cleanly(step, fault, code, out, err, "up")
            served.control.clear_faults()
            code, _, err = served.raks(capsys, "up", "--yes")
            assert code == 0, err
        code, _, err = served.raks(capsys, "plan", "--detailed-exitcode")
        assert code == 0, err
        now = census(served)
        assert now == converged[1], f"{now} != {converged[1]}"
    finally:
        served.stop()


@pytest.mark.parametrize(("key", "kind"), cells("delete"), ids=[_ids(c) for c in cells("delete")])
def test_down_under_fault(key: str, kind: str, converged, tmp_path, capsys) -> None:
    step = STEPS[key]
    fault = fault_named(step, "delete", kind)
    served = start_cell(converged, tmp_path)
    try:
        with observed_context(served) as (ctx, live):
            method, path = target(live[key], ctx, "delete", cluster_key(served))
        inject(served, fault, method, path)
        code, out, err = served.raks(capsys, "down", "--yes", "--delete-data", "-o", "json")
        assert log_hits(served, method, path), f"{key}: the step never sent {method} {path}"
        if fault.transient:
            assert code == 0, err
            assert_transient_absorbed(served, fault, method, path)
        else:
            assert_failed_cleanly(step, fault, code, out, err, "down")
            assert leftovers(served), "a failed down removed everything anyway"
            served.control.clear_faults()
            code, _, err = served.raks(capsys, "down", "--yes", "--delete-data")
            assert code == 0, err
        assert leftovers(served) == []
    finally:
        served.stop()
