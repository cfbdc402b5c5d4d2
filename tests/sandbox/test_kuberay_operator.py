"""The simulated KubeRay operator never reports SUCCEEDED for a RayJob a real cluster could not run,
and the blob CSI driver refuses StorageClass parameters it does not know. Real `kubernetes` client."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from helpers.emulator import emulator
from helpers.kuberay_crds import install_kuberay_crds
from raks.sandbox.world import World

VERSION = "1.34.1"
RAY = ("ray.io", "v1")

# The example's entrypoint as it was (issue 13 item 6): a folded block joins the program's lines.
FOLDED = """
entrypoint: >-
  python -c "
  import os, ray
  from ray import tune
  def objective(config):
      score = (config['lr'] - 0.01) ** 2 + config['momentum']
      tune.report({'score': score})
  print(objective)
  "
"""
LITERAL = FOLDED.replace(">-", "|")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str, Path]]:
    with emulator(tmp_path_factory.mktemp("kuberay-sandbox")) as running:
        yield running


@pytest.fixture
def cluster(world: tuple[World, str, Path]) -> Iterator[tuple[client.ApiClient, World, str]]:
    w, url, ca = world
    key = "c" + uuid.uuid4().hex[:12]
    with w.lock:
        token = w.kube.create_cluster(key, VERSION)
    config = client.Configuration()
    config.host = f"{url}/k8s/{key}"
    config.ssl_ca_cert = str(ca)
    config.api_key = {"authorization": f"Bearer {token}"}
    api = client.ApiClient(config)
    install_kuberay_crds(api)  # as the kuberay-operator chart does; ray.io is served only then
    try:
        yield api, w, key
    finally:
        api.close()


def _job(name: str, entrypoint: str = "python tune.py", head: dict[str, Any] | None = None, **worker: Any) -> dict:
    spec: dict[str, Any] = {"headGroupSpec": {"template": {"spec": head or {"containers": [{"name": "ray-head"}]}}}}
    if worker:
        spec["workerGroupSpecs"] = [{"groupName": "gpu", "replicas": 1, "template": {"spec": worker}}]
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": name},
        "spec": {"entrypoint": entrypoint, "rayClusterSpec": spec},
    }


def _create(api: client.ApiClient, job: dict[str, Any]) -> None:
    client.CustomObjectsApi(api).create_namespaced_custom_object(*RAY, "default", "rayjobs", job)


def _status(api: client.ApiClient, name: str) -> dict[str, Any]:
    job = client.CustomObjectsApi(api).get_namespaced_custom_object(*RAY, "default", "rayjobs", name)
    return job.get("status") or {}


def _wait_for_end(api: client.ApiClient, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = _status(api, name)
        if status.get("jobDeploymentStatus") in ("Complete", "Failed"):
            return status
        time.sleep(0.02)
    raise AssertionError(f"{name} did not finish: {status}")


def _blocked_next_to_a_job_that_ends(api: client.ApiClient, blocked: dict[str, Any]) -> dict[str, Any]:
    """Create the blocked job and a runnable one together; once the runnable one has finished,
    the blocked one has had every step it could take."""
    _create(api, blocked)
    _create(api, _job("control"))
    assert _wait_for_end(api, "control")["jobStatus"] == "SUCCEEDED"
    return _status(api, blocked["metadata"]["name"])


def test_a_python_c_entrypoint_that_does_not_compile_fails_as_ray_reports_it(cluster) -> None:
    api, _, _ = cluster
    _create(api, _job("folded", yaml.safe_load(FOLDED)["entrypoint"]))
    _create(api, _job("literal", yaml.safe_load(LITERAL)["entrypoint"]))
    failed = _wait_for_end(api, "folded")
    assert (failed["jobDeploymentStatus"], failed["jobStatus"], failed["reason"]) == ("Failed", "FAILED", "AppFailed")
    assert failed["message"].startswith("Job entrypoint command failed with exit code 1, last available logs")
    assert "IndentationError: unexpected indent" in failed["message"]
    assert (failed["failed"], failed["succeeded"]) == (1, 0)
    assert _wait_for_end(api, "literal")["jobStatus"] == "SUCCEEDED"


def test_a_missing_service_account_keeps_the_job_initializing_with_a_replica_failure(cluster) -> None:
    api, _, _ = cluster
    head = {"serviceAccountName": "ray-workloads", "containers": [{"name": "ray-head"}]}
    status = _blocked_next_to_a_job_that_ends(api, _job("no-sa", head=head))
    assert (status["jobDeploymentStatus"], status["jobStatus"]) == ("Initializing", "")
    conditions = {c["type"]: c for c in status["rayClusterStatus"]["conditions"]}
    failure = conditions["ReplicaFailure"]
    assert (failure["status"], failure["reason"]) == ("True", "FailedCreateHeadPod")
    assert (
        'error looking up service account default/ray-workloads: serviceaccount "ray-workloads" not found'
        in (failure["message"])
    )
    assert (conditions["HeadPodReady"]["status"], conditions["HeadPodReady"]["reason"]) == ("False", "HeadPodNotFound")
    assert client.CoreV1Api(api).list_namespaced_pod("default").items == []  # the pods were refused


def test_a_missing_claim_leaves_the_head_pod_pending_and_unschedulable(cluster) -> None:
    api, _, _ = cluster
    head = {
        "containers": [{"name": "ray-head", "volumeMounts": [{"name": "results", "mountPath": "/results"}]}],
        "volumes": [{"name": "results", "persistentVolumeClaim": {"claimName": "blob-fuse2"}}],
    }
    status = _blocked_next_to_a_job_that_ends(api, _job("no-pvc", head=head))
    assert (status["jobDeploymentStatus"], status["jobStatus"]) == ("Initializing", "")
    pods = (
        client.CoreV1Api(api)
        .list_namespaced_pod(
            "default", label_selector=f"ray.io/cluster={status['rayClusterName']},ray.io/node-type=head"
        )
        .items
    )
    assert len(pods) == 1 and pods[0].status.phase == "Pending"
    scheduled = next(c for c in pods[0].status.conditions if c.type == "PodScheduled")
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    assert scheduled.message == '0/0 nodes are available: persistentvolumeclaim "blob-fuse2" not found.'


POOLS = [
    {"name": "cpu", "count": 2, "vm_size": "Standard_D16s_v5", "labels": {}, "taints": [], "spot": False, "mode": "System"},
    {"name": "a100", "count": 1, "vm_size": "Standard_NC24ads_A100_v4", "labels": {}, "taints": ["nvidia.com/gpu=present:NoSchedule"], "spot": True, "mode": "User"},
]  # fmt: skip
GPU_WORKER = {
    "nodeSelector": {"kubernetes.azure.com/agentpool": "a100"},
    "tolerations": [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
        {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"},
    ],
}


def _gpu_worker(gpus: str) -> dict[str, Any]:
    return {**GPU_WORKER, "containers": [{"name": "ray-worker", "resources": {"limits": {"nvidia.com/gpu": gpus}}}]}


def test_more_gpus_than_any_node_has_leave_the_worker_pending(cluster) -> None:
    api, w, key = cluster
    with w.lock:
        w.kube.set_nodes(key, POOLS)  # one Standard_NC24ads_A100_v4 node: 1 GPU
    _create(api, _job("fits", **_gpu_worker("1")))
    status = _blocked_next_to_a_job_that_ends(api, _job("too-many", **_gpu_worker("2")))
    assert (status["jobDeploymentStatus"], status["jobStatus"]) == ("Initializing", "")
    pods = (
        client.CoreV1Api(api)
        .list_namespaced_pod("default", label_selector=f"ray.io/cluster={status['rayClusterName']},ray.io/group=gpu")
        .items
    )
    scheduled = next(c for c in pods[0].status.conditions if c.type == "PodScheduled")
    assert scheduled.reason == "Unschedulable"
    assert scheduled.message == (
        "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node affinity/selector."
    )
    assert _wait_for_end(api, "fits")["jobStatus"] == "SUCCEEDED"


def _storage_class(name: str, **params: str) -> client.V1StorageClass:
    return client.V1StorageClass(
        metadata=client.V1ObjectMeta(name=name), provisioner="blob.csi.azure.com", parameters=params
    )


def _claim(name: str, storage_class: str) -> client.V1PersistentVolumeClaim:
    return client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteMany"],
            storage_class_name=storage_class,
            resources=client.V1VolumeResourceRequirements(requests={"storage": "10Gi"}),
        ),
    )


def test_a_claim_on_a_class_with_a_parameter_the_blob_driver_does_not_know_stays_pending(cluster) -> None:
    api, _, _ = cluster
    core, storage = client.CoreV1Api(api), client.StorageV1Api(api)
    storage.create_storage_class(_storage_class("typo", protocol="fuse2", storageAcount="acct"))
    storage.create_storage_class(
        _storage_class(
            "raks",
            protocol="fuse2",
            storageAccount="acct",
            resourceGroup="rg",
            clientID="id",
            mountWithWorkloadIdentityToken="true",
        )
    )
    core.create_namespaced_persistent_volume_claim("default", _claim("data", "typo"))
    core.create_namespaced_persistent_volume_claim("default", _claim("good", "raks"))

    assert core.read_namespaced_persistent_volume_claim("data", "default").status.phase == "Pending"
    assert core.read_namespaced_persistent_volume_claim("good", "default").status.phase == "Bound"
    events = core.list_namespaced_event("default", field_selector="involvedObject.name=data").items
    assert [(e.type, e.reason) for e in events] == [("Warning", "ProvisioningFailed")]
    assert events[0].message == (
        'failed to provision volume with StorageClass "typo": rpc error: code = InvalidArgument '
        'desc = invalid parameter "storageAcount" in storage class'
    )
    assert events[0].involved_object.kind == "PersistentVolumeClaim"
