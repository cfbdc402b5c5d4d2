"""Simulated controllers that act over time: KubeRay's RayJob/RayCluster status, late PVC binding.

They run lazily: before each request to a cluster, `settle` brings every object to the status its
age implies (wall-clock time since creation, from `world.now()`), so a killed process resumes
where it was. The KubeRay operator is simulated always, whether or not a `kuberay-operator`
Deployment exists: in the sandbox, Helm releases are records, not running pods.

A RayJob goes, one `RAYJOB_PHASE_SECONDS` step at a time, through KubeRay's statuses:
jobDeploymentStatus Initializing -> Running (jobStatus PENDING, then RUNNING) -> Complete
(SUCCEEDED). It never reports SUCCEEDED for a job that could not have run on a real cluster:

- a `python -c PROGRAM` entrypoint that does not compile ends Failed / FAILED / AppFailed with
  the traceback Python prints, as Ray's job supervisor reports a non-zero exit;
- a pod template whose service account does not exist: the API server refuses the pods, the
  RayCluster reports ReplicaFailure (FailedCreateHeadPod / FailedCreateWorkerPod) and the job
  stays Initializing;
- a pod that cannot be scheduled (its PVC is missing or unbound, or it asks for more
  `nvidia.com/gpu` than any node it may run on has): the pod stays Pending with the scheduler's
  PodScheduled=False/Unschedulable condition and the job stays Initializing.

With the annotation `sandbox.raks.dev/outcome: failed` a job that could run ends Failed (FAILED).
A RayCluster becomes `ready` after one step.
"""

from __future__ import annotations

import hashlib
import shlex
import traceback
from typing import Any

from raks.sandbox.kube import behaviors
from raks.sandbox.kube.store import Cluster, clone, meta, rfc3339
from raks.sandbox.kube.validation import quantity

RAYJOB_PHASE_SECONDS = 0.2
OUTCOME_ANNOTATION = "sandbox.raks.dev/outcome"
OPERATOR = "kuberay-operator"
SCHEDULER = "default-scheduler"
GPU = "nvidia.com/gpu"


def settle(cluster: Cluster) -> None:
    for store_key, status in (("ray.io/rayjobs", rayjob_status), ("ray.io/rayclusters", raycluster_status)):
        if not any(t.store_key == store_key for t in cluster.catalog.types):
            continue  # the KubeRay CRDs are not installed (the kuberay-operator chart brings them)
        rt = cluster.rt(store_key)
        for obj in list(cluster.items(rt)):
            started = cluster.timer(meta(obj).get("uid", ""))
            if started is None:
                continue
            wanted = status(obj, started, cluster.now(), cluster)
            if obj.get("status") != wanted:
                new = clone(obj)
                new["status"] = wanted
                cluster.save(rt, new, obj, OPERATOR, "status")
    _bind_waiting_claims(cluster)
    behaviors.settle_load_balancers(cluster)


def _suffix(obj: dict[str, Any], salt: str) -> str:
    """A stable 5-character suffix, like the random ones KubeRay generates."""
    return hashlib.sha256(f"{meta(obj).get('uid')}/{salt}".encode()).hexdigest()[:5]


# -- what a real cluster would have refused ------------------------------------------------------


def entrypoint_error(entrypoint: str) -> str | None:
    """What Python prints for a `python -c PROGRAM` entrypoint that does not compile (None: it does,
    or it is not such an entrypoint). Ray runs the entrypoint through a shell, so it is split the
    way a POSIX shell splits it; a YAML folded block (`>-`) joins the program's lines and fails here."""
    try:
        argv = shlex.split(entrypoint)
    except ValueError as exc:  # an unterminated quote: the shell itself fails
        return f"/bin/sh: 1: Syntax error: {exc}"
    for i, word in enumerate(argv[:-2]):
        if word.rsplit("/", 1)[-1].startswith("python") and argv[i + 1] == "-c":
            try:
                compile(argv[i + 2], "<string>", "exec")
            except SyntaxError as exc:
                return "".join(traceback.format_exception_only(exc))
            return None
    return None


def _pod_templates(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(pod name prefix, node type, pod spec) of a RayCluster spec's head and worker groups."""
    head = ((spec.get("headGroupSpec") or {}).get("template") or {}).get("spec") or {}
    out = [("head", "head", head)]
    for group in spec.get("workerGroupSpecs") or []:
        if int(group.get("replicas", group.get("minReplicas", 0)) or 0) > 0:
            pod = (group.get("template") or {}).get("spec") or {}
            out.append((f"{group.get('groupName')}-worker", "worker", pod))
    return out


def _missing_service_account(cluster: Cluster, namespace: str, pod: dict[str, Any]) -> str | None:
    name = pod.get("serviceAccountName") or pod.get("serviceAccount") or "default"
    if cluster.get(cluster.rt("/serviceaccounts"), namespace, name) is None:
        return name
    return None


def _unschedulable(cluster: Cluster, namespace: str, pod: dict[str, Any]) -> str | None:
    """kube-scheduler's FailedScheduling message for a pod no node can take (None: schedulable).

    Messages as kube-scheduler's plugins word them (kubernetes/kubernetes
    pkg/scheduler/framework/plugins/volumebinding: `persistentvolumeclaim "%s" not found`,
    "pod has unbound immediate PersistentVolumeClaims"; noderesources/fit.go "Insufficient %s";
    nodeaffinity "node(s) didn't match Pod's node affinity/selector")."""
    nodes = cluster.items(cluster.rt("/nodes"))
    prefix = f"0/{len(nodes)} nodes are available: "
    for volume in pod.get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim:
            continue
        pvc = cluster.get(cluster.rt("/persistentvolumeclaims"), namespace, claim)
        if pvc is None:
            return f'{prefix}persistentvolumeclaim "{claim}" not found.'
        if (pvc.get("status") or {}).get("phase") != "Bound":
            return f"{prefix}pod has unbound immediate PersistentVolumeClaims."
    need = _gpus(pod)
    if need == 0:
        return None
    admitted = [n for n in nodes if behaviors.schedulable(n, pod)]
    if not admitted:
        # No node of the pool exists yet: the cluster autoscaler may scale a pool up from zero,
        # so the pod waits rather than fails (the sandbox does not model the autoscaler).
        return None
    if any(float(quantity(((n.get("status") or {}).get("allocatable") or {}).get(GPU)) or 0) >= need for n in admitted):
        return None
    parts = [f"{len(admitted)} Insufficient {GPU}"]
    if len(nodes) > len(admitted):
        parts.append(f"{len(nodes) - len(admitted)} node(s) didn't match Pod's node affinity/selector")
    return prefix + ", ".join(parts) + "."


def _gpus(pod: dict[str, Any]) -> float:
    total = 0.0
    for c in pod.get("containers") or []:
        res = c.get("resources") or {}
        total += float(quantity((res.get("limits") or {}).get(GPU) or (res.get("requests") or {}).get(GPU)) or 0)
    return total


def blockers(cluster: Cluster, namespace: str, spec: dict[str, Any]) -> tuple[list[dict[str, str]], list[tuple]]:
    """Why a RayCluster spec cannot become ready: (ReplicaFailure conditions, unschedulable pods
    as (name prefix, node type, pod spec, message))."""
    failures: list[dict[str, str]] = []
    pending: list[tuple] = []
    for prefix, node_type, pod in _pod_templates(spec):
        account = _missing_service_account(cluster, namespace, pod)
        if account:
            # The ServiceAccount admission plugin refuses the pod; KubeRay joins its
            # ErrFailedCreateHeadPod/ErrFailedCreateWorkerPod marker (whose text is the reason)
            # with the API error and sets ReplicaFailure (ray-operator/controllers/ray/utils,
            # raycluster_controller.go at v1.4.2).
            reason = "FailedCreateHeadPod" if node_type == "head" else "FailedCreateWorkerPod"
            message = (
                f"{reason}\npods is forbidden: error looking up service account "
                f'{namespace}/{account}: serviceaccount "{account}" not found'
            )
            failures.append({"type": "ReplicaFailure", "status": "True", "reason": reason, "message": message})
            continue
        why = _unschedulable(cluster, namespace, pod)
        if why:
            pending.append((prefix, node_type, pod, why))
    return failures, pending


def _hold_pods(cluster: Cluster, owner: dict[str, Any], cluster_name: str, pending: list[tuple]) -> None:
    """The Pending pods of a RayCluster that cannot be scheduled, as the scheduler leaves them
    (status.conditions PodScheduled=False, reason Unschedulable). Owned by the RayJob/RayCluster, so
    they go when it is deleted."""
    rt = cluster.rt("/pods")
    namespace = meta(owner).get("namespace", "default")
    for prefix, node_type, pod, why in pending:
        name = f"{cluster_name}-{prefix}-{_suffix(owner, prefix)}"
        if cluster.get(rt, namespace, name) is not None:
            continue
        group = "headgroup" if node_type == "head" else prefix.removesuffix("-worker")
        labels = {"ray.io/cluster": cluster_name, "ray.io/node-type": node_type, "ray.io/group": group}
        ref = {
            "apiVersion": "ray.io/v1",
            "kind": owner.get("kind", "RayJob"),
            "name": meta(owner)["name"],
            "uid": meta(owner)["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": [ref]},
            "spec": clone(pod),
            "status": {
                "phase": "Pending",
                "qosClass": "Burstable",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": cluster.timestamp(),
                        "reason": "Unschedulable",
                        "message": why,
                    }
                ],
            },
        }
        cluster.save(rt, obj, None, SCHEDULER)


def _blocked_cluster_status(failures: list[dict[str, str]], pending: list[tuple]) -> dict[str, Any]:
    """A RayCluster's status while its pods cannot be created or scheduled: not ready, the head
    pod not ready (HeadPodNotFound when it could not be created, else Unknown: a Pending pod has no
    PodReady condition; utils.FindHeadPodReadyCondition)."""
    head_missing = any(f["reason"] == "FailedCreateHeadPod" for f in failures)
    conditions = [
        {"type": "RayClusterProvisioned", "status": "False", "reason": "RayClusterPodsProvisioning"},
        {"type": "HeadPodReady", "status": "False", "reason": "HeadPodNotFound" if head_missing else "Unknown"},
        *failures[:1],
    ]
    return {
        "desiredWorkerReplicas": 0,
        "availableWorkerReplicas": 0,
        "readyWorkerReplicas": 0,
        "conditions": conditions,
    }


# -- statuses -----------------------------------------------------------------------------------


def rayjob_status(job: dict[str, Any], started: float, now: float, cluster: Cluster | None = None) -> dict[str, Any]:
    m, spec = meta(job), job.get("spec") or {}
    name, namespace = m["name"], m.get("namespace", "default")
    selector = spec.get("clusterSelector") or {}
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
    if cluster is not None and not selector and spec.get("rayClusterSpec"):
        failures, pending = blockers(cluster, namespace, spec["rayClusterSpec"])
        if failures or pending:
            # KubeRay waits in Initializing until the RayCluster is ready (rayjob_controller.go):
            # without activeDeadlineSeconds, forever.
            _hold_pods(cluster, job, cluster_name, pending)
            blocked = _blocked_cluster_status(failures, pending)
            return {**status, "jobDeploymentStatus": "Initializing", "jobStatus": "", "rayClusterStatus": blocked}
    if step < 3:
        return {**status, "jobDeploymentStatus": "Running", "jobStatus": "PENDING" if step < 2 else "RUNNING"}
    end = rfc3339(started + 3 * RAYJOB_PHASE_SECONDS)
    crash = entrypoint_error(str(spec.get("entrypoint") or ""))
    if crash is not None or (m.get("annotations") or {}).get(OUTCOME_ANNOTATION) == "failed":
        # Ray's job supervisor: "Job entrypoint command failed with exit code N, last available
        # logs (truncated to 20,000 chars):\n<log tail>" (ray dashboard/modules/job/job_supervisor.py);
        # KubeRay copies it to status.message with reason AppFailed (rayjob_types.go, JobFailedReason).
        logs = crash or "Error: the job failed (sandbox.raks.dev/outcome: failed)\n"
        return {
            **status,
            "jobDeploymentStatus": "Failed",
            "jobStatus": "FAILED",
            "reason": "AppFailed",
            "message": "Job entrypoint command failed with exit code 1, last available logs (truncated to 20,000 chars):\n"
            + logs,
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


def raycluster_status(rc: dict[str, Any], started: float, now: float, cluster: Cluster | None = None) -> dict[str, Any]:
    m, spec = meta(rc), rc.get("spec") or {}
    if cluster is not None:
        failures, pending = blockers(cluster, m.get("namespace", "default"), spec)
        if failures or pending:
            _hold_pods(cluster, rc, m["name"], pending)
            return {**_blocked_cluster_status(failures, pending), "observedGeneration": m.get("generation", 1)}
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
