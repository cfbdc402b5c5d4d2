"""`raks submit`: run a RayJob on a region's cluster and follow it to the end (platform kuberay).

A job whose GPU request no configured pool can satisfy is refused before it is applied: on AKS
it would otherwise sit Pending until the submitter gives up.

Submitting a job whose RayJob already finished runs it again: KubeRay never moves a RayJob out of a
terminal jobDeploymentStatus (Complete/Failed; ray-operator/apis/ray/v1/rayjob_types.go
IsJobDeploymentTerminal, rayjob_controller.go at v1.4.2), so re-applying it would only show the old
result. The old RayJob is deleted and a new one created; only the new uid is followed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from raks import names, vm_sizes
from raks.config import RaksConfig
from raks.errors import CloudError, ConfigError

TERMINAL = {"Complete", "Failed"}
GPU = "nvidia.com/gpu"


def _pod_specs(job: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    spec = (job.get("spec") or {}).get("rayClusterSpec") or {}
    out = [("head", ((spec.get("headGroupSpec") or {}).get("template") or {}).get("spec") or {})]
    for group in spec.get("workerGroupSpecs") or []:
        out.append((f"worker group {group.get('groupName')}", (group.get("template") or {}).get("spec") or {}))
    return out


def _gpus(pod: dict[str, Any]) -> int:
    total = 0
    for c in pod.get("containers") or []:
        res = c.get("resources") or {}
        wanted = (res.get("limits") or {}).get(GPU) or (res.get("requests") or {}).get(GPU) or 0
        total += int(wanted)
    return total


def gpu_problems(cfg: RaksConfig, job: dict[str, Any]) -> list[str]:
    """Why no configured pool can run some part of the job (empty when all fit)."""
    problems = []
    for what, pod in _pod_specs(job):
        need = _gpus(pod)
        if need == 0:
            continue
        selector = pod.get("nodeSelector") or {}
        wanted_pool = selector.get("kubernetes.azure.com/agentpool") or selector.get("agentpool")
        candidates = [p for p in cfg.pools if wanted_pool in (None, p.name)]
        fits = []
        for pool in candidates:
            size = vm_sizes.lookup(pool.vm_size)
            if size is not None and size.gpus >= need and pool.max_count > 0:
                fits.append(pool.name)
        if not fits:
            where = f"pool '{wanted_pool}'" if wanted_pool else "any configured pool"
            offered = ", ".join(
                f"{p.name}: {(vm_sizes.lookup(p.vm_size) or vm_sizes.VmSize(p.vm_size, '', 0, 0)).gpus} GPU(s)/node"
                for p in cfg.pools
            )
            problems.append(f"{what} asks for {need} {GPU} per pod, which {where} cannot provide ({offered})")
    return problems


def head_service(job: dict[str, Any], status: dict[str, Any]) -> str:
    """The RayCluster's head Service: the name the job's headService sets, else KubeRay's
    `<cluster>-head-svc` (the host of status.dashboardURL)."""
    spec = ((job.get("spec") or {}).get("rayClusterSpec") or {}).get("headGroupSpec") or {}
    custom = ((spec.get("headService") or {}).get("metadata") or {}).get("name")
    if custom:
        return str(custom)
    if status.get("rayClusterName"):
        return f"{status['rayClusterName']}-head-svc"
    return str(status.get("dashboardURL", "")).split(".", 1)[0] or "<cluster>-head-svc"


def _ray_cluster_conditions(kube: Any, namespace: str, status: dict[str, Any]) -> list[dict[str, Any]]:
    """The RayCluster's status conditions: from the RayCluster itself, else as the RayJob carries
    them (status.rayClusterStatus, KubeRay's RayJobStatus)."""
    name = status.get("rayClusterName")
    rc = (
        kube.get({"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": name, "namespace": namespace}})
        if name
        else None
    )
    source = (rc or {}).get("status") or status.get("rayClusterStatus") or {}
    return list(source.get("conditions") or [])


def _waiting_reasons(kube: Any, namespace: str, status: dict[str, Any]) -> list[str]:
    """Why the job's pods are not running yet: pods the scheduler could not place."""
    name = status.get("rayClusterName")
    if not name:
        return []
    pods = kube.list(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": namespace}}, f"ray.io/cluster={name}"
    )
    reasons = []
    for pod in pods:
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                reasons.append(f"pod {pod['metadata']['name']}: {cond.get('reason')}: {cond.get('message')}")
    return reasons


def _replace_finished(
    kube: Any, job: dict[str, Any], old: dict[str, Any], on_note: Callable[[str], None], poll: float
) -> None:
    """A RayJob that already ran is deleted (KubeRay does not run a finished RayJob again) and the
    new one created; the old run's uid is never followed."""
    old_uid = old["metadata"].get("uid")
    status = old.get("status") or {}
    on_note(
        f"{job['metadata']['name']}: a previous run ended {status.get('jobStatus') or status.get('jobDeploymentStatus')}"
        f" at {status.get('endTime', '?')}; deleting it to run the job again"
    )
    kube.delete(old)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        current = kube.get(job)
        if current is None or current["metadata"].get("uid") != old_uid:
            return
        time.sleep(poll)
    raise CloudError(f"RayJob {job['metadata']['name']}: the previous run was not deleted within 300s", code="Timeout")


def submit(
    cfg: RaksConfig,
    arm: Any,
    region: str,
    job: dict[str, Any],
    *,
    on_status: Callable[[dict[str, Any]], None] = lambda s: None,
    on_note: Callable[[str], None] = lambda s: None,
    timeout: float = 3600.0,
    poll: float = 5.0,
) -> dict[str, Any]:
    """Run the RayJob and wait for jobDeploymentStatus Complete/Failed; returns the status of this
    run (with its uid). A finished RayJob of the same name is replaced; one still running is
    followed, and said to be."""
    from raks.adapters.kube import Kube

    if job.get("apiVersion") != "ray.io/v1" or job.get("kind") != "RayJob":
        raise ConfigError("FILE: must hold one RayJob (apiVersion ray.io/v1, kind RayJob)")
    problems = gpu_problems(cfg, job)
    if problems:
        raise ConfigError(
            [f"FILE: {p}" for p in problems], hint="change the job's GPU request or add a pool in raks.yaml"
        )
    meta = job.setdefault("metadata", {})
    meta.setdefault("namespace", names.workload_identity(cfg)[0])
    name, namespace = meta["name"], meta["namespace"]
    kube = Kube(arm.cluster_user_kubeconfig(cfg.resolved_resource_group(), names.region_names(cfg, region).cluster))
    old = kube.get(job)
    old_status = (old or {}).get("status") or {}
    if old is not None and old_status.get("jobDeploymentStatus") in TERMINAL:
        _replace_finished(kube, job, old, on_note, poll)
        old = None
    if old is not None:
        started = old_status.get("startTime") or old["metadata"].get("creationTimestamp")
        on_note(f"{name}: already running since {started}; following that run (delete it to submit a changed job)")
        uid = old["metadata"]["uid"]
    else:
        uid = kube.apply(job)["metadata"]["uid"]
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    seen: set[str] = set()
    waiting: list[str] = []
    while time.monotonic() < deadline:
        current = kube.get(job) or {}
        if (current.get("metadata") or {}).get("uid") != uid:
            raise CloudError(
                f"RayJob {name} was deleted or replaced while raks followed it", code="Gone", region=region
            )
        status = current.get("status") or {}
        if status != last:
            on_status(status)
            last = status
        if status.get("jobDeploymentStatus") in TERMINAL:
            return {**status, "uid": uid}
        if status.get("jobDeploymentStatus") in (None, "", "Initializing"):
            for cond in _ray_cluster_conditions(kube, namespace, status):
                if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
                    # The API server refused the pods (e.g. a missing service account): nothing
                    # retries that until the cause is fixed.
                    message = str(cond.get("message", "")).replace("\n", ": ")
                    raise CloudError(
                        f"RayJob {name}: its RayCluster cannot create pods: {message}",
                        code=str(cond.get("reason") or "ReplicaFailure"),
                        region=region,
                        hint=f"fix the pod templates, then run raks submit again (kubectl -n {namespace} describe raycluster)",
                    )
            waiting = _waiting_reasons(kube, namespace, status)
            for reason in waiting:
                if reason not in seen:
                    seen.add(reason)
                    on_note(f"{name}: waiting: {reason}")
        time.sleep(poll)
    why = f"; still waiting: {'; '.join(waiting)}" if waiting else ""
    raise CloudError(
        f"RayJob {name} did not finish within {timeout:.0f}s (last status: {last.get('jobDeploymentStatus') or '-'}){why}",
        code="Timeout",
        region=region,
    )
