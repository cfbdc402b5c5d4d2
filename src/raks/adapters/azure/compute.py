"""Capacity reads: vCPU usages, VM resource SKUs, AKS versions and a cluster's pools, as plain data.

Quota names are matched case-insensitively and ignoring spaces: Azure spells the same family
`standardNCADSA100v4Family`, `StandardNCADSA100v4Family` or `Standard NCASv3_T4 Family` depending on
the API (azure-facts.md §4); `quota_key` is the one normal form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from raks.adapters.azure.arm import to_wire
from raks.adapters.azure.errors import AzureCallError, translate

if TYPE_CHECKING:
    from raks.adapters.azure.arm import Arm

REGIONAL = "cores"
SPOT = "lowprioritycores"


def quota_key(name: str) -> str:
    return name.replace(" ", "").lower()


@dataclass(frozen=True)
class Usage:
    name: str  # as Azure spells it
    current: int
    limit: int

    @property
    def free(self) -> int:
        return max(0, self.limit - self.current)


@dataclass(frozen=True)
class Sku:
    """One VM size in one region, with what the subscription may use of it."""

    name: str
    region: str
    family: str
    vcpus: int
    gpus: int
    memory_gb: float
    zones: tuple[str, ...]
    restricted: bool  # the whole region is closed to this subscription
    restricted_zones: tuple[str, ...]  # zones closed to it
    reason: str = ""  # restriction reasonCode (QuotaId, NotAvailableForSubscription)

    @property
    def usable_zones(self) -> tuple[str, ...]:
        return tuple(z for z in self.zones if z not in self.restricted_zones)


def usages(arm: Arm, region: str) -> dict[str, Usage]:
    """Compute quotas of a region keyed by quota_key(name)."""
    try:
        items = [to_wire(u) for u in arm._client("compute").usage.list(region)]
    except Exception as exc:
        raise translate(exc, what=f"read vCPU quotas in {region}") from None
    out = {}
    for item in items:
        name = str((item.get("name") or {}).get("value") or "")
        out[quota_key(name)] = Usage(name, int(item.get("currentValue") or 0), int(item.get("limit") or 0))
    return out


def _capability(sku: dict[str, Any], name: str, default: str = "0") -> str:
    for cap in sku.get("capabilities") or []:
        if cap.get("name") == name:
            return str(cap.get("value"))
    return default


def _parse(sku: dict[str, Any]) -> list[Sku]:
    out = []
    for info in sku.get("locationInfo") or [{"location": loc} for loc in sku.get("locations") or []]:
        region = str(info.get("location") or "").lower()
        restricted, reason = False, ""
        zones_closed: set[str] = set()
        for r in sku.get("restrictions") or []:
            where = r.get("restrictionInfo") or {}
            if region not in {str(v).lower() for v in (where.get("locations") or r.get("values") or [])}:
                continue
            reason = str(r.get("reasonCode") or "")
            if r.get("type") == "Location":
                restricted = True
            elif r.get("type") == "Zone":
                zones_closed.update(str(z) for z in where.get("zones") or [])
        out.append(
            Sku(
                name=str(sku.get("name")),
                region=region,
                family=str(sku.get("family") or ""),
                vcpus=int(float(_capability(sku, "vCPUs"))),
                gpus=int(float(_capability(sku, "GPUs"))),
                memory_gb=float(_capability(sku, "MemoryGB")),
                zones=tuple(sorted(str(z) for z in info.get("zones") or [])),
                restricted=restricted,
                restricted_zones=tuple(sorted(zones_closed)),
                reason=reason,
            )
        )
    return out


def vm_skus(arm: Arm, region: str | None = None) -> list[Sku]:
    """VM sizes offered in a region, or in every region at once (region=None: one call)."""
    flt = f"location eq '{region}'" if region else None
    try:
        items = [to_wire(s) for s in arm._client("compute").resource_skus.list(filter=flt)]
    except Exception as exc:
        raise translate(exc, what=f"read VM sizes{f' in {region}' if region else ''}") from None
    out = []
    for item in items:
        if item.get("resourceType") != "virtualMachines":
            continue
        out += [s for s in _parse(item) if region is None or s.region == region.lower()]
    return out


def kubernetes_versions(arm: Arm, region: str) -> list[dict[str, Any]]:
    """AKS's offered minors in a region (KubernetesVersions_List `values`, azure-facts.md §8)."""
    try:
        result = arm._client("aks").managed_clusters.list_kubernetes_versions(region)
    except Exception as exc:
        raise translate(exc, what=f"read AKS versions in {region}") from None
    values: list[dict[str, Any]] = list(to_wire(result).get("values") or [])
    return values


def pool_counts(arm: Arm, rg: str, cluster: str) -> dict[str, tuple[str, int, bool]]:
    """Current pools of a cluster: name -> (vmSize, node count, spot); empty when it does not exist."""
    try:
        pools = [to_wire(p) for p in arm.ops("agent_pool").list(rg, cluster)]
    except Exception as exc:
        err = translate(exc, what=f"read pools of {cluster}")
        if isinstance(err, AzureCallError) and err.kind == "not_found":
            return {}
        raise err from None
    out = {}
    for p in pools:
        props = p.get("properties") or p
        out[str(p.get("name"))] = (
            str(props.get("vmSize") or ""),
            int(props.get("count") or 0),
            props.get("scaleSetPriority") == "Spot",
        )
    return out
