"""Simulated controllers that act over time: KubeRay's RayJob/RayCluster status, late PVC binding.

They run lazily: before each request to a cluster, `settle` brings every object to the status its
age implies (wall-clock time since creation, from `world.now()`), so a killed process resumes
where it was. The KubeRay operator is simulated always, whether or not a `kuberay-operator`
Deployment exists: in the sandbox, Helm releases are records, not running pods.

A RayJob goes, one `RAYJOB_PHASE_SECONDS` step at a time, through KubeRay's statuses:
jobDeploymentStatus Initializing -> Running (jobStatus PENDING, then RUNNING) -> Complete
(SUCCEEDED). With the annotation `sandbox.raks.dev/outcome: failed` it ends Failed (FAILED).
A RayCluster becomes `ready` after one step.
"""

from __future__ import annotations

import hashlib
from typing import Any

from raks.sandbox.kube import behaviors
from raks.sandbox.kube.store import Cluster, clone, meta, rfc3339

RAYJOB_PHASE_SECONDS = 0.2
OUTCOME_ANNOTATION = "sandbox.raks.dev/outcome"
OPERATOR = "kuberay-operator"


def settle(cluster: Cluster) -> None:
    for store_key, status in (("ray.io/rayjobs", rayjob_status), ("ray.io/rayclusters", raycluster_status)):
        rt = cluster.rt(store_key)
        for obj in list(cluster.items(rt)):
            started = cluster.timer(meta(obj).get("uid", ""))
            if started is None:
                continue
            wanted = status(obj, started, cluster.now())
            if obj.get("status") != wanted:
                new = clone(obj)
                new["status"] = wanted
                cluster.save(rt, new, obj, OPERATOR, "status")
    _bind_waiting_claims(cluster)
    behaviors.settle_load_balancers(cluster)


def _suffix(obj: dict[str, Any], salt: str) -> str:
    """A stable 5-character suffix, like the random ones KubeRay generates."""
    return hashlib.sha256(f"{meta(obj).get('uid')}/{salt}".encode()).hexdigest()[:5]


def rayjob_status(job: dict[str, Any], started: float, now: float) -> dict[str, Any]:
    m = meta(job)
    name, namespace = m["name"], m.get("namespace", "default")
    selector = (job.get("spec") or {}).get("clusterSelector") or {}
    cluster_name = selector.get("ray.io/cluster") or f"{name}-raycluster-{_suffix(job, 'cluster')}"
    step = int((now - started) / RAYJOB_PHASE_SECONDS) if RAYJOB_PHASE_SECONDS > 0 else 3
    status: dict[str, Any] = {
        "jobId": f"{name}-{_suffix(job, 'job')}",
        "rayClusterName": cluster_name,
        "dashboardURL": f"{cluster_name}-head-svc.{namespace}.svc.cluster.local:8265",
        "startTime": rfc3339(started),
        "observedGeneration": m.get("generation", 1),
    }
    if step < 1:
        return {**status, "jobDeploymentStatus": "Initializing", "jobStatus": ""}
    if step < 3:
        return {**status, "jobDeploymentStatus": "Running", "jobStatus": "PENDING" if step < 2 else "RUNNING"}
    end = rfc3339(started + 3 * RAYJOB_PHASE_SECONDS)
    if (m.get("annotations") or {}).get(OUTCOME_ANNOTATION) == "failed":
        return {
            **status,
            "jobDeploymentStatus": "Failed",
            "jobStatus": "FAILED",
            "reason": "AppFailed",
            "message": "Job entrypoint command failed with exit code 1",
            "endTime": end,
            "failed": 1,
            "succeeded": 0,
        }
    return {
        **status,
        "jobDeploymentStatus": "Complete",
        "jobStatus": "SUCCEEDED",
        "message": "Job finished successfully.",
        "endTime": end,
        "failed": 0,
        "succeeded": 1,
    }


def raycluster_status(rc: dict[str, Any], started: float, now: float) -> dict[str, Any]:
    m, spec = meta(rc), rc.get("spec") or {}
    workers = sum(int(g.get("replicas", g.get("minReplicas", 0)) or 0) for g in spec.get("workerGroupSpecs") or [])
    ready = RAYJOB_PHASE_SECONDS <= 0 or now - started >= RAYJOB_PHASE_SECONDS
    status: dict[str, Any] = {
        "desiredWorkerReplicas": workers,
        "availableWorkerReplicas": workers if ready else 0,
        "readyWorkerReplicas": workers if ready else 0,
        "observedGeneration": m.get("generation", 1),
        "conditions": [
            _condition("RayClusterProvisioned", ready, "AllPodRunningAndReadyFirstTime", "RayClusterPodsProvisioning"),
            _condition("HeadPodReady", ready, "HeadPodRunningAndReady", "HeadPodNotFound"),
        ],
    }
    if ready:
        status["state"] = "ready"
        status["head"] = {"serviceName": f"{m['name']}-head-svc", "podName": f"{m['name']}-head-{_suffix(rc, 'head')}"}
        status["endpoints"] = {"client": "10001", "dashboard": "8265", "gcs-server": "6379", "metrics": "8080"}
    return status


def _condition(kind: str, ready: bool, reason_ready: str, reason_waiting: str) -> dict[str, str]:
    return {"type": kind, "status": str(ready), "reason": reason_ready if ready else reason_waiting}


def _bind_waiting_claims(cluster: Cluster) -> None:
    """A claim created before its StorageClass binds once the class exists."""
    rt = cluster.rt("/persistentvolumeclaims")
    for pvc in list(cluster.items(rt)):
        if (pvc.get("status") or {}).get("phase") != "Pending":
            continue
        new = clone(pvc)
        if behaviors.bind_claim(cluster, new):
            cluster.save(rt, new, pvc, "kube-controller-manager")
            behaviors.sync_volume(cluster, new)
