"""What the API server and the cluster's controllers do around a write, per kind.

- `defaults`: API defaulting (and admission, e.g. the default StorageClass on a PVC).
- `controllers`: the status a controller would set right away. The emulator is "instant": a
  Deployment or DaemonSet reports all its replicas ready, a PVC binds as soon as its
  StorageClass exists (unless the class waits for a consumer), a LoadBalancer Service gets an IP.
- `after_write` / `after_delete`: effects on other objects (a namespace's default ServiceAccount,
  a PVC's PersistentVolume, cascading deletes, owner-reference garbage collection).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from typing import Any

from raks.sandbox.kube.catalog import CRD_KEY, ResourceType, crd_types
from raks.sandbox.kube.errors import forbidden
from raks.sandbox.kube.store import Cluster, clone, meta
from raks.sandbox.kube.validation import quantity

CONTROLLER = "kube-controller-manager"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
ROOT_CA = "-----BEGIN CERTIFICATE-----\nraks-sandbox-cluster-ca\n-----END CERTIFICATE-----\n"
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as "
    "the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of "
    "Kubernetes clusters."
)
# A LoadBalancer Service with this annotation gets its address that many seconds after creation,
# as cloud-provider-azure assigns a public IP some time after the Service exists.
ADDRESS_AFTER_ANNOTATION = "sandbox.raks.dev/address-after-seconds"
RESIZE_FORBIDDEN = (
    "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"
)


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj.setdefault("spec", {})
    return spec


# -- defaults -------------------------------------------------------------------------------


def defaults(cluster: Cluster, rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    hook = _DEFAULTS.get(rt.store_key)
    if hook:
        hook(cluster, obj, old)


def _namespace_defaults(cluster: Cluster, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    m = meta(obj)
    m.setdefault("labels", {})["kubernetes.io/metadata.name"] = m["name"]
    _spec(obj).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {"phase": "Active"})


def _secret_defaults(cluster: Cluster, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    obj.setdefault("type", "Opaque")


def _pvc_defaults(cluster: Cluster, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    spec = _spec(obj)
    spec.setdefault("volumeMode", "Filesystem")
    if old is None and "storageClassName" not in spec:  # the DefaultStorageClass admission plugin
        default = next(
            (sc for sc in cluster.items(cluster.rt("storage.k8s.io/storageclasses"))
             if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true"),
            None,
        )  # fmt: skip
        if default:
            spec["storageClassName"] = default["metadata"]["name"]
    if old is None:
        obj["status"] = {"phase": "Pending"}


def _pv_defaults(cluster: Cluster, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    spec = _spec(obj)
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {"phase": "Available"})


def _service_defaults(cluster: Cluster, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    spec = _spec(obj)
    before = (old or {}).get("spec") or {}
    kind = spec.setdefault("type", "ClusterIP")
    if kind != "ExternalName":
        spec.setdefault("clusterIP", before.get("clusterIP") or _cluster_ip(cluster, obj))
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    spec.setdefault("sessionAffinity", "None")
    old_ports = {p.get("port"): p for p in before.get("ports") or []}
    for n, port in enumerate(spec.get("ports") or []):
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
        if kind in ("NodePort", "LoadBalancer") and "nodePort" not in port:
            port["nodePort"] = old_ports.get(port.get("port"), {}).get("nodePort") or 30000 + _hash(obj, n) % 2768
    if kind == "LoadBalancer":
        spec.setdefault("externalTrafficPolicy", "Cluster")
        spec.setdefault("allocateLoadBalancerNodePorts", True)


def _hash(obj: dict[str, Any], salt: int = 0) -> int:
    m = meta(obj)
    text = f"{m.get('namespace')}/{m.get('name')}/{salt}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _cluster_ip(cluster: Cluster, obj: dict[str, Any]) -> str:
    """A free address of the default service CIDR 10.0.0.0/16 (.1 is the `kubernetes` service)."""
    if meta(obj).get("name") == "kubernetes" and meta(obj).get("namespace") == "default":
        return "10.0.0.1"
    used = {(s.get("spec") or {}).get("clusterIP") for s in cluster.items(cluster.rt("/services"))}
    offset = 11 + _hash(obj) % 65000
    while True:
        ip = str(ipaddress.IPv4Address("10.0.0.0") + offset)
        if ip not in used:
            return ip
        offset = offset + 1 if offset < 65500 else 11


def _storage_class_defaults(cluster: Cluster, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def _deployment_defaults(cluster: Cluster, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    spec = _spec(obj)
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault(
        "strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    )
    # As for DaemonSets (SetDefaults_Deployment): a RollingUpdate strategy gets its parameters.
    strategy = spec["strategy"]
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")


def _daemonset_defaults(cluster: Cluster, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    spec = _spec(obj)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    # A given RollingUpdate strategy without its parameters gets them too (kubernetes
    # pkg/apis/apps/v1/defaults.go SetDefaults_DaemonSet); Helm's legacy wait reads them
    # (helm pkg/kube/ready.go daemonSetReady) and crashes on a nil rollingUpdate.
    strategy = spec["updateStrategy"]
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)


def _pod_defaults(cluster: Cluster, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if old is None:
        obj.setdefault("status", {"phase": "Pending", "qosClass": "BestEffort"})


_DEFAULTS = {
    "/namespaces": _namespace_defaults,
    "/secrets": _secret_defaults,
    "/persistentvolumeclaims": _pvc_defaults,
    "/persistentvolumes": _pv_defaults,
    "/services": _service_defaults,
    "/pods": _pod_defaults,
    "storage.k8s.io/storageclasses": _storage_class_defaults,
    "apps/deployments": _deployment_defaults,
    "apps/daemonsets": _daemonset_defaults,
}


# -- admission checks that need other objects --------------------------------------------------


def check_update(cluster: Cluster, rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> None:
    if rt.store_key != "/persistentvolumeclaims":
        return
    size = quantity(((_spec(new).get("resources") or {}).get("requests") or {}).get("storage"))
    before = quantity(((_spec(old).get("resources") or {}).get("requests") or {}).get("storage"))
    if size is None or before is None or size <= before:
        return
    sc = cluster.get(cluster.rt("storage.k8s.io/storageclasses"), "", _spec(new).get("storageClassName") or "")
    if not _spec(old).get("volumeName") or not (sc and sc.get("allowVolumeExpansion")):
        raise forbidden(rt, meta(new)["name"], RESIZE_FORBIDDEN)


# -- instant controllers --------------------------------------------------------------------


def controllers(cluster: Cluster, rt: ResourceType, obj: dict[str, Any]) -> None:
    hook = _CONTROLLERS.get(rt.store_key)
    if hook:
        hook(cluster, obj)


def _deployment_status(cluster: Cluster, obj: dict[str, Any]) -> None:
    replicas = int(_spec(obj).get("replicas", 1))
    since = meta(obj).get("creationTimestamp")
    status: dict[str, Any] = {"observedGeneration": meta(obj).get("generation", 1)}
    if replicas:
        status.update(replicas=replicas, updatedReplicas=replicas, readyReplicas=replicas, availableReplicas=replicas)
    status["conditions"] = [
        _condition("Available", "MinimumReplicasAvailable", "Deployment has minimum availability.", since),
        _condition(
            "Progressing",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{meta(obj)["name"]}" has successfully progressed.',
            since,
        ),
    ]
    obj["status"] = status


def _condition(kind: str, reason: str, message: str, since: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True",
        "lastUpdateTime": since,
        "lastTransitionTime": since,
        "reason": reason,
        "message": message,
    }


def _daemonset_status(cluster: Cluster, obj: dict[str, Any]) -> None:
    pod = (_spec(obj).get("template") or {}).get("spec") or {}
    nodes = [n for n in cluster.items(cluster.rt("/nodes")) if schedulable(n, pod)]
    count = len(nodes)
    obj["status"] = {
        "currentNumberScheduled": count,
        "desiredNumberScheduled": count,
        "numberAvailable": count,
        "numberMisscheduled": 0,
        "numberReady": count,
        "observedGeneration": meta(obj).get("generation", 1),
        "updatedNumberScheduled": count,
    }


def schedulable(node: dict[str, Any], pod: dict[str, Any]) -> bool:
    """Whether a pod spec's nodeSelector and tolerations admit the node."""
    labels = meta(node).get("labels") or {}
    if any(labels.get(k) != v for k, v in (pod.get("nodeSelector") or {}).items()):
        return False
    taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")]
    return all(any(_tolerates(tol, t) for tol in pod.get("tolerations") or []) for t in taints)


def _tolerates(tol: dict[str, Any], taint: dict[str, Any]) -> bool:
    if tol.get("effect") and tol["effect"] != taint.get("effect"):
        return False
    if not tol.get("key"):
        return tol.get("operator") == "Exists"
    if tol["key"] != taint.get("key"):
        return False
    return tol.get("operator") == "Exists" or tol.get("value", "") == taint.get("value", "")


def bind_claim(cluster: Cluster, pvc: dict[str, Any]) -> bool:
    """Bind a pending claim the way dynamic provisioning does; False while it must wait."""
    spec = _spec(pvc)
    if spec.get("volumeName"):
        return True
    sc = cluster.get(cluster.rt("storage.k8s.io/storageclasses"), "", spec.get("storageClassName") or "")
    if sc is None or sc.get("volumeBindingMode") == "WaitForFirstConsumer":
        return False
    refused = provisioning_error(sc)
    if refused:
        _provisioning_failed(cluster, pvc, sc, refused)
        return False
    spec["volumeName"] = f"pvc-{meta(pvc)['uid']}"
    annotations = meta(pvc).setdefault("annotations", {})
    annotations.update(
        {
            "pv.kubernetes.io/bind-completed": "yes",
            "pv.kubernetes.io/bound-by-controller": "yes",
            "volume.beta.kubernetes.io/storage-provisioner": sc["provisioner"],
            "volume.kubernetes.io/storage-provisioner": sc["provisioner"],
        }
    )
    finalizers = meta(pvc).setdefault("finalizers", [])
    if "kubernetes.io/pvc-protection" not in finalizers:
        finalizers.append("kubernetes.io/pvc-protection")
    pvc["status"] = {
        "phase": "Bound",
        "accessModes": list(spec.get("accessModes") or []),
        "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage")},
    }
    return True


# The StorageClass parameters blob.csi.azure.com's CreateVolume accepts (case-insensitive); any
# other is refused with InvalidArgument `invalid parameter %q in storage class`
# (kubernetes-sigs/blob-csi-driver pkg/blob/controllerserver.go, CreateVolume's parameter switch,
# names from pkg/blob/blob.go; clientID, mountWithWorkloadIdentityToken and tenantID are accepted
# in StorageClass parameters from v1.27.0: docs/workload-identity-static-pv-mount.md).
BLOB_CSI = "blob.csi.azure.com"
BLOB_PARAMETERS = frozenset(
    {
        "skuname", "storageaccounttype", "location", "storageaccount", "subscriptionid", "resourcegroup",
        "containername", "containernameprefix", "protocol", "tags", "matchtags", "secretname",
        "secretnamespace", "ishnsenabled", "softdeleteblobs", "softdeletecontainers", "enableblobversioning",
        "storeaccountkey", "getlatestaccountkey", "allowblobpublicaccess", "allowsharedkeyaccess",
        "requireinfraencryption", "csi.storage.k8s.io/pvc/namespace", "csi.storage.k8s.io/pvc/name",
        "csi.storage.k8s.io/pv/name", "server", "azurestorageauthtype", "azurestorageidentityclientid",
        "azurestorageidentityobjectid", "azurestorageidentityresourceid", "msiendpoint", "azurestorageaadendpoint",
        "storageendpointsuffix", "vnetresourcegroup", "vnetname", "subnetname", "accesstier",
        "networkendpointtype", "mountpermissions", "usedataplaneapi", "fsgroupchangepolicy", "tagvaluedelimiter",
        "clientid", "mountwithworkloadidentitytoken", "tenantid",
    }
)  # fmt: skip


def provisioning_error(sc: dict[str, Any]) -> str | None:
    """The CSI driver's refusal of a StorageClass's parameters (None: it would provision)."""
    if sc.get("provisioner") != BLOB_CSI:
        return None
    for key in sc.get("parameters") or {}:
        if key.lower() not in BLOB_PARAMETERS:
            return f'rpc error: code = InvalidArgument desc = invalid parameter "{key}" in storage class'
    return None


def _provisioning_failed(cluster: Cluster, pvc: dict[str, Any], sc: dict[str, Any], error: str) -> None:
    """The external-provisioner's Warning event on the claim: `failed to provision volume with
    StorageClass %q: %v`, reason ProvisioningFailed (kubernetes-sigs/sig-storage-lib-external-provisioner
    controller/controller.go). The claim stays Pending."""
    m = meta(pvc)
    if not any(t.group == "" and t.plural == "events" for t in cluster.catalog.types):
        return  # an emulator without core/v1 events
    rt = cluster.rt("/events")
    name = f"{m['name']}.{hashlib.sha256(str(m.get('uid')).encode()).hexdigest()[:16]}"
    if cluster.get(rt, m["namespace"], name) is not None:
        return
    now = cluster.timestamp()
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": m["namespace"]},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "name": m["name"],
            "namespace": m["namespace"],
            "uid": m.get("uid"),
        },
        "reason": "ProvisioningFailed",
        "type": "Warning",
        "message": f'failed to provision volume with StorageClass "{sc["metadata"]["name"]}": {error}',
        "source": {"component": f"{BLOB_CSI}_csi-blob-controller"},
        "reportingComponent": f"{BLOB_CSI}_csi-blob-controller",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    cluster.save(rt, event, None, "csi-provisioner")


def _pvc_status(cluster: Cluster, pvc: dict[str, Any]) -> None:
    if not bind_claim(cluster, pvc):
        pvc["status"] = {"phase": "Pending"}
        return
    wanted = ((_spec(pvc).get("resources") or {}).get("requests") or {}).get("storage")
    status = pvc.setdefault("status", {"phase": "Bound"})
    if quantity(wanted) and quantity(wanted) != quantity((status.get("capacity") or {}).get("storage")):
        status.setdefault("capacity", {})["storage"] = wanted  # online expansion completes at once


def address_delay(obj: dict[str, Any]) -> float:
    """Seconds a LoadBalancer Service waits for its address (test hook; 0 = at once)."""
    try:
        return float((meta(obj).get("annotations") or {}).get(ADDRESS_AFTER_ANNOTATION, 0))
    except ValueError:
        return 0.0


def _service_status(cluster: Cluster, obj: dict[str, Any]) -> None:
    """cloud-provider-azure's service controller: a LoadBalancer Service gets its public IP only
    when the cluster identity may join the node subnet(s) to the load balancer; otherwise it stays
    pending and the failure is reported (see `raks.sandbox.arm.t_aks.load_balancer_denial`).
    A real cluster reports it as a Warning Event `SyncLoadBalancerFailed`; the emulator puts the same
    reason and message in the Service's `status.conditions` instead."""
    if _spec(obj).get("type") != "LoadBalancer":
        obj["status"] = {"loadBalancer": {}}
        return
    denial = _load_balancer_denial(cluster)
    if denial is not None:
        before = [c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "LoadBalancerSynced"]
        since = before[0].get("lastTransitionTime") if before else cluster.timestamp()
        condition = {"type": "LoadBalancerSynced", "status": "False", "reason": "SyncLoadBalancerFailed",
                     "message": denial, "lastTransitionTime": since}  # fmt: skip
        obj["status"] = {"loadBalancer": {}, "conditions": [condition]}
        return
    delay = address_delay(obj)
    if delay > 0:  # the cloud provider assigns the address later (`operator.settle`)
        started = cluster.timer(meta(obj).get("uid", ""))
        if started is None or cluster.now() - started < delay:
            obj["status"] = {"loadBalancer": {}}
            return
    ip = str(ipaddress.IPv4Address("20.50.0.0") + _hash(obj) % 65000)
    obj["status"] = {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}


def _load_balancer_denial(cluster: Cluster) -> str | None:
    """Ask the ARM emulator (same World: the cluster's clock is the World's bound `now`)."""
    from raks.sandbox.arm.t_aks import load_balancer_denial
    from raks.sandbox.world import World

    world = getattr(cluster.clock, "__self__", None)
    return load_balancer_denial(world, cluster.key) if isinstance(world, World) else None


def settle_load_balancers(cluster: Cluster) -> None:
    """Re-run the service controller on LoadBalancer Services before a read, so a role granted (or
    removed) after the Service was created changes its status, as the real controller's retries do."""
    rt = cluster.rt("/services")
    for svc in list(cluster.items(rt)):
        if _spec(svc).get("type") != "LoadBalancer":
            continue
        new = clone(svc)
        _service_status(cluster, new)
        if new.get("status") != svc.get("status"):
            cluster.save(rt, new, svc, "cloud-controller-manager", "status")


def _crd_status(cluster: Cluster, obj: dict[str, Any]) -> None:
    names = dict(_spec(obj).get("names") or {})
    names.setdefault("singular", str(names.get("kind", "")).lower())
    names.setdefault("listKind", f"{names.get('kind')}List")
    since = meta(obj).get("creationTimestamp")
    obj["status"] = {
        "acceptedNames": names,
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "lastTransitionTime": since,
                "reason": "NoConflicts",
                "message": "no conflicts found",
            },
            {
                "type": "Established",
                "status": "True",
                "lastTransitionTime": since,
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ],
        "storedVersions": [v["name"] for v in _spec(obj).get("versions") or [] if v.get("storage")],
    }


_CONTROLLERS = {
    "apps/deployments": _deployment_status,
    "apps/daemonsets": _daemonset_status,
    "/persistentvolumeclaims": _pvc_status,
    "/services": _service_status,
    CRD_KEY: _crd_status,
}


# -- effects on other objects ---------------------------------------------------------------


def after_write(cluster: Cluster, rt: ResourceType, obj: dict[str, Any], created: bool) -> None:
    if rt.store_key == "/namespaces" and created:
        seed_namespace(cluster, meta(obj)["name"])
    elif rt.store_key == "/persistentvolumeclaims":
        sync_volume(cluster, obj)
    elif (rt.group == "ray.io" and created) or (rt.store_key == "/services" and created and address_delay(obj) > 0):
        cluster.start_timer(meta(obj)["uid"])
    elif rt.store_key == "apps/deployments":
        sync_replica_sets(cluster, obj)


def sync_replica_sets(cluster: Cluster, deployment: dict[str, Any]) -> None:
    """The Deployment controller's ReplicaSets: one for the current pod template, ready at once, and
    the older ones scaled to 0 (kubernetes pkg/controller/deployment/sync.go). Helm's legacy wait
    looks for it: an owned ReplicaSet whose template equals the Deployment's, ignoring the
    pod-template-hash label (helm pkg/kube/deploymentutil.go FindNewReplicaSet, ready.go)."""
    rt = cluster.rt("apps/replicasets")
    m, spec = meta(deployment), _spec(deployment)
    template = clone(spec.get("template") or {})
    # pod-template-hash: a hash of the template in the alphabet of rand.SafeEncodeString (no vowels)
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    pod_hash = "".join(c for c in digest if c in "bcdfghjklmnpqrstvwxz2456789")[:10].ljust(10, "b")
    name = f"{m['name']}-{pod_hash}"
    replicas = int(spec.get("replicas", 1))
    for rs in list(cluster.items(rt, m["namespace"])):
        owned = any(r.get("uid") == m["uid"] and r.get("controller") for r in meta(rs).get("ownerReferences") or [])
        if owned and meta(rs)["name"] != name and _spec(rs).get("replicas"):
            old = clone(rs)
            old["spec"]["replicas"] = 0
            old["status"] = {"replicas": 0, "observedGeneration": meta(rs).get("generation", 1)}
            cluster.save(rt, old, rs, CONTROLLER)
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
    selector = clone(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
    existing = cluster.get(rt, m["namespace"], name)
    rs = clone(existing) if existing else {
        "metadata": {
            "name": name,
            "namespace": m["namespace"],
            "labels": dict(template["metadata"]["labels"]),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": m["name"], "uid": m["uid"],
                                 "controller": True, "blockOwnerDeletion": True}],
        },
    }  # fmt: skip
    meta(rs).setdefault("annotations", {}).update(
        {"deployment.kubernetes.io/desired-replicas": str(replicas), "deployment.kubernetes.io/revision": "1"}
    )
    meta(rs).setdefault("generation", 1)
    rs["spec"] = {"replicas": replicas, "selector": selector, "template": template}
    rs["status"] = {"replicas": replicas, "observedGeneration": meta(rs)["generation"]}
    if replicas:
        rs["status"].update(fullyLabeledReplicas=replicas, readyReplicas=replicas, availableReplicas=replicas)
    if rs != existing:
        cluster.save(rt, rs, existing, CONTROLLER)


def seed_namespace(cluster: Cluster, namespace: str) -> None:
    """What the controllers put in every namespace: the `default` ServiceAccount, the root CA."""
    sa_rt, cm_rt = cluster.rt("/serviceaccounts"), cluster.rt("/configmaps")
    if cluster.get(sa_rt, namespace, "default") is None:
        sa = {"metadata": {"name": "default", "namespace": namespace}}
        cluster.save(sa_rt, sa, None, CONTROLLER)
    if cluster.get(cm_rt, namespace, "kube-root-ca.crt") is None:
        annotations = {"kubernetes.io/description": ROOT_CA_DESCRIPTION}
        cm = {
            "metadata": {"name": "kube-root-ca.crt", "namespace": namespace, "annotations": annotations},
            "data": {"ca.crt": ROOT_CA},
        }
        cluster.save(cm_rt, cm, None, CONTROLLER)


def sync_volume(cluster: Cluster, pvc: dict[str, Any]) -> None:
    """The PersistentVolume a bound claim's provisioner made, sized like the claim."""
    name = _spec(pvc).get("volumeName")
    if not name:
        return
    pv_rt = cluster.rt("/persistentvolumes")
    old = cluster.get(pv_rt, "", name)
    pv = clone(old) if old else _new_volume(cluster, pvc, name)
    if pv is None:
        return
    pv["spec"]["capacity"] = dict((pvc.get("status") or {}).get("capacity") or pv["spec"].get("capacity") or {})
    if pv != old:
        cluster.save(pv_rt, pv, old, "csi-provisioner" if old is None else CONTROLLER)


def _new_volume(cluster: Cluster, pvc: dict[str, Any], name: str) -> dict[str, Any] | None:
    spec, m = _spec(pvc), meta(pvc)
    sc = cluster.get(cluster.rt("storage.k8s.io/storageclasses"), "", spec.get("storageClassName") or "")
    if sc is None:
        return None
    attributes = {
        **(sc.get("parameters") or {}),
        "csi.storage.k8s.io/pv/name": name,
        "csi.storage.k8s.io/pvc/name": m["name"],
        "csi.storage.k8s.io/pvc/namespace": m["namespace"],
    }
    pv_spec: dict[str, Any] = {
        "accessModes": list(spec.get("accessModes") or []),
        "capacity": {},
        "claimRef": {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "name": m["name"],
            "namespace": m["namespace"],
            "uid": m["uid"],
        },
        "csi": {"driver": sc["provisioner"], "volumeHandle": f"{cluster.key}#{name}", "volumeAttributes": attributes},
        "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
        "storageClassName": sc["metadata"]["name"],
        "volumeMode": spec.get("volumeMode", "Filesystem"),
    }
    if sc.get("mountOptions"):
        pv_spec["mountOptions"] = list(sc["mountOptions"])
    return {
        "metadata": {
            "name": name,
            "annotations": {"pv.kubernetes.io/provisioned-by": sc["provisioner"]},
            "finalizers": ["kubernetes.io/pv-protection"],
        },
        "spec": pv_spec,
        "status": {"phase": "Bound"},
    }


def after_delete(cluster: Cluster, rt: ResourceType, obj: dict[str, Any]) -> None:
    m = meta(obj)
    if rt.store_key == "/namespaces":
        for t in _one_per_bucket(cluster):
            if t.namespaced:
                for child in list(cluster.items(t, m["name"])):
                    delete_object(cluster, t, child)
    elif rt.store_key == "/persistentvolumeclaims":
        _release_volume(cluster, obj)
    elif rt.store_key == CRD_KEY:
        for t in crd_types(obj):
            for child in list(cluster.items(t)):
                delete_object(cluster, t, child)
    _collect_garbage(cluster, m.get("uid"))


def delete_object(cluster: Cluster, rt: ResourceType, obj: dict[str, Any]) -> None:
    if cluster.get(rt, meta(obj).get("namespace", ""), meta(obj)["name"]) is None:
        return
    cluster.remove(rt, obj)
    after_delete(cluster, rt, obj)


def _release_volume(cluster: Cluster, pvc: dict[str, Any]) -> None:
    pv_rt = cluster.rt("/persistentvolumes")
    old = cluster.get(pv_rt, "", _spec(pvc).get("volumeName") or "")
    if old is None:
        return
    if old["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
        delete_object(cluster, pv_rt, old)
        return
    pv = clone(old)
    pv["status"] = {"phase": "Released"}
    cluster.save(pv_rt, pv, old, CONTROLLER, "status")


def _collect_garbage(cluster: Cluster, uid: str | None) -> None:
    """Background cascading deletion: objects owned by the deleted one go too."""
    if not uid:
        return
    for t in _one_per_bucket(cluster):
        for child in list(cluster.items(t)):
            if any(ref.get("uid") == uid for ref in meta(child).get("ownerReferences") or []):
                delete_object(cluster, t, child)


def _one_per_bucket(cluster: Cluster) -> list[ResourceType]:
    seen: dict[str, ResourceType] = {}
    for t in cluster.catalog.types:
        seen.setdefault(t.store_key, t)
    return list(seen.values())
