"""`raks submit`: run a RayJob on a region's cluster and follow it to the end (platform kuberay).

A job whose GPU request no configured pool can satisfy is refused before it is applied: on AKS
it would otherwise sit Pending until the submitter gives up.
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


def submit(
    cfg: RaksConfig,
    arm: Any,
    region: str,
    job: dict[str, Any],
    *,
    on_status: Callable[[dict[str, Any]], None] = lambda s: None,
    timeout: float = 3600.0,
    poll: float = 5.0,
) -> dict[str, Any]:
    """Apply the RayJob and wait for jobDeploymentStatus Complete/Failed; returns its status."""
    from raks.adapters.kube import Kube

    if job.get("apiVersion") != "ray.io/v1" or job.get("kind") != "RayJob":
        raise ConfigError("FILE: must hold one RayJob (apiVersion ray.io/v1, kind RayJob)")
    problems = gpu_problems(cfg, job)
    if problems:
        raise ConfigError(
            [f"FILE: {p}" for p in problems], hint="change the job's GPU request or add a pool in raks.yaml"
        )
    job.setdefault("metadata", {}).setdefault("namespace", names.workload_identity(cfg)[0])
    kube = Kube(arm.cluster_user_kubeconfig(cfg.resolved_resource_group(), names.region_names(cfg, region).cluster))
    kube.apply(job)
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        current = kube.get(job) or {}
        status = current.get("status") or {}
        if status != last:
            on_status(status)
            last = status
        if status.get("jobDeploymentStatus") in TERMINAL:
            return status
        time.sleep(poll)
    raise CloudError(
        f"RayJob {job['metadata']['name']} did not finish within {timeout:.0f}s", code="Timeout", region=region
    )
