"""Microsoft.ContainerService: managed clusters and agent pools.

Modelled (azure-facts.md §1, §5, §8):
- PUT answers 201/200 + Azure-AsyncOperation, DELETE 202 (204 when absent); bodies of AKS
  errors are unwrapped `{"code", "message", ...}`.
- One operation at a time: a cluster operation while the cluster or any pool has one running,
  or a pool operation while the cluster or that pool has one running, is 409
  OperationNotAllowed. Different pools may change concurrently. A cluster delete preempts
  running operations (they end Failed, AKSOperationPreemptedByDelete).
- Agent pools are child resources kept in sync with the cluster's `agentPoolProfiles`; a new
  pool sent through the cluster PUT is 400 (pools are added through the agentPools API).
- Defaults AKS fills in: networkProfile (serviceCidr 10.0.0.0/16, dnsServiceIP 10.0.0.10,
  networkDataplane, ipFamilies, loadBalancerSku, outboundType, podCidr for overlay) and pools'
  currentOrchestratorVersion, nodeImageVersion, osDiskSizeGB 128, osSKU, maxPods by plugin.
- Read-only outputs: fqdn, nodeResourceGroup (created, tagged like the cluster, `managedBy` set),
  system identity principalId, kubelet identity (in the node resource group), OIDC issuer URL
  (`https://{region}.oic.prod-aks.azure.com/{tenant}/{uuid}/`, trailing slash); spot pools get
  the label and taint AKS adds itself when it creates them; an update whose nodeLabels leave the
  spot label out removes it (Azure/AKS#3152), the taint stays.
- A pool created while another pool's create on the same subnet is in flight: accepted, then its
  operation ends Failed with SetVNetOwnershipFailed (Azure/AKS#4522).
- vCPU quota (family / regional / lowPriorityCores) and SKU availability are checked when a
  pool is created or grows, as AKS's own pre-check does (400 ErrCode_InsufficientVCPUQuota).
- listClusterUserCredential returns a kubeconfig for the cluster's emulated Kubernetes API.
- Linked authorization: a LoadBalancer Service gets an address only while the control-plane
  identity may join the node subnets (`load_balancer_denial`, read lazily by the kube emulator).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import yaml

from raks.sandbox import catalog
from raks.sandbox.arm import ids
from raks.sandbox.arm.base import ResourceType, base_resource, deep_merge, new_guid, props
from raks.sandbox.arm.errors import ArmError
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi

CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters"
POOL_TYPE = "Microsoft.ContainerService/managedClusters/agentPools"
SPOT_LABEL = ("kubernetes.azure.com/scalesetpriority", "spot")
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
# Pool fields that live on the pool resource (the rest of a profile is the cluster's business).
POOL_FIELDS = (
    "count",
    "vmSize",
    "osDiskSizeGB",
    "osType",
    "osSKU",
    "mode",
    "type",
    "enableAutoScaling",
    "minCount",
    "maxCount",
    "maxPods",
    "scaleSetPriority",
    "scaleSetEvictionPolicy",
    "spotMaxPrice",
    "nodeLabels",
    "nodeTaints",
    "vnetSubnetID",
    "orchestratorVersion",
    "availabilityZones",
    "upgradeSettings",
    "tags",
)
IMMUTABLE_CLUSTER = (
    "dnsPrefix",
    "networkProfile.networkPlugin",
    "networkProfile.podCidr",
    "networkProfile.serviceCidr",
)
IMMUTABLE_POOL = ("vmSize", "scaleSetPriority", "vnetSubnetID", "osType")
# The sandbox's node image release; real names are AKSUbuntu-2204gen2containerd-YYYYMM.DD.N.
NODE_IMAGE_DATE = "202511.07.0"
NETWORK_DEFAULTS = {  # AKS defaults (learn.microsoft.com/azure/aks/configure-kubenet, -azure-cni-overlay)
    "serviceCidr": "10.0.0.0/16",
    "dnsServiceIP": "10.0.0.10",
    "outboundType": "loadBalancer",
    "loadBalancerSku": "standard",
    "ipFamilies": ["IPv4"],
    "networkDataplane": "azure",
}


def _err(status: int, code: str, message: str) -> ArmError:
    return ArmError(status, code, message, unwrapped=True)


def _busy_message(op: dict[str, Any], api: ArmApi) -> str:
    res = api.get(op["resource_id"])
    state = (res or {}).get("properties", {}).get("provisioningState", "Updating")
    what = state if op["resource_id"].lower().count("/agentpools/") == 0 else f"{(res or {}).get('name')} - {state}"
    return (
        f"Operation is not allowed: Another operation ({what}) is in progress, please wait for it to finish "
        "before starting a new operation. See https://aka.ms/aks-pending-operation for more details"
    )


def _cluster_id(rid: str) -> str:
    low = rid.lower()
    cut = low.find("/agentpools/")
    return rid if cut < 0 else rid[:cut]


def _get_path(d: dict[str, Any], dotted: str) -> Any:
    cur: Any = d
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _kube_key(rid: str) -> str:
    return "c" + hashlib.sha256(rid.lower().encode()).hexdigest()[:12]


def _check_capacity(api: ArmApi, region: str, pool: dict[str, Any], old_count: int, pool_name: str) -> None:
    """AKS's pre-check: the SKU must be offered and unrestricted, and quota must cover the growth."""
    size_name = pool.get("vmSize") or ""
    size = catalog.vm_size(size_name)
    state = api.world.state
    if size is None or not catalog.size_offered(state, region, size_name):
        raise _err(
            400,
            "SkuNotAvailable",
            f"The requested size for resource '{pool_name}' is currently not available in location '{region}' "
            f"zones '' for subscription '{api.world.subscription_id}'. Please try another size or deploy to a "
            "different location or zones. See https://aka.ms/azureskunotavailable for details.",
        )
    if catalog.size_restricted(state, region, size_name):
        raise _err(
            400,
            "BadRequest",
            f"The VM size of AgentPoolProfile:{pool_name} is not allowed in your subscription in location "
            f"'{region}'. Please choose a different size.",
        )
    grow = max(0, int(pool.get("count") or 0) - old_count) * size.vcpus
    if grow == 0:
        return
    usage = compute_usage(api, region)
    spot = pool.get("scaleSetPriority") == "Spot"
    checks = [("lowPriorityCores", "regional spot")] if spot else [("cores", "regional"), (size.family, "family")]
    for name, kind in checks:
        limit = catalog.quota_limit(state, region, name)
        used = usage.get(name, 0)
        if used + grow > limit:
            if kind == "family":
                msg = (
                    f"Insufficient vcpu quota requested {grow}, remaining {max(0, limit - used)} for family "
                    f"{size.family} for region {region}."
                )
            else:
                msg = (
                    f"Insufficient {kind} vcpu quota left for location {region}. left {kind} vcpu quota "
                    f"{max(0, limit - used)}, requested quota {grow}. If you want to increase the quota, please "
                    "follow this instruction: https://learn.microsoft.com/en-us/azure/quotas/view-quotas."
                )
            raise _err(400, "ErrCode_InsufficientVCPUQuota", msg)


def compute_usage(api: ArmApi, region: str) -> dict[str, int]:
    """vCPUs in use in a region, from every emulated pool's current node count."""
    usage: dict[str, int] = {}
    for res in api.store.values():
        if res["type"] != POOL_TYPE:
            continue
        cluster = api.get(_cluster_id(res["id"]))
        if cluster is None or cluster.get("location", "").lower() != region.lower():
            continue
        p = res["properties"]
        size = catalog.vm_size(p.get("vmSize") or "")
        if size is None:
            continue
        vcpus = int(p.get("count") or 0) * size.vcpus
        if p.get("scaleSetPriority") == "Spot":
            usage["lowPriorityCores"] = usage.get("lowPriorityCores", 0) + vcpus
        else:
            usage["cores"] = usage.get("cores", 0) + vcpus
            usage[size.family] = usage.get(size.family, 0) + vcpus
    return usage


def _normalise_pool(p: dict[str, Any], k8s_version: str, old: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pool's stored properties from a PUT body (`old`: the existing pool's, for an update)."""
    out = {k: copy.deepcopy(v) for k, v in p.items() if k in POOL_FIELDS}
    if old is not None and "nodeLabels" not in p:
        out["nodeLabels"] = copy.deepcopy(old.get("nodeLabels") or {})
    out.setdefault("type", "VirtualMachineScaleSets")
    out.setdefault("osType", "Linux")
    out.setdefault("mode", "User")
    out.setdefault("orchestratorVersion", k8s_version)
    _pool_defaults(out, k8s_version, (old or {}).get("maxPods"))
    out.setdefault("enableAutoScaling", False)
    if out.get("enableAutoScaling"):
        lo, hi = out.get("minCount"), out.get("maxCount")
        if lo is None or hi is None or lo > hi:
            raise _err(
                400,
                "InvalidParameter",
                "The value of parameter agentPoolProfile.minCount/maxCount is invalid: minCount must be less than or equal to maxCount.",
            )
        count = out.get("count")
        if count is None:
            out["count"] = lo
        elif not lo <= count <= hi:
            raise _err(
                400,
                "InvalidParameter",
                f"The value of parameter agentPoolProfile.count is invalid: count {count} must be between minCount {lo} and maxCount {hi}.",
            )
    else:
        out.pop("minCount", None)
        out.pop("maxCount", None)
        out.setdefault("count", 1)
    if out.get("mode") == "System" and int(out.get("count") or 0) < 1:
        raise _err(400, "InvalidParameter", "A system node pool must have at least one node.")
    labels = dict(out.get("nodeLabels") or {})
    taints = list(out.get("nodeTaints") or [])
    if out.get("scaleSetPriority") == "Spot":
        if out.get("mode") == "System":
            raise _err(400, "InvalidParameter", "System node pools cannot use Spot priority.")
        if (out.get("upgradeSettings") or {}).get("maxUnavailable"):
            raise _err(
                400,
                "InvalidParameter",
                "The value of parameter agentPoolProfile.upgradeSettings.maxUnavailable is invalid. Error details: Spot pools can't set maxUnavailable.",
            )
        out.setdefault("scaleSetEvictionPolicy", "Delete")
        out.setdefault("spotMaxPrice", -1)
        # AKS adds the label and the taint itself when it creates a spot pool ("Add a spot node pool
        # to an AKS cluster"). An update's nodeLabels replace the pool's labels as sent ("Updating
        # labels on existing node pools" overwrites the whole set), so an update that leaves the spot
        # label out removes it from the pool and its nodes (Azure/AKS#3152); the taint stays
        # (kubernetes-sigs/cluster-api-provider-azure#2460: "the taint stays").
        if old is None:
            labels[SPOT_LABEL[0]] = SPOT_LABEL[1]
        if SPOT_TAINT not in taints:
            taints.append(SPOT_TAINT)
    else:
        out.setdefault("scaleSetPriority", "Regular")
    out["nodeLabels"] = labels
    out["nodeTaints"] = taints
    return out


def _pool_defaults(out: dict[str, Any], k8s_version: str, old_max_pods: Any) -> None:
    """What AKS fills in on a pool the client left it out of (AKS REST spec ManagedClusterAgentPoolProfile
    read-only/defaulted fields): the resolved patch version, the node image, a 128 GB managed OS
    disk on Ubuntu, and maxPods by network plugin (Azure CNI 30, kubenet 110: "Nodes use a minimum
    number of pods" / AKS "Configure Azure CNI"; Azure CNI Overlay 250: "Configure Azure CNI
    Overlay networking"; set in `ManagedClusters` once the plugin is known)."""
    out["currentOrchestratorVersion"] = (
        k8s_version if len(str(out.get("orchestratorVersion", "")).split(".")) < 3 else out["orchestratorVersion"]
    )
    out.setdefault("osDiskSizeGB", 128)
    out.setdefault("osDiskType", "Managed")
    out.setdefault("kubeletDiskType", "OS")
    out.setdefault("osSKU", "Ubuntu")
    out.setdefault("enableNodePublicIP", False)
    out.setdefault("enableFIPS", False)
    out["nodeImageVersion"] = f"AKSUbuntu-2204gen2containerd-{NODE_IMAGE_DATE}"
    if old_max_pods is not None:
        out.setdefault("maxPods", old_max_pods)


def _max_pods(network_profile: dict[str, Any]) -> int:
    plugin = str(network_profile.get("networkPlugin") or "").lower()
    if plugin == "azure" and str(network_profile.get("networkPluginMode") or "").lower() != "overlay":
        return 30
    return 250 if plugin in ("azure", "none") else 110


def _pool_resource(cluster_id: str, name: str, p: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{cluster_id}/agentPools/{name}", "name": name, "type": POOL_TYPE, "properties": p}


class ManagedClusters(ResourceType):
    type = CLUSTER_TYPE
    put_lro = "async"
    delete_lro = "async"
    latency = "aks.create"
    delete_latency = "aks.delete"
    aks_errors = True

    def check_write(self, api: ArmApi, rid: str, existing: dict[str, Any] | None) -> None:
        running = api.running_ops(rid)
        if running:
            raise _err(409, "OperationNotAllowed", _busy_message(running[0], api))

    def duration(self, api: ArmApi, res: dict[str, Any], created: bool) -> float:
        return api.world.profile.seconds("aks.create" if created else "aks.update")

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        region = res["location"]
        p = copy.deepcopy(body.get("properties") or {})
        old = copy.deepcopy((existing or {}).get("properties") or {})
        version = p.get("kubernetesVersion") or old.get("kubernetesVersion") or "1.34.1"
        offered = catalog.k8s_patch_versions(api.world.state, region)
        if version not in offered and not any(v.startswith(version + ".") for v in offered):
            raise _err(
                400,
                "K8sVersionNotSupported",
                f"Version {version} is not supported in this region. Please use [az aks get-versions] command to "
                "get the supported version list in this region. For more information, please check "
                "https://aka.ms/supported-version-list",
            )
        if not p.get("dnsPrefix") and not old.get("dnsPrefix"):
            p["dnsPrefix"] = f"{res['name'][:45]}-dns"
        profiles = p.pop("agentPoolProfiles", None) or []
        if existing is None:
            if not any((pp.get("mode") or "User") == "System" for pp in profiles):
                raise _err(400, "InvalidParameter", "A cluster must have at least one agent pool with mode System.")
        else:
            for field in IMMUTABLE_CLUSTER:
                new_v, old_v = _get_path(p, field), _get_path(old, field)
                if new_v is not None and old_v is not None and new_v != old_v:
                    raise _err(400, "PropertyChangeNotAllowed", f"Changing property '{field}' is not allowed.")
            known = {c["name"].lower() for c in api.children(rid, POOL_TYPE)}
            for pp in profiles:
                if str(pp.get("name", "")).lower() not in known:
                    raise _err(
                        400,
                        "BadRequest",
                        "A new agent pool was introduced. Adding agent pools to an existing cluster is not allowed "
                        "through managed cluster operations. For agent pool specific change, please use per agent "
                        "pool operations: https://aka.ms/agent-pool-rest-api",
                    )
        merged = old
        deep_merge(merged, p)
        merged["kubernetesVersion"] = version
        merged["currentKubernetesVersion"] = version if len(version.split(".")) == 3 else _latest(offered, version)
        net = merged.setdefault("networkProfile", {})
        for key, value in NETWORK_DEFAULTS.items():
            net.setdefault(key, copy.deepcopy(value))
        if net.get("networkPluginMode") == "overlay" or net.get("networkPlugin") == "kubenet":
            net.setdefault("podCidr", "10.244.0.0/16")
            net.setdefault("podCidrs", [net["podCidr"]])
        net.setdefault("serviceCidrs", [net["serviceCidr"]])
        self._read_only(api, res, merged, existing)
        identity = body.get("identity") or (existing or {}).get("identity") or {"type": "SystemAssigned"}
        res["identity"] = self._identity(api, identity, (existing or {}).get("identity"))
        res["sku"] = body.get("sku") or (existing or {}).get("sku") or {"name": "Base", "tier": "Free"}
        res["properties"] = merged
        # Pools from the profiles: validated now, written as child resources.
        pools = []
        for pp in profiles:
            name = str(pp.get("name") or "")
            old_pool = api.get(f"{rid}/agentPools/{name}")
            norm = _normalise_pool(pp, version, old_pool["properties"] if old_pool else None)
            norm.setdefault("maxPods", _max_pods(merged["networkProfile"]))
            old_count = int((old_pool or {}).get("properties", {}).get("count") or 0)
            _check_capacity(api, region, norm, old_count, name)
            if old_pool is None:
                norm["vnetSubnetID"] = norm.get("vnetSubnetID")
                if norm.get("vnetSubnetID") and api.get(norm["vnetSubnetID"]) is None:
                    raise _err(
                        400,
                        "InvalidParameter",
                        f"The subnet {norm['vnetSubnetID']} referenced by agent pool {name} was not found.",
                    )
            pools.append((name, norm))
        for name, norm in pools:
            existing_pool = api.get(f"{rid}/agentPools/{name}")
            pool_props = copy.deepcopy(existing_pool["properties"]) if existing_pool else {}
            pool_props.update(norm)
            pool_props["provisioningState"] = "Creating" if existing is None else "Updating"
            pool_props["powerState"] = {"code": "Running"}
            api.put_raw(_pool_resource(rid, name, pool_props))
        return res

    def _read_only(self, api: ArmApi, res: dict[str, Any], p: dict[str, Any], existing: dict[str, Any] | None) -> None:
        rid, region, name = res["id"], res["location"], res["name"]
        segs = ids.segments(rid)
        rg = segs[3]
        old = (existing or {}).get("properties") or {}
        p["fqdn"] = (
            old.get("fqdn")
            or f"{p['dnsPrefix']}-{hashlib.sha256(rid.lower().encode()).hexdigest()[:8]}.hcp.{region}.azmk8s.io"
        )
        p["azurePortalFQDN"] = p["fqdn"].replace(".hcp.", ".portal.hcp.")
        p["nodeResourceGroup"] = (
            old.get("nodeResourceGroup") or p.get("nodeResourceGroup") or f"MC_{rg}_{name}_{region}"
        )
        p["maxAgentPools"] = 100
        p["powerState"] = {"code": "Running"}
        oidc = p.get("oidcIssuerProfile") or {}
        if oidc.get("enabled"):
            issuer = (old.get("oidcIssuerProfile") or {}).get("issuerURL")
            oidc["issuerURL"] = (
                issuer or f"https://{region}.oic.prod-aks.azure.com/{api.world.tenant_id}/{uuid.uuid4()}/"
            )
        elif (old.get("oidcIssuerProfile") or {}).get("enabled"):
            raise _err(400, "BadRequest", "The OIDC issuer feature cannot be disabled once it has been enabled.")
        p["oidcIssuerProfile"] = oidc or {"enabled": False}
        node_rg_id = f"/subscriptions/{segs[1]}/resourceGroups/{p['nodeResourceGroup']}"
        kubelet = (old.get("identityProfile") or {}).get("kubeletidentity") or {
            "resourceId": f"{node_rg_id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}-agentpool",
            "clientId": new_guid(),
            "objectId": new_guid(),
        }
        p["identityProfile"] = {"kubeletidentity": kubelet}

    def _identity(self, api: ArmApi, wanted: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        out = copy.deepcopy(wanted)
        if out.get("type") == "SystemAssigned":
            out["principalId"] = (old or {}).get("principalId") or new_guid()
            out["tenantId"] = api.world.tenant_id
        # A user-assigned control-plane identity: AKS answers each entry with the identity's own
        # principalId and clientId (ManagedClusterIdentity.userAssignedIdentities, AKS REST spec).
        for uid, entry in (out.get("userAssignedIdentities") or {}).items():
            mi = api.get(uid)
            if mi is not None and isinstance(entry, dict):
                entry["principalId"] = mi["properties"].get("principalId")
                entry["clientId"] = mi["properties"].get("clientId")
        return out

    def on_ready(self, api: ArmApi, res: dict[str, Any], created: bool) -> None:
        p = res["properties"]
        # The node resource group and the kubelet identity AKS creates, tagged like the cluster.
        segs = ids.segments(res["id"])
        node_rg_id = f"/subscriptions/{segs[1]}/resourceGroups/{p['nodeResourceGroup']}"
        if api.get(node_rg_id) is None:
            api.put_raw(
                {
                    "id": node_rg_id,
                    "name": p["nodeResourceGroup"],
                    "type": "Microsoft.Resources/resourceGroups",
                    "location": res["location"],
                    "managedBy": res["id"],
                    "tags": dict(res.get("tags") or {}),
                    "properties": {"provisioningState": "Succeeded"},
                }
            )
        kubelet = p["identityProfile"]["kubeletidentity"]
        if api.get(kubelet["resourceId"]) is None:
            api.put_raw(
                {
                    "id": kubelet["resourceId"],
                    "name": kubelet["resourceId"].split("/")[-1],
                    "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                    "location": res["location"],
                    "tags": dict(res.get("tags") or {}),
                    "properties": {
                        "tenantId": api.world.tenant_id,
                        "principalId": kubelet["objectId"],
                        "clientId": kubelet["clientId"],
                    },
                }
            )
        for pool in api.children(res["id"], POOL_TYPE):
            if pool["properties"].get("provisioningState") in ("Creating", "Updating"):
                pool["properties"]["provisioningState"] = "Succeeded"
        key = _kube_key(res["id"])
        api.world.kube.create_cluster(key, p["currentKubernetesVersion"])
        sync_nodes(api, res)

    def on_deleted(self, api: ArmApi, res: dict[str, Any]) -> None:
        node_rg = (res.get("properties") or {}).get("nodeResourceGroup")
        if node_rg:
            segs = ids.segments(res["id"])
            api.remove(f"/subscriptions/{segs[1]}/resourceGroups/{node_rg}")
        api.world.kube.delete_cluster(_kube_key(res["id"]))

    def check_delete(self, api: ArmApi, res: dict[str, Any]) -> None:
        # A delete preempts whatever runs on the cluster or its pools.
        for op in api.running_ops(res["id"]):
            api.finish(
                op,
                status="Failed",
                error={
                    "code": "AKSOperationPreemptedByDelete",
                    "message": "This operation has been preempted by Deleting operation.",
                },
            )

    def view(self, api: ArmApi, res: dict[str, Any]) -> dict[str, Any]:
        out = super().view(api, res)
        out["properties"]["agentPoolProfiles"] = [
            {"name": pool["name"], **copy.deepcopy(pool["properties"])} for pool in api.children(res["id"], POOL_TYPE)
        ]
        return out


def _latest(offered: list[str], minor: str) -> str:
    matching = sorted((v for v in offered if v.startswith(minor + ".")), key=lambda v: [int(x) for x in v.split(".")])
    return matching[-1] if matching else minor


class AgentPools(ResourceType):
    type = POOL_TYPE
    tracked = False
    put_lro = "async"
    delete_lro = "async"
    delete_latency = "agentpool.delete"
    aks_errors = True

    def check_write(self, api: ArmApi, rid: str, existing: dict[str, Any] | None) -> None:
        cluster_id = _cluster_id(rid)
        cluster_ops = [o for o in api.running_ops(cluster_id) if o["holder"] == cluster_id.lower()]
        own = api.running_ops(rid)
        for op in cluster_ops + own:
            raise _err(409, "OperationNotAllowed", _busy_message(op, api))
        if existing is not None and existing["properties"].get("provisioningState") == "Deleting":
            raise _err(
                409,
                "OperationNotAllowed",
                f"Unable to perform 'Updating' operation on '{existing['name']}' since deletion was issued on "
                f"'{existing['name']}'. The only allowed operation is deletion once deletion has started.",
            )

    def duration(self, api: ArmApi, res: dict[str, Any], created: bool) -> float:
        size = catalog.vm_size(res["properties"].get("vmSize") or "")
        if not created:
            return api.world.profile.seconds("agentpool.update")
        return api.world.profile.seconds("agentpool.create.gpu" if size and size.gpus else "agentpool.create")

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        cluster = api.get(_cluster_id(rid))
        assert cluster is not None
        name = res["name"]
        if not (name.isalnum() and name.islower() and name[0].isalpha() and len(name) <= 12):
            raise _err(
                400,
                "InvalidParameter",
                f"The value of parameter agentPoolProfile.name is invalid. Error details: Agent pool name '{name}' "
                "must start with a lowercase letter, have max length of 12, and only have characters a-z0-9.",
            )
        old = (existing or {}).get("properties") or {}
        p = _normalise_pool(
            body.get("properties") or {},
            cluster["properties"].get("currentKubernetesVersion", ""),
            old if existing is not None else None,
        )
        if existing is not None:
            for field in IMMUTABLE_POOL:
                if field in (body.get("properties") or {}) and old.get(field) not in (None, p.get(field)):
                    raise _err(400, "PropertyChangeNotAllowed", f"Changing property '{field}' is not allowed.")
        elif p.get("vnetSubnetID") and api.get(p["vnetSubnetID"]) is None:
            raise _err(
                400,
                "InvalidParameter",
                f"The subnet {p['vnetSubnetID']} referenced by agent pool {name} was not found.",
            )
        _check_capacity(api, cluster["location"], p, int(old.get("count") or 0), name)
        p.setdefault("maxPods", _max_pods(cluster["properties"].get("networkProfile") or {}))
        p["powerState"] = {"code": "Running"}
        res["properties"] = p
        return res

    def lro_error(self, api: ArmApi, res: dict[str, Any], created: bool) -> dict[str, Any] | None:
        """Two pools created at once on one subnet: AKS sets the VNet's ownership for each, and the
        second finds the VNet still Updating. The PUT is accepted and its operation ends Failed with
        SetVNetOwnershipFailed wrapping the network RP's 400 VirtualNetworkNotInSucceededState
        (Azure/AKS#4522; terraform-provider-azurerm serialises pool creates per subnet for this,
        PRs #25888, #32682)."""
        subnet = str(res["properties"].get("vnetSubnetID") or "")
        if not created or not subnet:
            return None
        for op in list(api.ops.values()):
            other = api.get(op["resource_id"]) if op["status"] == "InProgress" else None
            if (
                other is None
                or other["type"] != POOL_TYPE
                or op["action"] != "put"
                or not op["created"]
                or ids.key(other["id"]) == ids.key(res["id"])
                or ids.key(str(other["properties"].get("vnetSubnetID") or "")) != ids.key(subnet)
            ):
                continue
            segs = ids.segments(subnet)
            vnet_id = "/" + "/".join(segs[:8])
            inner = (
                f"Virtual network {vnet_id} is in Updating state. It needs to be in Succeeded state in order to set "
                "resource ownership."
            )
            return {
                "code": "SetVNetOwnershipFailed",
                "message": (
                    f"Set virtual network ownership failed. Subscription: {segs[1]}; resource group: {segs[3]}; "
                    f'virtual network name: {segs[7]}. Status=400 Code="VirtualNetworkNotInSucceededState" '
                    f'Message="{inner}" Details=[]'
                ),
                "details": [{"code": "VirtualNetworkNotInSucceededState", "message": inner}],
            }
        return None

    def on_ready(self, api: ArmApi, res: dict[str, Any], created: bool) -> None:
        cluster = api.get(_cluster_id(res["id"]))
        if cluster is not None:
            sync_nodes(api, cluster)

    def on_deleted(self, api: ArmApi, res: dict[str, Any]) -> None:
        cluster = api.get(_cluster_id(res["id"]))
        if cluster is not None:
            sync_nodes(api, cluster, without=res["name"])

    def check_delete(self, api: ArmApi, res: dict[str, Any]) -> None:
        cluster_id = _cluster_id(res["id"])
        for op in [o for o in api.running_ops(cluster_id) if o["holder"] == cluster_id.lower()]:
            raise _err(409, "OperationNotAllowed", _busy_message(op, api))
        if res["properties"].get("mode") == "System":
            systems = [p for p in api.children(cluster_id, POOL_TYPE) if p["properties"].get("mode") == "System"]
            if len(systems) <= 1:
                raise _err(
                    400,
                    "OperationNotAllowed",
                    "The last system node pool cannot be deleted. A cluster must have at least one system node pool.",
                )


def sync_nodes(api: ArmApi, cluster: dict[str, Any], without: str | None = None) -> None:
    """Kubernetes nodes follow the pools' current counts."""
    pools = []
    for pool in api.children(cluster["id"], POOL_TYPE):
        p = pool["properties"]
        if pool["name"] == without or p.get("provisioningState") in ("Creating", "Deleting"):
            continue
        pools.append(
            {
                "name": pool["name"],
                "count": int(p.get("count") or 0),
                "vm_size": p.get("vmSize"),
                "labels": dict(p.get("nodeLabels") or {}),
                "taints": list(p.get("nodeTaints") or []),
                # The nodes carry what the pool carries: a spot pool whose label an update dropped
                # loses it on its nodes too (Azure/AKS#3152); the taint is in nodeTaints either way.
                "spot": p.get("scaleSetPriority") == "Spot" and SPOT_LABEL[0] in (p.get("nodeLabels") or {}),
                "mode": p.get("mode", "User"),
            }
        )
    api.world.kube.set_nodes(_kube_key(cluster["id"]), pools)


def control_plane_principal(cluster: dict[str, Any]) -> str | None:
    """The principal cloud-provider-azure acts as: the system-assigned identity, or the (single)
    user-assigned one ("Use a managed identity in AKS": the cluster identity is one or the other)."""
    identity = cluster.get("identity") or {}
    if str(identity.get("type", "")).lower() == "systemassigned":
        return identity.get("principalId")
    for entry in (identity.get("userAssignedIdentities") or {}).values():
        if isinstance(entry, dict) and entry.get("principalId"):
            return str(entry["principalId"])
    return None


def load_balancer_denial(world: Any, kube_key: str) -> str | None:
    """Why cloud-provider-azure cannot give a LoadBalancer Service of this cluster an address, or None.

    With a bring-your-own subnet the control-plane identity must hold
    `Microsoft.Network/virtualNetworks/subnets/join/action` on each node subnet (at that scope or
    above): AKS docs "Use a managed identity in AKS" / "aks-service-permissions" (Network
    Contributor on the subnet); without it ARM refuses the VMSS update with 403
    LinkedAuthorizationFailed and the controller emits `SyncLoadBalancerFailed` (Azure/AKS#357,
    #1557; the message as in jenkins-infra/kubernetes-management#6506). A managed VNet (no
    vnetSubnetID) lives in the node resource group, where AKS holds the rights itself.
    """
    from raks.sandbox.arm import roles

    store: dict[str, dict[str, Any]] = world.state["arm"]
    cluster = next(
        (r for r in store.values() if r.get("type") == CLUSTER_TYPE and _kube_key(r["id"]) == kube_key), None
    )
    if cluster is None:
        return None
    principal = control_plane_principal(cluster)
    prefix = ids.key(cluster["id"]) + "/agentpools/"
    pools = sorted((k, r) for k, r in store.items() if k.startswith(prefix) and r.get("type") == POOL_TYPE)
    subnets = {str(r["properties"]["vnetSubnetID"]): r["name"] for _, r in pools if r["properties"].get("vnetSubnetID")}
    if principal is None or not subnets:
        return None
    for subnet, pool in sorted(subnets.items()):
        if roles.may_join_subnet(world, principal, subnet):
            continue
        node_rg = cluster["properties"].get("nodeResourceGroup", "")
        digest = int(hashlib.sha256(cluster["id"].lower().encode()).hexdigest()[:8], 16) % 10**8
        vm = (
            f"/subscriptions/{ids.segments(cluster['id'])[1]}/resourceGroups/{node_rg}/providers/"
            f"Microsoft.Compute/virtualMachineScaleSets/aks-{pool}-{digest:08d}-vmss/virtualMachines/0"
        )
        raw = (
            f"The client '{principal}' with object id '{principal}' has permission to perform action "
            f"'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/write' on scope '{vm}'; however, it does "
            f"not have permission to perform action(s) '{roles.JOIN_SUBNET}' on the linked scope(s) '{subnet}' "
            "(respectively) or the linked scope(s) are invalid."
        )
        return (
            "Error syncing load balancer: failed to ensure load balancer: Retriable: false, RetryAfter: 0s, "
            'HTTPStatusCode: 403, RawError: {"error":{"code":"LinkedAuthorizationFailed","message":"' + raw + '"}}'
        )
    return None


def _user_credentials(api: ArmApi, res: dict[str, Any], req: Request) -> Response:
    if props(res).get("provisioningState") == "Creating":
        raise _err(409, "OperationNotAllowed", "The cluster is still being created; credentials are not available yet.")
    key = _kube_key(res["id"])
    token = api.world.kube.token(key)
    if token is None:
        raise _err(404, "NotFound", "The cluster's API server is not available.")
    ca = base64.b64encode(api.world.ca_pem()).decode()
    name = res["name"]
    user = f"clusterUser_{ids.segments(res['id'])[3]}_{name}"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": f"{api.world.base_url}/k8s/{key}", "certificate-authority-data": ca}}
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
        "preferences": {},
        "users": [{"name": user, "user": {"token": token}}],
    }
    value = base64.b64encode(yaml.safe_dump(kubeconfig, sort_keys=False).encode()).decode()
    return Response(200, {"kubeconfigs": [{"name": "clusterUser", "value": value}]})


ManagedClusters.actions = {"listClusterUserCredential": _user_credentials}


def kubernetes_versions(api: ArmApi, location: str) -> Response:
    offered = catalog.k8s_patch_versions(api.world.state, location)
    values = []
    for minor, info in catalog.DEFAULT_K8S_VERSIONS.items():
        patches = [v for v in offered if v.startswith(minor + ".")]
        if not patches:
            continue
        entry: dict[str, Any] = {
            "version": minor,
            "capabilities": {"supportPlan": list(info["supportPlan"])},
            "patchVersions": {v: {"upgrades": [u for u in offered if _newer(u, v)]} for v in patches},
        }
        if info.get("isDefault"):
            entry["isDefault"] = True
        if info.get("isPreview"):
            entry["isPreview"] = True
        values.append(entry)
    return Response(200, {"values": values})


def _newer(a: str, b: str) -> bool:
    return [int(x) for x in a.split(".")] > [int(x) for x in b.split(".")]


TYPES: list[ResourceType] = [ManagedClusters(), AgentPools()]
