"""`raks status`: regions, clusters, pools, GPU and spot quota, shared resources, drift. Read-only."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from raks.cli.cmd_up import REGIONS, SANDBOX, SANDBOX_DIR
from raks.cli.context import globals_of
from raks.cli.costs_view import CURRENCY_HELP
from raks.cli.output import emit_document, err
from raks.errors import EXIT_CLOUD, EXIT_OK


def status(
    ctx: typer.Context,
    regions: list[str] = REGIONS,
    sandbox: bool = SANDBOX,
    sandbox_dir: Path = SANDBOX_DIR,
    currency: str = typer.Option(None, "--currency", help=CURRENCY_HELP),
) -> int:
    """Show each region's cluster, pools (nodes now / min / max), GPU and spot quota, drift, and
    what the pools cost per hour (at min, max and now)."""
    from raks.cli.costs_view import PriceRead, cost_text, currency_of, merged, safely, unavailable_line
    from raks.cli.session import new_context, open_session
    from raks.engine import costs
    from raks.engine import status as engine_status

    g = globals_of(ctx)
    cfg, session = open_session(ctx, regions, sandbox, sandbox_dir)
    cur = currency_of(cfg, currency)  # a bad --currency stops here, before any request
    with session as (target, _):
        c = new_context(cfg, target)
        shown = engine_status.regions_to_show(c, regions or None)
        # Prices of the configured sizes are read beside the status reads (a thread).
        asked = {p.vm_size for p in cfg.pools}
        prices = PriceRead(target, shown, asked, cur)
        doc = engine_status.collect(c, shown)
        sheet = prices.sheet()
        extra = costs.status_sizes(doc["regions"]) - asked  # sizes only Azure's pools have (rare)
        if extra and sheet.error is None:
            sheet = merged(sheet, PriceRead(target, shown, extra, cur).sheet())
        cost = safely(lambda s: costs.status_cost(doc["regions"], s), sheet, ("min", "max", "current"))
    doc["cost"] = cost.as_dict()
    if g.output == "json":
        emit_document("status", doc)
        if not cost.available:
            err(unavailable_line(cost))
    else:
        sys.stdout.write(status_text(doc))
        sys.stdout.write(cost_text(cost))
    errors = [(r["region"], r["error"]) for r in doc["regions"] if r.get("error")]
    errors += [("global", doc[k]["error"]) for k in ("global", "drift") if doc[k].get("error")]
    for where, e in errors:
        err(f"error: {where}/status: {e['code'] + ': ' if e.get('code') else ''}{e['message']}")
    return EXIT_CLOUD if errors else EXIT_OK


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["    " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _exists(entry: dict[str, Any]) -> str:
    if not entry.get("exists"):
        return "absent"
    return "exists" if entry.get("managed_by_raks", True) else "exists (not managed by raks)"


def _global_lines(glob: dict[str, Any]) -> list[str]:
    if glob.get("error"):
        return [f"  error: {glob['error']['message']}"]
    identity = glob["identity"]
    client = f", client id {identity['client_id']}" if identity.get("client_id") else ""
    rows = [
        ["resource group", glob["resource_group"]["name"], _exists(glob["resource_group"])],
        ["identity", identity["name"], _exists(identity) + client],
        ["storage account", glob["storage_account"]["name"], _exists(glob["storage_account"])],
        ["container", glob["container"]["name"], _exists(glob["container"])],
    ]
    return [line[2:] for line in _columns(rows)]


def _quota(q: dict[str, Any]) -> str:
    figure = f"{q['used']} of {q['limit']} vCPUs used" if q.get("limit") is not None else "not reported"
    return f"{q['name']} ({'GPU' if q['kind'] == 'gpu' else 'spot'}): {figure}"


def _region_lines(entry: dict[str, Any]) -> list[str]:
    if entry.get("error"):
        return [f"  error: {entry['error']['message']}"]
    c = entry["cluster"]
    if not c["exists"]:
        lines = [f"  cluster {c['name']}: absent"]
    else:
        state = ", ".join(str(x) for x in (c.get("provisioning_state"), c.get("power_state")) if x)
        lines = [f"  cluster {c['name']}: {state}, Kubernetes {c.get('kubernetes_version')}"]
    if entry["pools"]:
        rows = [["POOL", "VM SIZE", "SPOT", "NODES", "MIN", "MAX", "TAINTS"]]
        for p in entry["pools"]:
            rows.append(
                [p["name"], str(p["vm_size"]), "yes" if p["spot"] else "no", str(p["nodes"]), str(p["min"]),
                 str(p["max"]), ", ".join(p["taints"]) or "-"]
            )  # fmt: skip
        lines += _columns(rows)
    if entry["quota"]:
        lines.append("  quota: " + "; ".join(_quota(q) for q in entry["quota"]))
    releases = entry.get("helm_releases")
    if releases is not None:
        lines.append("  helm: " + (", ".join(f"{r.get('release')} {r.get('version')}" for r in releases) or "none"))
    if entry.get("anyscale_cloud_resource_id"):
        lines.append(f"  anyscale cloud resource: {entry['anyscale_cloud_resource_id']}")
    return lines


def _drift_line(drift: dict[str, Any]) -> str:
    if drift.get("error"):
        return f"drift: unknown ({drift['error']['message']})"
    if drift.get("failed"):
        return f"drift: {drift['failed']} steps could not be read; run raks plan for details"
    if not drift.get("changes"):
        return "drift: none (raks plan finds nothing to change)"
    return (
        f"drift: {drift['create']} to create, {drift['update']} to update (raks plan shows them; raks up applies them)"
    )


def status_text(doc: dict[str, Any]) -> str:
    lines = [f"Deployment {doc['deployment']}, resource group {doc['resource_group']}", "global"]
    lines += _global_lines(doc["global"])
    for entry in doc["regions"]:
        lines.append(entry["region"])
        lines += _region_lines(entry)
    lines.append(_drift_line(doc["drift"]))
    return "\n".join(lines) + "\n"
