"""The Kubernetes API server of each emulated AKS cluster, at `/k8s/<cluster key>/...`.

A faithful-enough kube-apiserver for the real clients: the `kubernetes` Python client (typed and
dynamic), kubectl v1.32 and the Helm v4 engine (client-go). Emulated:
- discovery (/version, /api, /apis, per group-version; the aggregated format is answered with the
  plain one, which clients accept as from a pre-1.26 server);
- OpenAPI v2 (`/openapi/v2`, gnostic protobuf or JSON) and v3 (`/openapi/v3` index and one document
  per group-version) for the served kinds, enough for Helm's/kubectl's client-side validation
  (unknown top-level fields, ObjectMeta types) and `kubectl explain` (see `openapi`);
- CRUD on the kinds raks touches (plus any a CRD adds), label/field selectors, pagination, the three
  PATCH formats, server-side apply with managedFields (no-op applies keep resourceVersion; conflicts
  between field managers unless `force`), validation with the real 422/409/404 Status objects,
  bearer-token auth, per-cluster increasing resourceVersions;
- watches (`?watch=true`, also the old /watch/ paths): chunked newline-delimited WatchEvents from a
  resourceVersion, synthetic ADDED events, `sendInitialEvents` (WatchList) with its bookmark,
  BOOKMARKs, `timeoutSeconds`, 410 Expired for a resourceVersion older than the in-memory event log
  (it starts empty when the emulator starts), selectors applied to old and new versions (`watch`);
- protobuf request bodies for Secret, ConfigMap, Namespace and DeleteOptions (what client-go
  clientsets such as Helm's release storage send); other protobuf bodies get 415, and every response
  is JSON (`protobuf`);
- server-side printing: a meta.k8s.io/v1 Table for `kubectl get` with the columns printers.go
  defines per kind, `-o wide` ones at priority 1, a CRD's additionalPrinterColumns (`tables`).

Modelled controllers act instantly or lazily by wall-clock time (see `behaviors`, `operator`):
namespaces get their `default` ServiceAccount, PVCs bind and get a PersistentVolume, Deployments
report ready and get their ReplicaSet (ready at once), DaemonSets report ready, a LoadBalancer
Service gets an address (at once, or after the `sandbox.raks.dev/address-after-seconds`
annotation's delay), and, once the KubeRay CRDs are installed, the KubeRay operator moves RayJobs
to SUCCEEDED (no `kuberay-operator` pod runs). Watches settle the lazy controllers while they wait.

Not modelled: pods being created or scheduled (Deployments make no Pods; `kubectl get pods` lists
only Pods created through the API), namespaces lingering in Terminating (deleting a namespace
removes its objects at once), admission webhooks, RBAC authorization (any valid token is
cluster-admin), server-side field validation (`fieldValidation=Strict` is not checked server-side:
the OpenAPI v2 document lists no paths, so clients validate client-side), protobuf responses,
watches on Tables (`kubectl get -w` falls back to client-side printing), exec/logs/port-forward.

The state lives in `world.state["kube"][key]`; World serialises every call under its lock (a watch
takes it for each poll and waits on `KubeRouter.changed` without holding it).
"""

from __future__ import annotations

import secrets
import threading
from typing import TYPE_CHECKING, Any

from raks.sandbox.http import Request, Response
from raks.sandbox.kube import api, behaviors, nodes, operator
from raks.sandbox.kube.errors import KubeError, no_route, unauthorized
from raks.sandbox.kube.store import Cluster, EventLog, clone

if TYPE_CHECKING:
    from raks.sandbox.world import World

__all__ = ["KubeRouter"]

SEED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SEED_MANAGER = "kube-apiserver"
BLOB_DRIVER = "blob.csi.azure.com"


def _storage_class(name: str, provisioner: str, params: dict[str, str], *, default: bool = False,
                   binding: str = "WaitForFirstConsumer") -> dict[str, Any]:  # fmt: skip
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "metadata": {
            "name": name,
            "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists", "kubernetes.io/cluster-service": "true"},
            "annotations": annotations,
        },
        "provisioner": provisioner,
        "parameters": params,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": binding,
        "allowVolumeExpansion": True,
    }


# What a new AKS cluster has: its built-in storage classes and CSI drivers.
AKS_STORAGE_CLASSES = (
    _storage_class("default", "disk.csi.azure.com", {"skuname": "StandardSSD_LRS"}, default=True),
    _storage_class("managed-csi", "disk.csi.azure.com", {"skuname": "StandardSSD_LRS"}),
    _storage_class("managed-csi-premium", "disk.csi.azure.com", {"skuname": "Premium_LRS"}),
    _storage_class("azurefile-csi", "file.csi.azure.com", {"skuName": "Standard_LRS"}, binding="Immediate"),
    _storage_class("azurefile-csi-premium", "file.csi.azure.com", {"skuName": "Premium_LRS"}, binding="Immediate"),
)
_DRIVER_SPECS: dict[str, dict[str, Any]] = {
    "disk.csi.azure.com": {"attachRequired": True, "podInfoOnMount": False, "fsGroupPolicy": "File"},
    "file.csi.azure.com": {"attachRequired": False, "podInfoOnMount": True, "fsGroupPolicy": "ReadWriteOnceWithFSType",
                           "volumeLifecycleModes": ["Persistent", "Ephemeral"]},
    BLOB_DRIVER: {"attachRequired": False, "podInfoOnMount": True, "fsGroupPolicy": "ReadWriteOnceWithFSType",
                  "volumeLifecycleModes": ["Persistent", "Ephemeral"],
                  "tokenRequests": [{"audience": "api://AzureADTokenExchange"}], "requiresRepublish": True},
}  # fmt: skip


class KubeRouter:
    def __init__(self, world: World) -> None:
        self.world = world
        self.changed = threading.Condition(world.lock)  # wakes watches after a write
        self._logs: dict[str, EventLog] = {}  # per cluster, in memory only

    # -- used by the AKS emulation ----------------------------------------------------------
    @property
    def _clusters(self) -> dict[str, Any]:
        clusters: dict[str, Any] = self.world.state.setdefault("kube", {})
        return clusters

    def _cluster(self, key: str) -> Cluster | None:
        data = self._clusters.get(key)
        if data is None:
            return None
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = EventLog(int(data.get("rv", 1)), self.changed)
        return Cluster(key, data, self.world.now, log)

    def cluster(self, key: str) -> Cluster | None:
        """The cluster's API state (callers hold the world's lock)."""
        return self._cluster(key)

    def create_cluster(self, key: str, version: str) -> str:
        """A fresh cluster's API server (idempotent: an existing one keeps its objects and token)."""
        if key in self._clusters:
            return str(self._clusters[key]["token"])
        self._clusters[key] = {
            "token": secrets.token_urlsafe(32),
            "version": version,
            "rv": 1,
            "objects": {},
            "timers": {},
        }
        cluster = self._cluster(key)
        assert cluster is not None
        _seed(cluster)
        return cluster.token

    def delete_cluster(self, key: str) -> None:
        self._clusters.pop(key, None)
        self._logs.pop(key, None)
        with self.changed:
            self.changed.notify_all()

    def token(self, key: str) -> str | None:
        data = self._clusters.get(key)
        return str(data["token"]) if data is not None else None

    def set_nodes(self, key: str, pools: list[dict[str, Any]]) -> None:
        """Make the Node objects match the node pools (name, count, vm_size, labels, taints, spot, mode)."""
        cluster = self._cluster(key)
        if cluster is not None:
            nodes.set_nodes(cluster, pools)

    def set_version(self, key: str, version: str) -> None:
        """After an AKS upgrade: /version and the nodes' kubelet version (on the next set_nodes)."""
        if key in self._clusters:
            self._clusters[key]["version"] = version

    def set_blob_driver(self, key: str, enabled: bool) -> None:
        """AKS's storageProfile.blobCSIDriver: whether the blob.csi.azure.com CSIDriver exists."""
        cluster = self._cluster(key)
        if cluster is None:
            return
        rt = cluster.rt("storage.k8s.io/csidrivers")
        current = cluster.get(rt, "", BLOB_DRIVER)
        if enabled and current is None:
            cluster.save(rt, _csi_driver(BLOB_DRIVER), None, SEED_MANAGER)
        elif not enabled and current is not None:
            cluster.remove(rt, current)

    # -- HTTP ---------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        key, rest = self._split(req.path)
        cluster = self._cluster(key) if key else None
        try:
            if cluster is None:
                raise no_route()
            if not _authorized(req, cluster.token):
                raise unauthorized()
            operator.settle(cluster)
            return api.serve(cluster, req, rest, self)
        except KubeError as e:
            return Response(e.code, e.status())
        except Exception as e:  # an emulator bug: answer like the API server would, not by hanging up
            return Response(500, KubeError(500, "InternalError", f"Internal error occurred: {e!r}").status())

    def _split(self, path: str) -> tuple[str | None, str]:
        """`/k8s/<key>/rest` -> (key, "/rest") for a known cluster key."""
        for key in sorted(self._clusters, key=len, reverse=True):
            prefix = f"/k8s/{key}"
            if path == prefix or path.startswith(prefix + "/"):
                return key, path[len(prefix) :]
        return None, ""


def _authorized(req: Request, token: str) -> bool:
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(value.strip(), token)


def _csi_driver(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"addonmanager.kubernetes.io/mode": "Reconcile"}},
        "spec": clone(_DRIVER_SPECS[name]),
    }


def _seed(cluster: Cluster) -> None:
    ns_rt = cluster.rt("/namespaces")
    for name in SEED_NAMESPACES:
        ns = {"metadata": {"name": name}}
        behaviors.defaults(cluster, ns_rt, ns, None)
        cluster.save(ns_rt, ns, None, SEED_MANAGER)
        behaviors.seed_namespace(cluster, name)
    svc_rt = cluster.rt("/services")
    svc: dict[str, Any] = {
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}]},
    }
    behaviors.defaults(cluster, svc_rt, svc, None)
    behaviors.controllers(cluster, svc_rt, svc)
    cluster.save(svc_rt, svc, None, SEED_MANAGER)
    sc_rt = cluster.rt("storage.k8s.io/storageclasses")
    for sc in AKS_STORAGE_CLASSES:
        cluster.save(sc_rt, clone(sc), None, SEED_MANAGER)
    driver_rt = cluster.rt("storage.k8s.io/csidrivers")
    for name in _DRIVER_SPECS:
        cluster.save(driver_rt, _csi_driver(name), None, SEED_MANAGER)
