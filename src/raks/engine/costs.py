"""What a deployment's node pools cost per hour: pools × a price sheet. Pure: no cloud calls.

Figures are per region and in total, at the pools' minimum and maximum node counts (and, for
`raks status`, at the nodes running now), spot and on-demand apart. Only the VMs of the pools are
counted (Linux retail pay-as-you-go meters): disks, load balancers, NAT, storage and the AKS tier
fee are not, and the table says so. (Learn, "Cluster management pricing tiers for AKS"
(aks/free-standard-pricing-tiers) and the ManagedClusterSkuTier reference: the Free tier's cluster
management is free "but charged for VM, storage, and networking usage"; Standard and Premium add a
per-cluster fee on top.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from raks.adapters.azure.prices import PriceSheet
    from raks.config import Pool

Basis = Literal["min", "max", "current"]
SCOPE = (
    "Linux VM compute of the node pools at retail pay-as-you-go prices; disks, network and the AKS tier fee excluded"
)


@dataclass(frozen=True)
class PoolCost:
    region: str
    pool: str
    vm_size: str
    spot: bool
    min_count: int
    max_count: int
    nodes: int | None  # running now (status); None in a plan
    price: float | None  # one node for one hour; None: Azure lists no price for it

    def count(self, basis: Basis) -> int:
        if basis == "min":
            return self.min_count
        if basis == "max":
            return self.max_count
        return self.nodes or 0


@dataclass(frozen=True)
class Hourly:
    """One hour of a set of pools at one node-count basis, spot and on-demand apart."""

    spot: float = 0.0
    on_demand: float = 0.0

    @property
    def total(self) -> float:
        return self.spot + self.on_demand

    def __add__(self, other: Hourly) -> Hourly:
        return Hourly(self.spot + other.spot, self.on_demand + other.on_demand)

    def as_dict(self) -> dict[str, float]:
        return {"spot": _money(self.spot), "on_demand": _money(self.on_demand), "total": _money(self.total)}


def _money(x: float) -> float:
    return round(x, 4)  # Retail Prices API prices carry up to 4+ decimals; more is float noise


@dataclass(frozen=True)
class RegionCost:
    region: str
    pools: list[PoolCost]

    def at(self, basis: Basis) -> Hourly:
        out = Hourly()
        for p in self.pools:
            if p.price is None:
                continue
            cost = p.price * p.count(basis)
            out += Hourly(spot=cost) if p.spot else Hourly(on_demand=cost)
        return out

    @property
    def unpriced(self) -> list[PoolCost]:
        """Pools that have nodes at some basis but no price: the figures leave them out."""
        return [p for p in self.pools if p.price is None and (p.max_count or p.nodes)]


@dataclass(frozen=True)
class Cost:
    currency: str
    source: str
    fetched_at: str
    bases: tuple[Basis, ...]
    regions: list[RegionCost] = field(default_factory=list)
    error: str | None = None  # the prices could not be read: no figures

    @property
    def available(self) -> bool:
        return self.error is None

    def total(self, basis: Basis) -> Hourly:
        out = Hourly()
        for r in self.regions:
            out += r.at(basis)
        return out

    def as_dict(self) -> dict[str, Any]:
        """The `cost` object of `plan -o json` / `status -o json` (cli/schemas.py Cost)."""
        doc: dict[str, Any] = {
            "currency": self.currency,
            "source": self.source,
            "fetched_at": self.fetched_at,
            "scope": SCOPE,
            "available": self.available,
        }
        if self.error is not None:
            return doc | {"error": self.error}
        doc["regions"] = [
            {
                "region": r.region,
                **{b: r.at(b).as_dict() for b in self.bases},
                "pools": [
                    {
                        "pool": p.pool,
                        "vm_size": p.vm_size,
                        "spot": p.spot,
                        "hourly_price": p.price,
                        "min": p.min_count,
                        "max": p.max_count,
                    }
                    | ({"nodes": p.nodes} if p.nodes is not None else {})
                    for p in r.pools
                ],
                "unpriced": [p.pool for p in r.unpriced],
            }
            for r in self.regions
        ]
        doc["total"] = {b: self.total(b).as_dict() for b in self.bases}
        return doc


def _priced(sheet: PriceSheet, region: str, size: str, spot: bool) -> float | None:
    found = sheet.price(region, size, spot)
    return found.hourly if found is not None else None


PRICES_SOURCE = "Azure Retail Prices API"


def no_prices(currency: str, error: str) -> PriceSheet:
    """A sheet without prices, saying why (the read failed before the adapter could say so)."""
    from raks.adapters.azure.prices import PriceSheet

    return PriceSheet(currency, PRICES_SOURCE, datetime.now(UTC).isoformat(timespec="seconds"), error=error)


def failure(exc: BaseException) -> str:
    """One line for a read that failed: a raks error's own line, else the exception's type and text."""
    from raks.errors import RaksError

    return exc.one_line() if isinstance(exc, RaksError) else f"{type(exc).__name__}: {exc}"


def unavailable(sheet: PriceSheet, bases: tuple[Basis, ...]) -> Cost:
    return Cost(sheet.currency, sheet.source, sheet.fetched_at, bases, error=sheet.error or "no prices")


def plan_cost(regions: Iterable[str], pools: Iterable[Pool], sheet: PriceSheet) -> Cost:
    """The configured pools (fallback pools included: pass steps.pools.expand(cfg.pools)) in each
    region, at their min and max counts."""
    bases: tuple[Basis, ...] = ("min", "max")
    if sheet.error is not None:
        return unavailable(sheet, bases)
    pools = list(pools)

    def one(region: str, p: Pool) -> PoolCost:
        price = _priced(sheet, region, p.vm_size, p.spot)
        return PoolCost(region, p.name, p.vm_size, p.spot, p.min_count, p.max_count, None, price)

    out = [RegionCost(region, [one(region, p) for p in pools]) for region in regions]
    return Cost(sheet.currency, sheet.source, sheet.fetched_at, bases, out)


def status_cost(regions: Iterable[dict[str, Any]], sheet: PriceSheet) -> Cost:
    """The pools Azure reports (the status document's `regions[].pools`), at their min, max and
    current node counts. A region that could not be read is left out."""
    bases: tuple[Basis, ...] = ("min", "max", "current")
    if sheet.error is not None:
        return unavailable(sheet, bases)
    out = []
    for entry in regions:
        if entry.get("error") or entry.get("pools") is None:
            continue
        region = entry["region"]
        out.append(
            RegionCost(
                region,
                [
                    PoolCost(
                        region, str(p["name"]), str(p["vm_size"]), bool(p["spot"]), int(p["min"]), int(p["max"]),
                        int(p["nodes"]), _priced(sheet, region, str(p["vm_size"] or ""), bool(p["spot"])),
                    )
                    for p in entry["pools"]
                ],
            )
        )  # fmt: skip
    return Cost(sheet.currency, sheet.source, sheet.fetched_at, bases, out)


def status_sizes(regions: Iterable[dict[str, Any]]) -> set[str]:
    """The VM sizes of the pools a status document lists."""
    return {str(p["vm_size"]) for e in regions for p in (e.get("pools") or []) if p.get("vm_size")}
