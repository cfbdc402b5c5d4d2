"""The AKS cluster of a region and its node pools.

The cluster is created with its system pool(s) (AKS requires one); every pool, system ones
included, is then owned by a pool step, which is how later changes reach it (AKS refuses pool
changes through the cluster PUT). What AKS or the autoscaler owns is never drift: the current
node count of an autoscaling pool, and the spot label and taint AKS adds to spot pools.
"""

from __future__ import annotations

import copy
from typing import Any

from raks import names
from raks.adapters.azure.errors import AzureCallError
from raks.config import Pool
from raks.errors import CloudError
from raks.steps import capacity, pools
from raks.steps.arm_step import ArmStep, failed
from raks.steps.base import CREATE, DELETED, NOOP, UPDATE, Context, Diff, differing, retry_on_codes
from raks.steps.network import RG_STEP

AKS_SPOT_LABEL = "kubernetes.azure.com/scalesetpriority"
AKS_SPOT_VALUE = "spot"
AKS_SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
# AKS sets the VNet's ownership when a pool joins it; two pools created at once on one VNet race:
# the create fails with SetVNetOwnershipFailed / VirtualNetworkNotInSucceededState ("Virtual
# network ... is in Updating state") (Azure/AKS#4522). Pool creates are serialised per VNet
# (terraform-provider-azurerm locks around node pool creation, PRs #25888 and #32682: the
# VNet, not only the subnet, is what races), and these codes are retried a few times.
VNET_RACE_CODES = frozenset({"SetVNetOwnershipFailed", "VirtualNetworkNotInSucceededState"})
VNET_RACE_ATTEMPTS = 4
VNET_SETTLE_POLLS = 30


def pool_properties(ctx: Context, pool: Pool, subnet_id: Any) -> dict[str, Any]:
    """The agent pool as raks wants it (wire format)."""
    p: dict[str, Any] = {
        "vmSize": pool.vm_size,
        "mode": "System" if pool.mode == "system" else "User",
        "type": "VirtualMachineScaleSets",
        "osType": "Linux",
        "enableAutoScaling": pool.autoscale,
        "nodeLabels": dict(pool.labels),
        "nodeTaints": list(pool.taints),
        "vnetSubnetID": subnet_id,
        "scaleSetPriority": "Spot" if pool.spot else "Regular",
    }
    if pool.autoscale:
        p.update({"minCount": pool.min_count, "maxCount": pool.max_count, "count": pool.min_count})
    else:
        p["count"] = pool.min_count
    if pool.spot:
        # Delete, not Deallocate: deallocated spot VMs keep consuming quota (anchors-pains #12).
        p.update({"scaleSetEvictionPolicy": "Delete", "spotMaxPrice": -1})
    return p


class ClusterStep(ArmStep):
    kind = "cluster"
    owned = (
        "sku.tier",
        "properties.kubernetesVersion",
        "properties.oidcIssuerProfile.enabled",
        "properties.securityProfile.workloadIdentity.enabled",
        "properties.storageProfile.blobCSIDriver.enabled",
        "properties.networkProfile.networkPlugin",
        "properties.networkProfile.networkPluginMode",
        "properties.networkProfile.podCidr",
        "properties.networkProfile.outboundType",
        "properties.autoScalerProfile.expander",
    )
    title = "AKS cluster"

    def __init__(self, rg: str, region: str) -> None:
        self.rg, self.region = rg, region
        self.key = f"{region}/cluster"
        self.needs = (RG_STEP, f"{region}/vnet")

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, names.region_names(ctx.cfg, self.in_region).cluster)

    def body(self, ctx: Context) -> dict[str, Any]:
        cfg = ctx.cfg
        net = cfg.network
        subnet = ctx.out(f"{self.region}/vnet", "subnet_id")
        systems = [{"name": p.name, **pool_properties(ctx, p, subnet)} for p in cfg.pools if p.mode == "system"]
        body: dict[str, Any] = {
            "location": self.region,
            "sku": {"name": "Base", "tier": cfg.kubernetes.tier},
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "kubernetesVersion": cfg.kubernetes.version,
                "dnsPrefix": names.region_names(cfg, self.in_region).cluster,
                "oidcIssuerProfile": {"enabled": True},
                "securityProfile": {"workloadIdentity": {"enabled": True}},
                "storageProfile": {"blobCSIDriver": {"enabled": True}},
                "networkProfile": {
                    "networkPlugin": "azure",
                    "networkPluginMode": "overlay",
                    "podCidr": net.pod_cidr,
                    "serviceCidr": net.service_cidr,
                    "dnsServiceIP": net.dns_service_ip,
                    "outboundType": "userAssignedNATGateway",
                },
                "agentPoolProfiles": systems,
            },
        }
        if pools.has_fallback(cfg.pools):
            # Spot pools before their on-demand fallbacks: the priority expander (steps/pools.py).
            body["properties"]["autoScalerProfile"] = {"expander": "priority"}
        return body

    def write_body(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> dict[str, Any]:
        if observed is None:
            return desired
        # An update keeps the pools as they are (pool steps own them): send AKS its own view.
        body = copy.deepcopy(desired)
        body["properties"]["agentPoolProfiles"] = [
            {k: v for k, v in p.items() if k not in ("provisioningState", "powerState", "nodeImageVersion")}
            for p in (observed.get("properties") or {}).get("agentPoolProfiles") or []
        ]
        return body

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        o = observed or {}
        p = o.get("properties") or {}
        return {
            "id": o.get("id"),
            "name": o.get("name"),
            "principal_id": (o.get("identity") or {}).get("principalId"),
            "issuer_url": (p.get("oidcIssuerProfile") or {}).get("issuerURL"),
            "node_resource_group": p.get("nodeResourceGroup"),
            "fqdn": p.get("fqdn"),
            "kubelet_client_id": ((p.get("identityProfile") or {}).get("kubeletidentity") or {}).get("clientId"),
            "provisioning_state": p.get("provisioningState"),
            # The pools as the cluster reports them: pool steps read them here instead of one GET
            # each (agentPoolProfiles entries are the agent pools' properties plus their name).
            "pools": {
                str(pp.get("name")): {k: v for k, v in pp.items() if k != "name"}
                for pp in p.get("agentPoolProfiles") or []
            }
            if o
            else None,
        }


IMMUTABLE_POOL_FIELDS = ("properties.vmSize", "properties.scaleSetPriority")


class PoolStep(ArmStep):
    kind = "agent_pool"
    tracked = False

    def __init__(self, rg: str, region: str, pool: Pool) -> None:
        self.rg, self.region, self.pool = rg, region, pool
        self.key = f"{region}/pool-{pool.name}"
        self.needs = (f"{region}/cluster",)
        kind = "spot " if pool.spot else ""
        self.title = f"{kind}pool {pool.name} ({pool.vm_size}, {pool.min_count}-{pool.max_count})"

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, names.region_names(ctx.cfg, self.in_region).cluster, self.pool.name)

    def body(self, ctx: Context) -> dict[str, Any]:
        return {"properties": pool_properties(ctx, self.pool, ctx.out(f"{self.region}/vnet", "subnet_id"))}

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        cluster = ctx.outputs.get(f"{self.in_region}/cluster") or {}
        pools = cluster.get("pools")
        if isinstance(pools, dict) and cluster.get("id"):
            props = pools.get(self.pool.name)
            if props is None:
                return None
            return {"id": f"{cluster['id']}/agentPools/{self.pool.name}", "name": self.pool.name, "properties": props}
        return super().observe(ctx)

    def owned_paths(self) -> tuple[str, ...]:
        paths = ["properties.vmSize", "properties.mode", "properties.enableAutoScaling", "properties.scaleSetPriority"]
        # Under autoscaling the current count is the autoscaler's; only the bounds are raks'.
        paths += ["properties.minCount", "properties.maxCount"] if self.pool.autoscale else ["properties.count"]
        if self.pool.spot:
            paths.append("properties.scaleSetEvictionPolicy")
        return tuple(paths)

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        if observed is None:
            return Diff(CREATE)
        fields = differing(desired, observed, self.owned_paths())
        if failed(observed):
            fields.append("provisioningState (Failed)")
        p, want = observed.get("properties") or {}, desired["properties"]
        labels = {k: v for k, v in (p.get("nodeLabels") or {}).items() if k != AKS_SPOT_LABEL}
        taints = sorted(t for t in p.get("nodeTaints") or [] if t != AKS_SPOT_TAINT)
        if labels != want["nodeLabels"]:
            fields.append("properties.nodeLabels")
        if taints != sorted(want["nodeTaints"]):
            fields.append("properties.nodeTaints")
        frozen = [f for f in fields if f in IMMUTABLE_POOL_FIELDS]
        if frozen:
            raise CloudError(
                f"pool {self.pool.name}: {', '.join(f.split('.')[-1] for f in frozen)} cannot change on an existing "
                "pool (AKS does not allow it)",
                code="PropertyChangeNotAllowed",
                hint=f"add a pool with a new name and remove '{self.pool.name}', or delete it first",
            )
        return Diff(UPDATE, fields) if fields else Diff(NOOP)

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        def write() -> dict[str, Any]:
            result: dict[str, Any] = retry_on_codes(
                lambda: super(PoolStep, self).apply(ctx, diff, desired, observed),
                set(VNET_RACE_CODES),
                attempts=VNET_RACE_ATTEMPTS,
                delay=ctx.retry_delay,
            )
            return result

        try:
            if observed is not None and not failed(observed):
                # Changes to an existing pool stay parallel: only joining the VNet sets its
                # ownership (terraform-provider-azurerm locks in Create, not in Update).
                return write()
            vnet_id = vnet_of(desired["properties"]["vnetSubnetID"])
            with ctx.named_lock(f"vnet-join:{vnet_id}"):
                result = write()
                # As terraform does: hold the lock until the VNet is Succeeded again.
                wait_for_vnet(ctx, vnet_id)
                return result
        except AzureCallError as exc:
            if exc.kind not in ("quota", "capacity"):
                raise
            # Say where this pool could go instead of passing on Azure's raw capacity error.
            raise capacity.explain(ctx.azure, self.in_region, self.pool, exc) from None

    def owner(self, ctx: Context) -> tuple[str, tuple[str, ...]] | None:
        return ("cluster", self.path(ctx)[:2])

    def delete(self, ctx: Context, observed: dict[str, Any]) -> str:
        # AKS deletes a cluster's pools with it (and refuses to delete the last system pool on
        # its own), so deleting each pool first would only add minutes.
        return f"{DELETED} with the cluster"

    def write_body(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> dict[str, Any]:
        if observed is None:
            return desired
        body = copy.deepcopy(desired)
        props = body["properties"]
        if self.pool.spot:
            # An update's labels and taints replace the pool's whole set, and AKS has dropped its
            # own spot label when a spot pool's labels were updated without it (Azure/AKS#3152;
            # cluster-api-provider-azure keeps AKS's labels in updates, PR #2604): send both.
            props["nodeLabels"] = {**props["nodeLabels"], AKS_SPOT_LABEL: AKS_SPOT_VALUE}
            if AKS_SPOT_TAINT not in props["nodeTaints"]:
                props["nodeTaints"] = [*props["nodeTaints"], AKS_SPOT_TAINT]
        if self.pool.autoscale:
            # Keep the autoscaler's current count (clamped into the new bounds).
            current = int((observed.get("properties") or {}).get("count") or self.pool.min_count)
            props["count"] = min(max(current, self.pool.min_count), self.pool.max_count)
        return body


def vnet_of(subnet_id: str) -> str:
    """The VNet id of a subnet id (.../virtualNetworks/<vnet>/subnets/<subnet>)."""
    low = subnet_id.lower()
    cut = low.rfind("/subnets/")
    return subnet_id[:cut] if cut >= 0 else subnet_id


def wait_for_vnet(ctx: Context, vnet_id: str) -> None:
    """Until the VNet's provisioningState is Succeeded again (bounded: a VNet still Updating
    afterwards only makes the next create retry)."""
    import time

    parts = vnet_id.strip("/").split("/")
    low = [p.lower() for p in parts]
    try:
        rg, name = parts[low.index("resourcegroups") + 1], parts[low.index("virtualnetworks") + 1]
    except (ValueError, IndexError):
        return
    for _ in range(VNET_SETTLE_POLLS):
        vnet = ctx.azure.get("vnet", rg, name)
        if vnet is None or (vnet.get("properties") or {}).get("provisioningState") in (None, "Succeeded"):
            return
        time.sleep(ctx.retry_delay)
