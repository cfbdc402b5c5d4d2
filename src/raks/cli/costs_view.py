"""Cost in `raks plan` and `raks status`: the price read runs in a thread beside the command's own
work, and never breaks it (any failure, or no answer in time, becomes one "unavailable" line)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from raks.errors import ConfigError

if TYPE_CHECKING:
    from raks.adapters.azure.prices import PriceSheet
    from raks.adapters.azure.target import AzureTarget
    from raks.config import RaksConfig
    from raks.engine.costs import Basis, Cost

CURRENCY_HELP = "Currency of prices (e.g. EUR; default raks.yaml currency, else USD)."
PRICE_WAIT = 30.0  # seconds plan/status wait for prices after their own work is done


def currency_of(cfg: RaksConfig, flag: str | None) -> str:
    """--currency, else raks.yaml's `currency` (validated with the config). Checked before any request."""
    from raks.adapters.azure.prices import CURRENCIES

    if flag is None:
        return cfg.currency
    if flag.upper() not in CURRENCIES:
        raise ConfigError(
            f"--currency: '{flag}' is not a currency the Azure Retail Prices API offers (use one of {', '.join(CURRENCIES)})"
        )
    return flag.upper()


class PriceRead:
    """vm_prices(...) started now in a daemon thread (a hung price API must not keep raks alive)."""

    def __init__(self, target: AzureTarget, regions: Iterable[str], sizes: Iterable[str], currency: str) -> None:
        self.currency = currency
        self._sheet: PriceSheet | None = None
        self._thread = threading.Thread(
            target=self._run, args=(target, sorted(set(regions)), sorted(set(sizes))), daemon=True, name="raks-prices"
        )
        self._thread.start()

    def _run(self, target: AzureTarget, regions: list[str], sizes: list[str]) -> None:
        from raks.adapters.azure.prices import vm_prices
        from raks.engine.costs import failure, no_prices

        try:
            self._sheet = vm_prices(target, regions, sizes, self.currency)
        except Exception as exc:  # the cost is a courtesy: nothing it raises stops plan
            self._sheet = no_prices(self.currency, failure(exc))

    def sheet(self, timeout: float = PRICE_WAIT) -> PriceSheet:
        from raks.engine.costs import no_prices

        self._thread.join(timeout)
        if self._sheet is None:
            return no_prices(self.currency, f"the price API did not answer within {timeout:.0f} s")
        return self._sheet


def merged(a: PriceSheet, b: PriceSheet) -> PriceSheet:
    """Two reads of one currency as one sheet (status: sizes found only in Azure's pools)."""
    import dataclasses

    if a.error is not None:
        return a
    if b.error is not None:
        return b
    return dataclasses.replace(a, prices={**a.prices, **b.prices})


def safely(build: Callable[[PriceSheet], Cost], sheet: PriceSheet, bases: tuple[Basis, ...]) -> Cost:
    """build(sheet), or the 'unavailable' cost if building it fails for any reason."""
    import dataclasses

    from raks.engine.costs import failure, unavailable

    try:
        return build(sheet)
    except Exception as exc:  # never let the cost break plan or status
        return unavailable(dataclasses.replace(sheet, error=failure(exc)), bases)


# -- rendering -----------------------------------------------------------------------------------
LABEL = {"min": "AT MIN", "max": "AT MAX", "current": "NOW"}


def unavailable_line(cost: Cost) -> str:
    return f"Cost: unavailable, prices could not be read ({cost.error}); nothing else is affected."


def cost_text(cost: Cost) -> str:
    """The cost table: per region and total, per hour, for each basis (min, max[, now])."""
    from raks.engine.costs import SCOPE

    if not cost.available:
        return unavailable_line(cost) + "\n"
    lines = [
        f"Cost per hour in {cost.currency} ({cost.source}, read {cost.fetched_at}).",
        f"  {SCOPE}.",
    ]
    header = ["REGION"]
    for b in cost.bases:
        header += [f"{LABEL[b]} ON-DEMAND", "SPOT", "TOTAL"]
    rows = [header]
    for r in cost.regions:
        rows.append([r.region, *_figures(r.at(b) for b in cost.bases)])
    rows.append(["total", *_figures(cost.total(b) for b in cost.bases)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  " + "  ".join(cells))
    for r in cost.regions:
        for p in r.unpriced:
            kind = "spot" if p.spot else "on-demand"
            lines.append(f"  no {kind} price listed for {p.vm_size} in {r.region}: pool {p.pool} is left out")
    return "\n".join(lines) + "\n"


def _figures(hourlies: Iterable[Any]) -> list[str]:
    out = []
    for h in hourlies:
        out += [f"{h.on_demand:,.2f}", f"{h.spot:,.2f}", f"{h.total:,.2f}"]
    return out
