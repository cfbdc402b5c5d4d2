"""What a deployment has in Azure, found by its tags: the regions it spans, what is left over.

AKS copies a cluster's tags onto its node resource group (`MC_…`) and the kubelet identity in
it (azure-facts.md §0): a group with `managedBy` set, and everything in it, belongs to AKS and
goes with the cluster, so these scans skip it.

ARM's Resources - List omits the tags of what a tag filter returns ("When you filter by a tag
name and value, the tags for each resource are not returned in the results": the `$filter`
parameter of Resources - List, learn.microsoft.com/rest/api/resources/resources/list, and
azure-mgmt-resource's `ResourcesOperations.list` docstring), so the scan never reads tags from a filtered list: it asks once per tag
(raks-deployment=<name>, managed-by=raks) and keeps what both filters returned, each filter
being the proof of its tag. Two subscription-wide lists rather than one unfiltered list of the
resource group (that would miss what carries the tags elsewhere, and read every foreign resource
of a shared group) or a GET per hit (a read per resource, each needing its type's api-version).
"""

from __future__ import annotations

from typing import Any

from raks import names
from raks.steps.base import Context

# Types a region's steps create; their locations are the regions a deployment spans.
REGIONAL_TYPES = frozenset(
    {
        "microsoft.containerservice/managedclusters",
        "microsoft.network/virtualnetworks",
        "microsoft.network/networksecuritygroups",
        "microsoft.network/publicipaddresses",
        "microsoft.network/natgateways",
    }
)
STORAGE_ACCOUNT = "microsoft.storage/storageaccounts"
LABELS = {
    "microsoft.containerservice/managedclusters": "AKS cluster",
    "microsoft.network/virtualnetworks": "virtual network",
    "microsoft.network/networksecuritygroups": "network security group",
    "microsoft.network/publicipaddresses": "public IP",
    "microsoft.network/natgateways": "NAT gateway",
    STORAGE_ACCOUNT: "storage account",
    "microsoft.managedidentity/userassignedidentities": "identity",
}


def type_of(res: dict[str, Any]) -> str:
    return str(res.get("type") or "").lower()


def label(res: dict[str, Any]) -> str:
    kind = LABELS.get(type_of(res)) or type_of(res).rsplit("/", 1)[-1] or "resource"
    return f"{kind} {res.get('name')}"


def describe(items: list[dict[str, Any]], limit: int = 4) -> str:
    """'virtual network a, storage account b and 2 more'."""
    shown = ", ".join(label(r) for r in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def group_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    low = [p.lower() for p in parts]
    return parts[low.index("resourcegroups") + 1].lower() if "resourcegroups" in low[:-1] else ""


def tagged(ctx: Context) -> list[dict[str, Any]]:
    """Resources carrying this deployment's tags anywhere in the subscription, AKS's own excepted."""
    tag = (names.TAG_DEPLOYMENT, ctx.cfg.deployment)
    aks_groups = {str(g.get("name") or "").lower() for g in ctx.azure.list_groups(tag=tag) if g.get("managedBy")}
    managed = {
        str(r.get("id") or "").lower() for r in ctx.azure.list_resources(tag=(names.TAG_MANAGED_BY, names.MANAGED_BY))
    }
    return [
        r
        for r in ctx.azure.list_resources(tag=tag)
        if str(r.get("id") or "").lower() in managed
        and not r.get("managedBy")
        and group_of(str(r.get("id") or "")) not in aks_groups
    ]


def regions_of(ctx: Context, resources: list[dict[str, Any]]) -> list[str]:
    """Regions with regional resources of the deployment in its resource group."""
    rg = ctx.cfg.resolved_resource_group().lower()
    return sorted(
        {
            str(r.get("location")).lower()
            for r in resources
            if type_of(r) in REGIONAL_TYPES and r.get("location") and group_of(str(r.get("id") or "")) == rg
        }
    )


def leftovers(ctx: Context, removed_regions: list[str], *, whole: bool) -> list[dict[str, Any]]:
    """What still carries the deployment's tags after a down but should not: in the removed
    regions; after a whole down, anything but the storage account kept for its data."""
    gone = {r.lower() for r in removed_regions}

    def unexplained(r: dict[str, Any]) -> bool:
        if type_of(r) in REGIONAL_TYPES:
            return str(r.get("location") or "").lower() in gone
        kept_data = type_of(r) == STORAGE_ACCOUNT and not ctx.delete_data
        return whole and not kept_data

    return [r for r in tagged(ctx) if unexplained(r)]
