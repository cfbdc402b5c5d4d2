"""Run every preflight read at once, then turn the answers into rows.

All reads (per region: VM sizes, quotas, AKS versions, our pools; once: providers, storage name,
federated credentials, permissions, the Anyscale operator's service principal; tools) go out in parallel, so the whole preflight takes about
as long as the slowest read, not the sum. Nothing here writes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from raks import names
from raks.adapters import tools as tool_probe
from raks.adapters.azure.compute import kubernetes_versions, pool_counts, usages, vm_skus
from raks.adapters.azure.providers import provider_state, storage_account, storage_name_available
from raks.config import RaksConfig
from raks.engine.preflight import account, region, service_principal, tools
from raks.engine.preflight.rows import FAIL, OK, WARN, Row
from raks.errors import AuthError, RaksError
from raks.steps.pools import expand

if TYPE_CHECKING:
    from raks.adapters.azure.arm import Arm
    from raks.adapters.graph import Graph

# Every read gets its own thread (4 per region + ~10 once), so none waits behind another:
# one round trip in all. ARM allows bursts of 250 reads per subscription (azure-facts.md §7).
MAX_WORKERS = 128


@dataclass
class Report:
    regions: list[str]
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0

    def with_status(self, status: str) -> list[Row]:
        return [r for r in self.rows if r.status == status]

    @property
    def result(self) -> str:
        if self.with_status(FAIL):
            return FAIL
        return WARN if self.with_status(WARN) else OK

    def failed_regions(self) -> list[str]:
        bad = {r.region for r in self.with_status(FAIL)}
        return [r for r in self.regions if r in bad]

    def failed_elsewhere(self) -> list[Row]:
        """Failures no region can be dropped for (subscription-wide or local tools)."""
        return [r for r in self.with_status(FAIL) if r.region not in self.regions]


class _Reads:
    """Futures of the reads, keyed; get() re-raises what a read raised (_guard turns it into a row)."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.futures: dict[Any, Future[Any]] = {}

    def submit(self, key: Any, fn: Callable[..., Any], *args: Any) -> None:
        self.futures[key] = self.pool.submit(fn, *args)

    def get(self, key: Any) -> Any:
        return self.futures[key].result()


def _guard(where: str, check: str, fn: Callable[..., list[Row]], *args: Any) -> list[Row]:
    """Rows from fn(*args); a read that failed is a failing row (auth failures stop everything: exit 3)."""
    try:
        return fn(*args)
    except AuthError:
        raise
    except RaksError as exc:
        return [
            Row(where, check, FAIL, f"could not read: {exc.one_line()}", "retry; if it persists, check Azure status")
        ]


def _region_rows(cfg: RaksConfig, r: str, reads: _Reads) -> list[Row]:
    pools = expand(cfg.pools)
    skus = {s.name.lower(): s for s in reads.get((r, "skus"))}
    rows = []
    sized = []
    for pool in pools:
        sku = skus.get(pool.vm_size.lower())
        row = region.size_row(r, pool, sku)
        rows.append(row)
        if sku is not None and row.status != FAIL:
            sized.append((pool, sku))
    rows += region.quota_rows(r, sized, reads.get((r, "usages")), reads.get((r, "pools")))
    return rows


def _kubernetes_rows(r: str, version: str, tier: str, reads: _Reads) -> list[Row]:
    return [region.kubernetes_row(r, version, tier, reads.get((r, "versions")))]


def _provider_rows(ns: str, reads: _Reads) -> list[Row]:
    return [account.provider_row(ns, reads.get(ns))]


def _storage_rows(cfg: RaksConfig, name: str, reads: _Reads) -> list[Row]:
    return [account.storage_row(cfg, name, reads.get("storage"), reads.get("storage-name"))]


def _answer(key: str, reads: _Reads) -> list[Row]:
    """Reads that already answer with their row."""
    return [reads.get(key)]


def run(
    cfg: RaksConfig,
    arm: Arm,
    subscription_id: str,
    *,
    regions: list[str] | None = None,
    check_tools: bool = True,
    strict_tools: bool = True,
    environ: Mapping[str, str] | None = None,
    graph: Graph | None = None,
) -> Report:
    regions = list(regions or cfg.regions)
    env = os.environ if environ is None else environ
    rg = cfg.resolved_resource_group()
    report = Report(regions)
    started = time.monotonic()
    workers = min(MAX_WORKERS, 4 * len(regions) + 16)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raks-preflight") as pool:
        reads = _Reads(pool)
        for r in regions:
            reads.submit((r, "skus"), vm_skus, arm, r)
            reads.submit((r, "usages"), usages, arm, r)
            reads.submit((r, "versions"), kubernetes_versions, arm, r)
            reads.submit((r, "pools"), pool_counts, arm, rg, names.cluster_name(cfg, r))
        for ns in account.PROVIDERS:
            reads.submit(ns, provider_state, arm, ns)
        storage = names.storage_account_name(cfg, subscription_id)
        reads.submit("storage", storage_account, arm, rg, storage)
        reads.submit("storage-name", storage_name_available, arm, storage)
        reads.submit("fic", account.fic_row, cfg, arm, regions)
        reads.submit("permissions", account.permissions_row, cfg, arm)
        if graph is not None and cfg.platform == "anyscale":
            reads.submit("service-principal", service_principal.sp_row, cfg, graph)
        if check_tools and tools.needs_helm(cfg):
            reads.submit("helm", tools.helm_probe, env)
        if check_tools and cfg.platform == "anyscale":
            reads.submit("anyscale", tool_probe.anyscale)

        rows = report.rows
        k8s = cfg.kubernetes
        for r in regions:
            rows += _guard(r, "capacity", _region_rows, cfg, r, reads)
            rows += _guard(r, f"kubernetes {k8s.version}", _kubernetes_rows, r, k8s.version, k8s.tier, reads)
        for ns in account.PROVIDERS:
            rows += _guard(account.GLOBAL, f"provider {ns}", _provider_rows, ns, reads)
        rows += _guard(account.GLOBAL, f"storage account {storage}", _storage_rows, cfg, storage, reads)
        for key, check in (("fic", "federated credentials"), ("permissions", "permissions")):
            rows += _guard(account.GLOBAL, check, _answer, key, reads)
        if "service-principal" in reads.futures:
            rows += _guard(account.GLOBAL, service_principal.CHECK, _answer, "service-principal", reads)
        if "helm" in reads.futures:
            rows.append(tools.helm_row(reads.get("helm"), strict_tools))
        if "anyscale" in reads.futures:
            rows += tools.anyscale_rows(reads.get("anyscale"), env, strict_tools)
    report.seconds = time.monotonic() - started
    return report
