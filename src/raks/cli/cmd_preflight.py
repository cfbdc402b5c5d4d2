"""`raks preflight`, and the two things `raks up` does first: resolving
`--regions auto:N` and the preflight gate.

A failing check exits 2 (PreflightError): it is found before any write, so nothing was created,
as with a configuration error; the fix is the user's (quota, size, region, provider, tool).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from raks.cli.context import Globals, globals_of
from raks.cli.output import emit_document, err
from raks.errors import EXIT_OK, EXIT_USAGE, PreflightError

REGIONS = typer.Option(None, "--regions", help="Regions to check (override raks.yaml); auto:N picks N by GPU quota.")
SANDBOX = typer.Option(False, "--sandbox", help="Use the local emulator instead of Azure.")
SANDBOX_DIR = typer.Option(None, "--sandbox-dir", help="Emulator state folder (default .raks/sandbox).")
SCHEMA_VERSION = 1
SHOWN = {"ok": "ok", "info": "info", "warn": "warn", "fail": "FAIL"}


# -- used by up ------------------------------------------------------------------------------
def load_for(g: Globals, regions: list[str] | None) -> Any:
    """The config, leaving `auto:N` to resolve_regions (it needs the cloud)."""
    from raks.engine.placement import auto_count

    return g.load(None if auto_count(regions) else regions)


def resolve_regions(g: Globals, cfg: Any, target: Any, regions: list[str] | None, currency: str | None = None) -> Any:
    """For `--regions auto:N`: the config with the N best regions for its GPU pools by the ranking
    rule (engine/placement.py `rank`), saying why each was picked and the best one left out."""
    from raks.adapters.azure.arm import Arm
    from raks.config import load_config
    from raks.engine.placement import auto_count, choose

    n = auto_count(regions)
    if not n:
        return cfg
    currency = currency or cfg.currency
    placed = choose(cfg, Arm(target), n, currency)
    picked = ", ".join(c.region for c in placed.chosen)
    if placed.by_cost:
        rule = "GPU pools fit, then cost per hour" + (", then spot eviction band" if placed.spot else "")
        err(f"--regions auto:{n} chose {picked} ({rule}):")
    else:
        err(f"--regions auto:{n} chose {picked} (most GPU quota headroom; prices unavailable: {placed.prices.error}):")
    for c in placed.chosen:
        err(f"  {c.region}: {c.reason(currency, spot=placed.spot, by_cost=placed.by_cost)}")
    out = placed.left_out
    if out is not None:
        why = placed.why_left_out()
        err(
            f"  next best, left out: {out.region} ({why}): {out.reason(currency, spot=placed.spot, by_cost=placed.by_cost)}"
        )
    return load_config(g.config, regions=[c.region for c in placed.chosen])


def run_report(cfg: Any, target: Any, *, check_tools: bool = True, graph: Any = None) -> Any:
    from raks.adapters.azure.arm import Arm
    from raks.adapters.graph import Graph
    from raks.engine import preflight

    # Against the sandbox no helm binary or Anyscale token is needed: missing tools only warn.
    strict = target.label != "sandbox"
    return preflight.run(
        cfg,
        Arm(target),
        target.subscription_id,
        check_tools=check_tools,
        strict_tools=strict,
        graph=graph or Graph(target),
    )


def gate(cfg: Any, target: Any, *, skip: bool, skip_unavailable: bool) -> Any:
    """Preflight before `up` writes anything: the config to go on with, or PreflightError (exit 2)."""
    from raks.engine.preflight import FAIL, WARN

    if skip:
        err("Preflight skipped (--skip-preflight).")
        return cfg
    from raks.cli.preflight_notes import INFO, shown

    report = run_report(cfg, target)
    rows = shown(report.rows, target)  # sandbox-normal findings read as information
    for row in rows:
        if row.status in (WARN, FAIL, INFO):
            err(f"preflight {SHOWN[row.status]}: {row.line()}")
    failed = report.with_status(FAIL)
    err(
        f"Preflight: {len(report.rows)} checks in {report.seconds:.2f}s, "
        f"{len(failed)} failed, {sum(r.status == WARN for r in rows)} warnings."
    )
    if not failed:
        return cfg
    lines = [f"preflight: {r.line()}" for r in failed]
    if not skip_unavailable:
        raise PreflightError(
            lines, hint="nothing was written; fix the above, or pass --skip-unavailable to leave failing regions out"
        )
    if report.failed_elsewhere():
        raise PreflightError(lines, hint="nothing was written; --skip-unavailable drops regions, not these checks")
    bad = report.failed_regions()
    primary = cfg.resolved_primary_region()
    if primary in bad:
        raise PreflightError(
            lines,
            hint=f"nothing was written; the primary region {primary} holds the storage, identity and Anyscale "
            "cloud, so --skip-unavailable never drops it: fix it or choose another primary_region",
        )
    kept = [r for r in cfg.regions if r not in bad]
    err(f"--skip-unavailable: leaving out {', '.join(bad)} (failed preflight); going on with {', '.join(kept)}.")
    return cfg.model_copy(update={"regions": kept})


# -- raks preflight ----------------------------------------------------------------------------
def identity_rows(target: Any) -> list[Any]:
    """Who raks runs as: the credential that authenticated (its kind, never a secret) and the
    subscription, so a CI log shows at once whether the pipeline's identity is the intended one."""
    from raks.adapters.azure.credential import describe
    from raks.engine.preflight.rows import OK, Row

    where = "sandbox" if target.label == "sandbox" else "Azure"
    return [
        Row("global", "credential", OK, describe(target.credential)),
        Row("global", "subscription", OK, f"{target.subscription_id} ({where})"),
    ]


# -- the preflight table ----------------------------------------------------------------------
def _table(rows: list[Any]) -> str:
    wr = max([6, *(len(r.region) for r in rows)])
    wc = max([5, *(len(r.check) for r in rows)])
    lines = [f"{'REGION':<{wr}}  {'CHECK':<{wc}}  STATUS  FIGURE / WHAT TO DO"]
    for r in rows:
        lines.append(f"{r.region:<{wr}}  {r.check:<{wc}}  {SHOWN[r.status]:<6}  {r.figure}")
        if r.fix and r.status != "ok":
            lines.append(f"{'':<{wr}}  {'':<{wc}}  {'':<6}  → {r.fix}")
    return "\n".join(lines) + "\n"


def preflight(
    ctx: typer.Context,
    regions: list[str] = REGIONS,
    sandbox: bool = SANDBOX,
    sandbox_dir: Path = SANDBOX_DIR,
    skip_tools: bool = typer.Option(False, "--skip-tools", help="Leave out the local tool checks (helm, anyscale)."),
) -> int:
    """Check quotas, VM sizes, versions, providers, names, permissions and tools. Writes nothing.

    Exits 0 when nothing fails (warnings allowed), 2 when a check fails."""
    from raks.cli.cloud import open_target

    g = globals_of(ctx)
    cfg = load_for(g, regions)
    with open_target(cfg, sandbox=sandbox, config_dir=g.config_dir, state_dir=sandbox_dir) as (target, _):
        cfg = resolve_regions(g, cfg, target, regions)
        report = run_report(cfg, target, check_tools=not skip_tools)
        who = identity_rows(target)
    rows = [*who, *report.rows]
    if g.output == "json":
        emit_document(
            "preflight",
            {
                "schema_version": SCHEMA_VERSION,
                "command": "preflight",
                "deployment": cfg.deployment,
                "regions": cfg.regions,
                "result": report.result,
                "seconds": round(report.seconds, 3),
                "credential": who[0].figure,
                "subscription": target.subscription_id,
                "checks": [r.as_dict() for r in rows],
            },
        )
    else:
        from raks.cli.preflight_notes import shown

        sys.stdout.write(_table(shown(rows, target)))
    failed = report.with_status("fail")
    err(f"Preflight: {len(report.rows)} checks in {report.seconds:.2f}s, {len(failed)} failed.")
    return EXIT_USAGE if failed else EXIT_OK


def create_service_principal_first(cfg: Any, target: Any, results: dict[str, Any]) -> None:
    """After the user confirmed `up`: a missing service principal of the Anyscale operator app is
    created before any Azure resource, so that when Graph refuses (no permission) nothing was
    written and `up` stops like a failed preflight check, naming the permission and the fix.
    Never before the confirmation: `up` without --yes and no terminal writes nothing at all."""
    from raks.adapters.graph import Graph
    from raks.engine.preflight import FAIL, service_principal
    from raks.steps.base import CREATE
    from raks.steps.service_principal import SERVICE_PRINCIPAL

    planned = results.get(SERVICE_PRINCIPAL)
    if planned is None or planned.action != CREATE:
        return
    row = service_principal.create(cfg, Graph(target))
    if row.status == FAIL:
        raise PreflightError([f"preflight: {row.line()}"], hint="nothing was written; fix the above and re-run")
    err(f"{row.check}: {row.figure}")
