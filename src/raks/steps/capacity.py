"""How many nodes of a VM size fit a region's vCPU quota, and which regions or sizes fit best.

Spot nodes count against the regional spot quota (`lowPriorityCores`) only; on-demand nodes
against both the regional total (`cores`) and the size's family quota (azure-facts.md §4).
Used by preflight, by `raks regions` and to explain a pool that failed for capacity.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from raks.adapters.azure.compute import REGIONAL, SPOT, Sku, Usage, quota_key, usages, vm_skus
from raks.adapters.azure.errors import AzureCallError
from raks.config import Pool
from raks.errors import RaksError
from raks.regions import AZURE_REGIONS

if TYPE_CHECKING:
    from raks.adapters.azure.arm import Arm

READ_WORKERS = 10  # parallel reads: the SDK keeps 10 connections per client (ARM allows bursts of 250)


def quota_names(sku: Sku, spot: bool) -> list[str]:
    """The quota_key()s a node of this size draws on."""
    return [SPOT] if spot else [REGIONAL, quota_key(sku.family)]


def nodes_fit(quotas: dict[str, Usage], sku: Sku, spot: bool) -> tuple[int, Usage | None]:
    """Nodes that still fit the free quota, and the quota that limits them (None: not reported)."""
    best: tuple[int, Usage | None] = (1 << 30, None)
    for name in quota_names(sku, spot):
        usage = quotas.get(name)
        if usage is None or sku.vcpus <= 0:
            continue
        n = usage.free // sku.vcpus
        if n < best[0]:
            best = (n, usage)
    return best if best[1] is not None else (0, None)


@dataclass(frozen=True)
class RegionFit:
    region: str
    sku: Sku
    spot: bool
    nodes: int  # nodes of the size that fit the free quota
    quota: Usage | None  # the limiting quota

    def figure(self) -> str:
        q = self.quota
        left = f"{q.free} of {q.limit} {q.name} vCPUs free" if q else "quota not reported"
        return f"{self.nodes} × {self.sku.name} ({self.sku.vcpus} vCPUs) fit: {left}"


def _fits(arm: Arm, skus: list[Sku], spot: bool) -> list[RegionFit]:
    def one(sku: Sku) -> RegionFit:
        n, q = nodes_fit(usages(arm, sku.region), sku, spot)
        return RegionFit(sku.region, sku, spot, n, q)

    with ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="raks-read") as pool:
        return list(pool.map(one, skus))


def rank_regions(
    arm: Arm,
    size: str,
    *,
    spot: bool,
    count: int = 1,
    regions: list[str] | None = None,
    skus: list[Sku] | None = None,
) -> list[RegionFit]:
    """Regions where `size` is offered, unrestricted and has quota for `count` nodes, most headroom
    first. One SKU read for every region at once, then the quotas of the candidates in parallel."""
    wanted = {r.lower() for r in (regions or AZURE_REGIONS)}
    every = vm_skus(arm) if skus is None else skus
    candidates = [s for s in every if s.name.lower() == size.lower() and s.region in wanted and not s.restricted]
    fits = [f for f in _fits(arm, candidates, spot) if f.nodes >= count]
    return sorted(fits, key=lambda f: (-f.nodes, f.region))


def alternative_sizes(
    arm: Arm, region: str, sku: Sku, spot: bool, *, skus: list[Sku] | None = None, limit: int = 3
) -> list[RegionFit]:
    """Other sizes of the same kind (GPU or not) in the region that fit at least one node."""
    quotas = usages(arm, region)
    out = []
    for other in vm_skus(arm, region) if skus is None else [s for s in skus if s.region == region.lower()]:
        if other.name.lower() == sku.name.lower() or other.restricted or (other.gpus > 0) != (sku.gpus > 0):
            continue
        n, q = nodes_fit(quotas, other, spot)
        if n > 0:
            out.append(RegionFit(region, other, spot, n, q))
    # Closest first: same GPU count, then same vCPUs, then the most nodes.
    out.sort(key=lambda f: (abs(f.sku.gpus - sku.gpus), abs(f.sku.vcpus - sku.vcpus), -f.nodes, f.sku.name))
    return out[:limit]


def capacity_hint(arm: Arm, region: str, size: str, spot: bool, count: int) -> str:
    """Where else this pool could go: the best regions for the size and other sizes here."""
    kind = "spot" if spot else "on-demand"
    parts = []
    every = vm_skus(arm)
    ranked = rank_regions(arm, size, spot=spot, count=max(1, count), skus=every)
    regions = [f for f in ranked if f.region != region.lower()][:3]
    if regions:
        parts.append(
            f"regions with {kind} quota for {max(1, count)} × {size}: "
            + ", ".join(f"{f.region} ({f.nodes} fit)" for f in regions)
        )
    ref = next((s for s in every if s.name.lower() == size.lower()), None)
    if ref is not None:
        sizes = alternative_sizes(arm, region, ref, spot, skus=every)
        if sizes:
            parts.append(
                f"other sizes in {region}: "
                + ", ".join(f"{f.sku.name} ({f.sku.gpus} GPUs, {f.nodes} {kind} fit)" for f in sizes)
            )
    return "; ".join(parts) or f"no region has {kind} quota for {size}: request a quota increase"


def explain(arm: Arm, region: str, pool: Pool, exc: AzureCallError) -> AzureCallError:
    """A pool's quota/capacity failure, naming the region and where the pool could go instead."""
    kind = "spot" if pool.spot else "on-demand"
    try:
        hint = capacity_hint(arm, region, pool.vm_size, pool.spot, pool.max_count)
    except RaksError:
        hint = exc.hint or ""  # the advice is a courtesy: never hide the real failure behind it
    return AzureCallError(
        f"{kind} pool {pool.name} ({pool.max_count} × {pool.vm_size}) cannot get capacity in {region}: {exc.message}",
        kind=exc.kind,
        code=exc.code,
        status=exc.status,
        region=region,
        step=exc.step,
        hint=hint or None,
    )
