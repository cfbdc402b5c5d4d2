"""Where GPU pools should go: `raks regions --gpu SIZE` and `--regions auto:N`.

Both rank regions by one rule (`rank`): capacity first, then what the nodes cost per hour, then
how often Azure evicts spot VMs of the size there. Reads go out together: the SKU list (one call
for every region), the quotas of the candidate regions (in parallel), the prices (Azure Retail
Prices API) and the eviction bands (one Azure Resource Graph query) beside them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from raks.adapters.azure.compute import Sku, Usage, usages, vm_skus
from raks.adapters.azure.prices import EvictionRates, PriceSheet, band_rank, eviction_rates, vm_prices
from raks.config import Pool, RaksConfig
from raks.engine.costs import failure, no_prices
from raks.errors import ConfigError
from raks.names import REGION_SLOTS
from raks.regions import AZURE_REGIONS
from raks.steps.capacity import READ_WORKERS, nodes_fit
from raks.steps.pools import expand
from raks.vm_sizes import lookup

if TYPE_CHECKING:
    from raks.adapters.azure.arm import Arm
    from raks.adapters.azure.target import AzureTarget

AUTO = re.compile(r"^auto:([1-9][0-9]?)$")
EVICTION_SOURCE = "Azure Resource Graph (SpotResources, microsoft.compute/skuspotevictionrate/location)"


def auto_count(regions: list[str] | None) -> int | None:
    """N for `--regions auto:N` (given alone); None for ordinary region names."""
    if not regions or not any(r.startswith("auto") for r in regions):
        return None
    m = AUTO.match(regions[0]) if len(regions) == 1 else None
    if m is None:
        raise ConfigError("--regions: auto:N stands alone, with N from 1 to 99 (e.g. --regions auto:2)")
    return int(m.group(1))


# -- the ranking rule ------------------------------------------------------------------------
class Rankable(Protocol):
    @property
    def region(self) -> str: ...
    @property
    def fits(self) -> bool: ...
    @property
    def restricted(self) -> bool: ...
    @property
    def headroom(self) -> int: ...
    @property
    def cost(self) -> float | None: ...
    @property
    def band(self) -> str | None: ...


R = TypeVar("R", bound=Rankable)


def rank(options: Iterable[R], *, spot: bool, by_cost: bool = True) -> list[R]:
    """The one ranking rule of `raks regions` and `--regions auto:N`, best first:

    1. capacity: regions where the nodes fit (the size is offered, unrestricted, and the free vCPU
       quota holds the N nodes: every GPU pool's max count for auto:N), then regions where the
       size is unrestricted but the quota is short, then regions where it is restricted;
    2. within each group, the cost of the nodes per hour (spot prices for spot capacity, else
       on-demand), cheapest first; a region without a price sorts after the priced ones;
    3. with spot capacity only: the spot eviction band, lowest first (`band_rank`; unknown last);
    4. the region name.

    When the prices could not be read at all (`by_cost=False`), step 2 is the quota headroom
    instead, most nodes first: the order raks used before it knew prices.
    """

    def key(o: R) -> tuple[int, bool, float, int, str]:
        group = 0 if o.fits else 2 if o.restricted else 1
        evict = band_rank(o.band) if spot else 0
        if not by_cost:
            return (group, False, float(-o.headroom), evict, o.region)
        return (group, o.cost is None, o.cost or 0.0, evict, o.region)

    return sorted(options, key=key)


# -- parallel reads ----------------------------------------------------------------------------
def _prices_or_note(target: AzureTarget, regions: list[str], sizes: list[str], currency: str) -> PriceSheet:
    """The sheet; any failure (the adapter promises none) becomes a sheet that says so."""
    try:
        return vm_prices(target, regions, sizes, currency)
    except Exception as exc:  # a courtesy read: it never stops the command
        return no_prices(currency, failure(exc))


def _bands_or_note(arm: Arm, regions: list[str], sizes: list[str]) -> EvictionRates:
    try:
        return eviction_rates(arm, regions, sizes)
    except Exception as exc:  # an AuthError is raised by the quota reads beside it anyway
        return EvictionRates(error=failure(exc))


@dataclass(frozen=True)
class Reads:
    skus: list[Sku]
    quotas: dict[str, dict[str, Usage]]
    prices: PriceSheet
    bands: EvictionRates


def _read(arm: Arm, sizes: list[str], currency: str, keep: Callable[[list[Sku]], list[str]]) -> Reads:
    """SKUs, then the quotas of the regions `keep` selects; prices and eviction bands of every
    region raks can place in, read beside them (so the whole takes about two round trips)."""
    regions = sorted(r for r in AZURE_REGIONS if r in REGION_SLOTS)
    # Quotas use the compute client's 10 connections: their own pool of READ_WORKERS threads.
    with (
        ThreadPoolExecutor(max_workers=2, thread_name_prefix="raks-prices") as side,
        ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="raks-read") as ex,
    ):
        prices: Future[PriceSheet] = side.submit(_prices_or_note, arm.target, regions, sizes, currency)
        bands: Future[EvictionRates] = side.submit(_bands_or_note, arm, regions, sizes)
        every = vm_skus(arm)
        wanted = keep(every)
        quotas = dict(zip(wanted, ex.map(lambda r: usages(arm, r), wanted), strict=True))
        return Reads(every, quotas, prices.result(), bands.result())


def _money(x: float | None, currency: str) -> str:
    return f"{x:,.2f} {currency}/h" if x is not None else "no price"


# -- raks regions --gpu SIZE ---------------------------------------------------------------------
@dataclass(frozen=True)
class RegionOption:
    """One region for `count` nodes of one size."""

    region: str
    sku: Sku
    spot: bool
    count: int
    nodes: int  # nodes of the size the free quota holds
    quota: Usage | None  # the limiting quota
    on_demand: float | None  # one node, one hour
    spot_price: float | None
    band: str | None

    @property
    def restricted(self) -> bool:
        return self.sku.restricted

    @property
    def fits(self) -> bool:
        return not self.restricted and self.nodes >= self.count

    @property
    def headroom(self) -> int:
        return self.nodes

    @property
    def cost(self) -> float | None:
        price = self.spot_price if self.spot else self.on_demand
        return price * self.count if price is not None else None


@dataclass(frozen=True)
class Advice:
    sku: Sku
    options: list[RegionOption]  # ranked by `rank`
    prices: PriceSheet
    bands: EvictionRates


def advise(arm: Arm, size: str, *, spot: bool, count: int, currency: str = "USD") -> Advice:
    """`raks regions`: every region raks can use where Azure offers the size, ranked by `rank`."""

    def offered(every: list[Sku]) -> list[str]:
        return sorted(
            s.region for s in every if s.name.lower() == size.lower() and s.region in AZURE_REGIONS
            and s.region in REGION_SLOTS
        )  # fmt: skip

    reads = _read(arm, [size], currency, offered)
    ref = next((s for s in reads.skus if s.name.lower() == size.lower()), None)
    if ref is None:
        raise ConfigError(
            f"--gpu: '{size}' is not a VM size Azure offers in any region (e.g. Standard_NC24ads_A100_v4)"
        )
    options = []
    for s in reads.skus:
        if s.name.lower() != size.lower() or s.region not in reads.quotas:
            continue
        nodes, quota = nodes_fit(reads.quotas[s.region], s, spot)
        od, sp = reads.prices.price(s.region, s.name, False), reads.prices.price(s.region, s.name, True)
        options.append(
            RegionOption(
                s.region, s, spot, count, nodes, quota, od.hourly if od else None, sp.hourly if sp else None,
                reads.bands.band(s.region, s.name),
            )
        )  # fmt: skip
    return Advice(ref, rank(options, spot=spot, by_cost=reads.prices.error is None), reads.prices, reads.bands)


# -- --regions auto:N ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """One region for the config's GPU pools, each at its max count."""

    region: str
    restricted: bool  # some GPU pool's size is restricted here
    fits: bool  # every GPU pool fits its max count
    headroom: int  # the smallest number of nodes any GPU pool could reach
    cost: float | None  # Σ max_count × hourly price of the pool's kind; None: a price is missing
    band: str | None  # the worst eviction band of the spot GPU pools (None: unknown or no spot pool)
    why: str  # per pool: nodes that fit and the limiting quota

    def reason(self, currency: str, *, spot: bool, by_cost: bool) -> str:
        """fit, cost per hour, band: what the rule looked at."""
        parts = [self.why]
        if by_cost:
            parts.append(f"GPU pools at max count {_money(self.cost, currency)}")
        if spot:
            parts.append(f"spot eviction band {self.band + '%' if self.band else 'unknown'}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Placement:
    chosen: list[Choice]
    left_out: Choice | None  # the best region not chosen (for the user to see why)
    prices: PriceSheet
    bands: EvictionRates
    spot: bool

    @property
    def by_cost(self) -> bool:
        return self.prices.error is None

    def why_left_out(self) -> str:
        """Which step of `rank` put `left_out` after the last chosen region."""
        out, last = self.left_out, self.chosen[-1]
        assert out is not None
        if not out.fits:
            return "restricted for this subscription" if out.restricted else "not enough quota for the GPU pools"
        if not self.by_cost:
            return "less quota headroom" if out.headroom < last.headroom else "same headroom, later by name"
        if out.cost is None:
            return "no price listed"
        if last.cost is None or out.cost > last.cost:
            return "costs more"
        if self.spot and band_rank(out.band) > band_rank(last.band):
            return "same cost, higher spot eviction band"
        return "same cost and band, later by name"


def _maybe_gpu(size: str) -> bool:
    known = lookup(size)
    return known is None or known.gpus > 0


def _gpu_pools(cfg: RaksConfig, skus: list[Sku]) -> list[Pool]:
    gpu_sizes = {s.name.lower() for s in skus if s.gpus > 0}
    return [p for p in expand(cfg.pools) if p.vm_size.lower() in gpu_sizes and p.max_count > 0]


def _choice(
    region: str, sizes: dict[str, Sku], quotas: dict[str, Usage], pools: Sequence[Pool], reads: Reads
) -> Choice:
    reasons, headroom, fits, cost = [], 1 << 30, True, 0.0
    priced, bands = True, []
    for p in pools:
        sku = sizes[p.vm_size.lower()]
        fit, quota = nodes_fit(quotas, sku, p.spot)
        fits = fits and not sku.restricted and fit >= p.max_count
        headroom = min(headroom, fit)
        kind = "spot" if p.spot else "on-demand"
        left = f"{quota.free} {quota.name} vCPUs free" if quota else "quota not reported"
        reasons.append(f"{p.name}: {fit} {kind} {sku.name} fit ({left})")
        price = reads.prices.price(region, sku.name, p.spot)
        if price is None:
            priced = False
        else:
            cost += p.max_count * price.hourly
        if p.spot:
            bands.append(reads.bands.band(region, sku.name))
    band = None if not bands or None in bands else max(bands, key=band_rank)
    restricted = any(sizes[p.vm_size.lower()].restricted for p in pools)
    return Choice(region, restricted, fits, headroom, cost if priced else None, band, "; ".join(reasons))


def choose(cfg: RaksConfig, arm: Arm, n: int, currency: str = "USD") -> Placement:
    """The N best regions for the config's GPU pools by `rank` (every GPU pool must fit its
    max count; cost = Σ over GPU pools of max_count × the hourly price of its kind)."""
    pools: list[Pool] = []

    def usable(every: list[Sku]) -> list[str]:
        pools[:] = _gpu_pools(cfg, every)
        by_region: dict[str, set[str]] = {}
        for s in every:
            by_region.setdefault(s.region, set()).add(s.name.lower())
        return sorted(
            r for r, sizes in by_region.items()
            if r in AZURE_REGIONS and r in REGION_SLOTS and all(p.vm_size.lower() in sizes for p in pools)
        )  # fmt: skip

    # Prices and bands of the sizes raks' catalog knows as GPU (or does not know): read beside the SKUs.
    sizes = sorted({p.vm_size for p in expand(cfg.pools) if p.max_count > 0 and _maybe_gpu(p.vm_size)})
    reads = _read(arm, sizes, currency, usable)
    if not pools:
        raise ConfigError("--regions auto:N: the config has no GPU pool to place (pools[].vm_size with GPUs)")
    by_region: dict[str, dict[str, Sku]] = {}
    for s in reads.skus:
        by_region.setdefault(s.region, {})[s.name.lower()] = s
    spot = any(p.spot for p in pools)
    options = [_choice(r, by_region[r], reads.quotas[r], pools, reads) for r in reads.quotas]
    ranked = rank(options, spot=spot, by_cost=reads.prices.error is None)
    fitting = [c for c in ranked if c.fits]
    if len(fitting) < n:
        need = ", ".join(f"{p.name} {p.max_count} × {p.vm_size}{' spot' if p.spot else ''}" for p in pools)
        found = ", ".join(c.region for c in fitting) or "none"
        raise ConfigError(
            f"--regions auto:{n}: only {len(fitting)} region(s) have quota for the GPU pools ({need}): {found}",
            hint="request GPU quota (raks regions --gpu SIZE shows what is free), or lower max_count",
        )
    left_out = ranked[n] if len(ranked) > n else None
    return Placement(fitting[:n], left_out, reads.prices, reads.bands, spot)
