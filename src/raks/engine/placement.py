"""`--regions auto:N`: the N regions with the most quota headroom for the config's GPU pools."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from raks.adapters.azure.compute import Sku, Usage, usages, vm_skus
from raks.config import Pool, RaksConfig
from raks.errors import ConfigError
from raks.names import REGION_SLOTS
from raks.regions import AZURE_REGIONS
from raks.steps.capacity import READ_WORKERS, RegionFit, nodes_fit, rank_regions
from raks.steps.pools import expand

if TYPE_CHECKING:
    from raks.adapters.azure.arm import Arm

AUTO = re.compile(r"^auto:([1-9][0-9]?)$")


def auto_count(regions: list[str] | None) -> int | None:
    """N for `--regions auto:N` (given alone); None for ordinary region names."""
    if not regions or not any(r.startswith("auto") for r in regions):
        return None
    m = AUTO.match(regions[0]) if len(regions) == 1 else None
    if m is None:
        raise ConfigError("--regions: auto:N stands alone, with N from 1 to 99 (e.g. --regions auto:2)")
    return int(m.group(1))


@dataclass(frozen=True)
class Choice:
    region: str
    headroom: int  # the smallest number of nodes any GPU pool could reach
    why: str  # per pool: nodes that fit and the limiting quota


def _gpu_pools(cfg: RaksConfig, skus: list[Sku]) -> list[Pool]:
    gpu_sizes = {s.name.lower() for s in skus if s.gpus > 0}
    return [p for p in expand(cfg.pools) if p.vm_size.lower() in gpu_sizes and p.max_count > 0]


def choose(cfg: RaksConfig, arm: Arm, n: int) -> list[Choice]:
    """Regions where every GPU pool's size is offered, unrestricted and has quota for its max count,
    by headroom (most first; ties by name). One SKU read for all regions, then quotas in parallel."""
    every = vm_skus(arm)
    pools = _gpu_pools(cfg, every)
    if not pools:
        raise ConfigError("--regions auto:N: the config has no GPU pool to place (pools[].vm_size with GPUs)")
    by_region: dict[str, dict[str, Sku]] = {}
    for s in every:
        by_region.setdefault(s.region, {})[s.name.lower()] = s
    # Only regions raks can give a VNet slot to and where every GPU size is usable.
    candidates = sorted(
        r
        for r, sizes in by_region.items()
        if r in AZURE_REGIONS
        and r in REGION_SLOTS
        and all(p.vm_size.lower() in sizes and not sizes[p.vm_size.lower()].restricted for p in pools)
    )
    with ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="raks-read") as ex:
        quotas: dict[str, dict[str, Usage]] = dict(
            zip(candidates, ex.map(lambda r: usages(arm, r), candidates), strict=True)
        )
    choices = []
    for r in candidates:
        reasons, headroom = [], 1 << 30
        for p in pools:
            sku = by_region[r][p.vm_size.lower()]
            fit, quota = nodes_fit(quotas[r], sku, p.spot)
            if fit < p.max_count:
                break
            headroom = min(headroom, fit)
            kind = "spot" if p.spot else "on-demand"
            left = f"{quota.free} {quota.name} vCPUs free" if quota else "quota not reported"
            reasons.append(f"{p.name}: {fit} {kind} {sku.name} fit ({left})")
        else:
            choices.append(Choice(r, headroom, "; ".join(reasons)))
    choices.sort(key=lambda c: (-c.headroom, c.region))
    if len(choices) < n:
        need = ", ".join(f"{p.name} {p.max_count} × {p.vm_size}{' spot' if p.spot else ''}" for p in pools)
        found = ", ".join(c.region for c in choices) or "none"
        raise ConfigError(
            f"--regions auto:{n}: only {len(choices)} region(s) have quota for the GPU pools ({need}): {found}",
            hint="request GPU quota (raks regions --gpu SIZE shows what is free), or lower max_count",
        )
    return choices[:n]


def advise(arm: Arm, size: str, *, spot: bool, count: int) -> tuple[Sku, list[RegionFit]]:
    """`raks regions --gpu SIZE`: the size as Azure describes it, and the regions ranked by headroom."""
    every = vm_skus(arm)
    ref = next((s for s in every if s.name.lower() == size.lower()), None)
    if ref is None:
        raise ConfigError(
            f"--gpu: '{size}' is not a VM size Azure offers in any region (e.g. Standard_NC24ads_A100_v4)"
        )
    return ref, rank_regions(arm, size, spot=spot, count=count, skus=every)
