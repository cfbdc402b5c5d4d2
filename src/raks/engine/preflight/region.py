"""Preflight rows of one region: VM sizes, vCPU quota, Kubernetes version. Pure: data in, rows out."""

from __future__ import annotations

from typing import Any

from raks.adapters.azure.compute import SPOT, Sku, Usage
from raks.config import Pool
from raks.engine.preflight.rows import FAIL, OK, WARN, Row
from raks.steps.capacity import quota_names


def size_row(region: str, pool: Pool, sku: Sku | None) -> Row:
    check = f"vm size {pool.name}"
    other = f"pick another size or region (raks regions --gpu {pool.vm_size})"
    if sku is None:
        return Row(region, check, FAIL, f"{pool.vm_size} is not offered in {region}", other)
    if sku.restricted:
        return Row(
            region,
            check,
            FAIL,
            f"{sku.name} is restricted for this subscription in {region} ({sku.reason or 'restricted'})",
            f"ask Azure support for access (https://aka.ms/azureskunotavailable), or {other}",
        )
    gpus = f", {sku.gpus} GPUs" if sku.gpus else ""
    what = f"{sku.name}: {sku.vcpus} vCPUs{gpus}, {sku.memory_gb:g} GB"
    if sku.restricted_zones and not sku.usable_zones:
        return Row(region, check, FAIL, f"{what}; restricted in every zone ({','.join(sku.restricted_zones)})", other)
    if sku.restricted_zones:
        return Row(
            region,
            check,
            WARN,
            f"{what}; restricted in zones {','.join(sku.restricted_zones)}, usable in {','.join(sku.usable_zones)}",
            "nodes land only in the usable zones",
        )
    zones = f", zones {','.join(sku.zones)}" if sku.zones else ""
    return Row(region, check, OK, what + zones)


def quota_rows(
    region: str,
    pools: list[tuple[Pool, Sku]],
    quotas: dict[str, Usage],
    current: dict[str, tuple[str, int, bool]],
) -> list[Row]:
    """One row per quota the pools draw on: need at max counts vs free, and nodes that fit per pool.

    Usage already counts the nodes raks' own pools run now, so only growth beyond them is needed."""
    buckets: dict[str, list[tuple[Pool, Sku, int]]] = {}
    for pool, sku in pools:
        have = current.get(pool.name, ("", 0, False))[1]
        for name in quota_names(sku, pool.spot):
            buckets.setdefault(name, []).append((pool, sku, have))
    rows = []
    for key, members in buckets.items():
        usage = quotas.get(key)
        label = usage.name if usage else key
        check = f"quota {label}"
        if usage is None:
            rows.append(Row(region, check, WARN, f"Azure reports no quota named {key} here; not checked"))
            continue
        need_max = sum(max(0, p.max_count - have) * s.vcpus for p, s, have in members)
        need_min = sum(max(0, p.min_count - have) * s.vcpus for p, s, have in members)
        parts = ", ".join(f"{p.name} {p.max_count}×{s.vcpus}" for p, s, _ in members)
        fits = []
        starved = []
        for p, s, have in members:
            reach = min(p.max_count, have + usage.free // max(1, s.vcpus))
            fits.append(f"{p.name}: {reach} of {p.max_count} nodes fit")
            if p.max_count > 0 and reach == 0:
                starved.append(p.name)
        figure = (
            f"need {need_max} vCPUs at max ({parts}); {usage.free} of {usage.limit} free "
            f"({usage.current} in use) → {'; '.join(fits)}"
        )
        what = "Spot vCPU quota (lowPriorityCores)" if key == SPOT else f"'{label}' vCPU quota"
        fix = (
            f"request a {what} of at least {usage.current + need_max} in {region} (Azure portal > Quotas > "
            "Compute), lower max_count, or leave the region out (--skip-unavailable)"
        )
        if need_min > usage.free or starved:
            rows.append(Row(region, check, FAIL, figure, fix))
        elif need_max > usage.free:
            rows.append(Row(region, check, WARN, figure + "; the autoscaler stops short of max", fix))
        else:
            rows.append(Row(region, check, OK, figure))
    return rows


def _plans(entry: dict[str, Any]) -> list[str]:
    return list((entry.get("capabilities") or {}).get("supportPlan") or [])


def kubernetes_row(region: str, version: str, tier: str, offered: list[dict[str, Any]]) -> Row:
    check = f"kubernetes {version}"
    minor = ".".join(version.split(".")[:2])
    listing = ", ".join(str(e.get("version")) + (" (preview)" if e.get("isPreview") else "") for e in offered) or "none"
    entry = next((e for e in offered if str(e.get("version")) == minor), None)
    patches = sorted((entry or {}).get("patchVersions") or {})
    if entry is None or (version != minor and version not in patches):
        shown = f"{minor} patches: {', '.join(patches)}" if entry is not None else f"offered: {listing}"
        return Row(
            region,
            check,
            FAIL,
            f"AKS does not offer {version} in {region} ({shown})",
            "set kubernetes.version to an offered version (az aks get-versions -l " + region + ")",
        )
    plans = _plans(entry)
    if entry.get("isPreview"):
        return Row(
            region,
            check,
            WARN,
            f"{minor} is a preview version in {region}",
            "use a generally available version for production",
        )
    if "KubernetesOfficial" not in plans and "AKSLongTermSupport" in plans and tier != "Premium":
        return Row(
            region,
            check,
            FAIL,
            f"{minor} is offered in {region} only with long-term support (Premium tier)",
            "set kubernetes.tier: Premium, or a newer kubernetes.version",
        )
    return Row(region, check, OK, f"offered in {region} ({', '.join(plans) or 'support plan not reported'})")
