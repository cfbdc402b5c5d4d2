"""Read-only views of a deployment for `raks status`, as plain JSON-ready dicts.

Helm releases and the Anyscale cloud resource of a region are read by the in-cluster steps'
readers listed in EXTRA_REGION_PROVIDERS / EXTRA_GLOBAL_PROVIDERS. A key a reader cannot fill
(no cluster, another platform) stays None: "not inspected", never "none".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from raks import names
from raks.adapters.azure.compute import SPOT, Sku, Usage, quota_key, usages, vm_skus
from raks.steps.anyscale_cloud import cloud_status, resource_status
from raks.steps.base import Context
from raks.steps.helm_addons import release_status

RegionProvider = Callable[[Context, str], dict[str, Any]]
GlobalProvider = Callable[[Context], dict[str, Any]]
# Extra status providers: each returns keys merged into a region's (or the global) entry,
# e.g. {"helm_releases": [{"release", "chart", "version", "status"}]} or
# {"anyscale_cloud_resource_id": "..."}. The in-cluster steps append theirs here.
EXTRA_REGION_PROVIDERS: list[RegionProvider] = [release_status, resource_status]
EXTRA_GLOBAL_PROVIDERS: list[GlobalProvider] = [cloud_status]
# Keys the providers own; None until a provider reports them.
REGION_HOOK_KEYS = ("helm_releases", "anyscale_cloud_resource_id")
GLOBAL_HOOK_KEYS = ("anyscale_cloud",)


def _resource(ctx: Context, kind: str, *path: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    found = ctx.azure.get(kind, *path)
    entry: dict[str, Any] = {"name": path[-1], "exists": found is not None}
    if found is not None and found.get("tags") is not None:
        entry["managed_by_raks"] = names.is_ours(found.get("tags"), ctx.cfg)
    return entry, found


def global_status(ctx: Context) -> dict[str, Any]:
    cfg = ctx.cfg
    rg = cfg.resolved_resource_group()
    account = names.storage_account_name(cfg, ctx.subscription_id)
    group, _ = _resource(ctx, "resource_group", rg)
    identity, found = _resource(ctx, "identity", rg, cfg.resolved_identity_name())
    p = (found or {}).get("properties") or {}
    identity.update({"client_id": p.get("clientId"), "principal_id": p.get("principalId")})
    storage, _ = _resource(ctx, "storage_account", rg, account)
    container, _ = _resource(ctx, "container", rg, account, cfg.resolved_container())
    out: dict[str, Any] = {
        "resource_group": group,
        "identity": identity,
        "storage_account": storage,
        "container": container,
        **dict.fromkeys(GLOBAL_HOOK_KEYS),
    }
    for provider in EXTRA_GLOBAL_PROVIDERS:
        out.update(provider(ctx))
    return out


def _pool(pool: dict[str, Any], sku: Sku | None) -> dict[str, Any]:
    p = pool.get("properties") or {}
    spot = p.get("scaleSetPriority") == "Spot"
    autoscale = bool(p.get("enableAutoScaling"))
    count = int(p.get("count") or 0)
    return {
        "name": pool.get("name"),
        "mode": p.get("mode"),
        "vm_size": p.get("vmSize"),
        "spot": spot,
        "gpu": bool(sku and sku.gpus),
        "nodes": count,
        "min": int(p["minCount"]) if autoscale and p.get("minCount") is not None else count,
        "max": int(p["maxCount"]) if autoscale and p.get("maxCount") is not None else count,
        "autoscale": autoscale,
        "taints": list(p.get("nodeTaints") or []),
        "provisioning_state": p.get("provisioningState"),
        # The quota this pool's nodes draw on: regional spot vCPUs, or the size's family.
        "quota": "lowPriorityCores" if spot else (sku.family if sku else None),
    }


def _quota(kind: str, usage: Usage | None, name: str) -> dict[str, Any]:
    return {
        "name": usage.name if usage else name,
        "kind": kind,
        "used": usage.current if usage else None,
        "limit": usage.limit if usage else None,
        "unit": "vCPUs",
    }


def region_status(ctx: Context, region: str) -> dict[str, Any]:
    """Cluster, pools (Azure's view, configured or not) and the quotas the pools draw on."""
    cfg = ctx.cfg
    rg = cfg.resolved_resource_group()
    name = names.cluster_name(cfg, region)
    found = ctx.azure.get("cluster", rg, name)
    cluster: dict[str, Any] = {"name": name, "exists": found is not None}
    pools: list[dict[str, Any]] = []
    skus = {s.name.lower(): s for s in vm_skus(ctx.azure, region)}
    if found is not None:
        p = found.get("properties") or {}
        cluster.update(
            {
                "managed_by_raks": names.is_ours(found.get("tags"), cfg),
                "provisioning_state": p.get("provisioningState"),
                "power_state": (p.get("powerState") or {}).get("code"),
                "kubernetes_version": p.get("currentKubernetesVersion") or p.get("kubernetesVersion"),
                "fqdn": p.get("fqdn"),
            }
        )
        order = [p.name for p in cfg.pools]
        found_pools = ctx.azure.list_children("agent_pool", rg, name)
        # Configured pools in raks.yaml's order, then any others by name.
        for pool in sorted(
            found_pools,
            key=lambda x: (order.index(x["name"]) if x.get("name") in order else len(order), str(x.get("name"))),
        ):
            size = str((pool.get("properties") or {}).get("vmSize") or "")
            pools.append(_pool(pool, skus.get(size.lower())))
    # Quotas of the pools that exist, else of the configured ones (what `up` would need).
    wanted = [(str(x["vm_size"] or ""), bool(x["spot"])) for x in pools] or [(q.vm_size, q.spot) for q in cfg.pools]
    quotas = usages(ctx.azure, region)
    quota: list[dict[str, Any]] = []
    for family in sorted({s.family for size, _ in wanted if (s := skus.get(size.lower())) and s.gpus}):
        quota.append(_quota("gpu", quotas.get(quota_key(family)), family))
    if any(spot for _, spot in wanted):
        quota.append(_quota("spot", quotas.get(SPOT), "lowPriorityCores"))
    entry: dict[str, Any] = {
        "region": region,
        "cluster": cluster,
        "pools": pools,
        "quota": quota,
        **dict.fromkeys(REGION_HOOK_KEYS),
    }
    for provider in EXTRA_REGION_PROVIDERS:
        entry.update(provider(ctx, region))
    return entry
