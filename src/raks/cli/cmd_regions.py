"""`raks regions --gpu SIZE`: every region offering a VM size, with its quota headroom, hourly
prices and spot eviction band, best first by the ranking rule of engine/placement.py `rank`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from raks.cli.cmd_preflight import SANDBOX, SANDBOX_DIR
from raks.cli.context import globals_of
from raks.cli.costs_view import CURRENCY_HELP
from raks.cli.output import emit_document, err
from raks.errors import EXIT_OK


def regions(
    ctx: typer.Context,
    gpu: str = typer.Option(..., "--gpu", help="VM size, e.g. Standard_NC24ads_A100_v4."),
    spot: bool = typer.Option(False, "--spot", help="Spot capacity (the lowPriorityCores quota, spot prices)."),
    count: int = typer.Option(1, "--count", min=1, help="Nodes that must fit."),
    currency: str = typer.Option(None, "--currency", help=CURRENCY_HELP),
    sandbox: bool = SANDBOX,
    sandbox_dir: Path = SANDBOX_DIR,
) -> int:
    """Regions offering a VM size: quota, hourly price, spot eviction band; the best first."""
    from raks.adapters.azure.arm import Arm
    from raks.cli.cloud import open_target
    from raks.cli.costs_view import currency_of
    from raks.engine.placement import advise

    g = globals_of(ctx)
    cfg = g.load(None)
    cur = currency_of(cfg, currency)
    with open_target(cfg, sandbox=sandbox, config_dir=g.config_dir, state_dir=sandbox_dir) as (target, _):
        advice = advise(Arm(target), gpu, spot=spot, count=count, currency=cur)
    if g.output == "json":
        emit_document("regions", regions_doc(advice, spot=spot, count=count))
    else:
        sys.stdout.write(regions_text(advice, spot=spot, count=count))
    if advice.prices.error is not None:
        err(f"note: prices unavailable ({advice.prices.error}); ranked by quota headroom instead of cost.")
    if not any(o.fits for o in advice.options):
        kind = "spot" if spot else "on-demand"
        err(
            f"No region has {kind} quota for {count} × {advice.sku.name}: request a quota increase (Azure portal > Quotas)."
        )
    return EXIT_OK


RANKING = (
    "fits (offered, unrestricted, quota for COUNT nodes) first, then quota short, then restricted; within each: "
    "cost of COUNT nodes per hour (spot price with --spot, else on-demand; no price last); then, with --spot, "
    "eviction band (lowest first, unknown last); then region name. Prices unavailable: quota headroom instead of cost."
)


def regions_doc(advice: Any, *, spot: bool, count: int) -> dict[str, Any]:
    from raks.cli.schemas import VERSIONS
    from raks.engine.placement import EVICTION_SOURCE

    p, b = advice.prices, advice.bands
    return {
        "schema_version": VERSIONS["regions"],
        "command": "regions",
        "size": advice.sku.name,
        "spot": spot,
        "count": count,
        "currency": p.currency,
        "ranking": RANKING,
        "prices": {"source": p.source, "fetched_at": p.fetched_at, "currency": p.currency, "error": p.error},
        "eviction": {"source": EVICTION_SOURCE, "error": b.error},
        "regions": [
            {
                "region": o.region,
                "rank": i,
                "fits": o.fits,
                "restricted": o.restricted,
                "nodes": o.nodes,
                "quota": o.quota.name if o.quota else None,
                "free_vcpus": o.quota.free if o.quota else None,
                "limit_vcpus": o.quota.limit if o.quota else None,
                "zones": list(o.sku.usable_zones),
                "on_demand_hourly": o.on_demand,
                "spot_hourly": o.spot_price,
                "cost_hourly": round(o.cost, 4) if o.cost is not None else None,
                "eviction_band": o.band,
            }
            for i, o in enumerate(advice.options, 1)
        ],
    }


def _price(x: float | None) -> str:
    return f"{x:,.2f}" if x is not None else "-"


def regions_text(advice: Any, *, spot: bool, count: int) -> str:
    from raks.engine.placement import EVICTION_SOURCE

    sku, p, b = advice.sku, advice.prices, advice.bands
    kind = "spot" if spot else "on-demand"
    lines = [
        f"{sku.name} ({sku.vcpus} vCPUs, {sku.gpus} GPU{'' if sku.gpus == 1 else 's'}), {count} {kind} node(s), best first "
        f"(fits, then cost{', then eviction band' if spot else ''}):"
    ]
    header = [
        "REGION",
        "FIT",
        "NODES",
        "QUOTA",
        "FREE/LIMIT",
        "ON-DEMAND/H",
        "SPOT/H",
        f"{count} NODES/H",
        "EVICTION",
        "ZONES",
    ]
    rows = [header]
    for o in advice.options:
        q = o.quota
        fit = "yes" if o.fits else "restricted" if o.restricted else "no quota"
        rows.append(
            [
                o.region, fit, str(o.nodes), q.name if q else "-", f"{q.free}/{q.limit}" if q else "-",
                _price(o.on_demand), _price(o.spot_price), _price(o.cost), f"{o.band}%" if o.band else "-",
                ",".join(o.sku.usable_zones) or "-",
            ]
        )  # fmt: skip
    right = {2, 4, 5, 6, 7}
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    if p.error is None:
        lines.append(f"Prices: {p.source}, read {p.fetched_at}, {p.currency} per hour, Linux.")
    else:
        lines.append(f"Prices: unavailable ({p.error}); ranked by quota headroom.")
    lines.append(f"Eviction bands: {EVICTION_SOURCE}" + (f", unavailable ({b.error})." if b.error else "."))
    return "\n".join(lines) + "\n"
