"""`raks plan` and `raks up`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from raks.cli.context import globals_of
from raks.cli.costs_view import CURRENCY_HELP
from raks.cli.output import emit_document, err
from raks.errors import (
    EXIT_CHANGES,
    EXIT_CLOUD,
    EXIT_OK,
    EXIT_PARTIAL,
    AuthError,
    ConfigError,
)

REGIONS = typer.Option(None, "--regions", help="Regions to act on (override raks.yaml).")
SANDBOX = typer.Option(False, "--sandbox", help="Use the local emulator instead of Azure.")
SANDBOX_DIR = typer.Option(None, "--sandbox-dir", help="Emulator state folder (default .raks/sandbox).")


def _session(ctx: typer.Context, regions: list[str] | None, sandbox: bool, sandbox_dir: Path | None) -> Any:
    from raks.cli.cloud import open_target
    from raks.cli.cmd_preflight import load_for

    g = globals_of(ctx)
    cfg = load_for(g, regions)  # `auto:N` is resolved once the cloud is open
    return cfg, open_target(cfg, sandbox=sandbox, config_dir=g.config_dir, state_dir=sandbox_dir)


def _engine(cfg: Any, target: Any, on_event: Any = None) -> Any:
    from raks.cli.session import new_context
    from raks.engine.runner import Engine
    from raks.steps import graph

    return Engine(graph.build(cfg, target.subscription_id), new_context(cfg, target), on_event=on_event)


def _header(cfg: Any, target: Any) -> str:
    where = "sandbox" if target.label == "sandbox" else f"subscription {target.subscription_id}"
    return f"Deployment {cfg.deployment} ({where}), regions: {', '.join(cfg.regions)}"


def _plan_failures(results: dict[str, Any]) -> list[Any]:
    from raks.engine.runner import FAILED

    return [r for r in results.values() if r.state == FAILED]


def _raise_for(failures: list[Any]) -> None:
    """The first failure decides the exit code class (auth beats the rest)."""
    for r in failures:
        if isinstance(r.error, AuthError):
            raise r.error


def plan(
    ctx: typer.Context,
    regions: list[str] = REGIONS,
    sandbox: bool = SANDBOX,
    sandbox_dir: Path = SANDBOX_DIR,
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode", help="Exit 10 when there are changes."),
    destroy: bool = typer.Option(False, "--destroy", help="Show what `raks down` would delete instead."),
    delete_data: bool = typer.Option(False, "--delete-data", help="With --destroy: as `raks down --delete-data`."),
    currency: str = typer.Option(None, "--currency", help=CURRENCY_HELP),
) -> int:
    """Show what `raks up` would create or change (or, with --destroy, what `raks down` would delete),
    and what the node pools cost per hour. Changes nothing."""
    if destroy or delete_data:
        from raks.cli.cmd_down import plan_destroy

        if not destroy:
            raise ConfigError("--delete-data: only with --destroy (raks plan --destroy --delete-data)")
        return plan_destroy(ctx, regions, sandbox, sandbox_dir, detailed_exitcode, delete_data)
    from raks.cli.cmd_preflight import resolve_regions
    from raks.cli.costs_view import PriceRead, cost_text, currency_of, safely, unavailable_line
    from raks.cli.render import SCHEMA_VERSION, plan_text, render_failures, step_json
    from raks.engine.costs import plan_cost
    from raks.steps.pools import expand

    g = globals_of(ctx)
    cfg, session = _session(ctx, regions, sandbox, sandbox_dir)
    cur = currency_of(cfg, currency)  # a bad --currency stops here, before any request
    with session as (target, _):
        cfg = resolve_regions(g, cfg, target, regions, cur)
        pools = expand(cfg.pools)
        # The prices are read beside the plan engine (a thread), so they add no wall time.
        prices = PriceRead(target, cfg.regions, [p.vm_size for p in pools], cur)
        results = _engine(cfg, target).plan()
        cost = safely(lambda sheet: plan_cost(cfg.regions, pools, sheet), prices.sheet(), ("min", "max"))
    failures = _plan_failures(results)
    changes = any(r.changed for r in results.values())
    if g.output == "json":
        emit_document(
            "plan",
            {
                "schema_version": SCHEMA_VERSION,
                "command": "plan",
                "deployment": cfg.deployment,
                "regions": cfg.regions,
                "changes": changes,
                "steps": [step_json(r) for r in results.values()],
                "cost": cost.as_dict(),
            },
        )
        if not cost.available:
            err(unavailable_line(cost))
    else:
        sys.stdout.write(plan_text(results, _header(cfg, target)))
        sys.stdout.write(cost_text(cost))
    if failures:
        render_failures(failures)
        _raise_for(failures)
        return EXIT_CLOUD
    return EXIT_CHANGES if detailed_exitcode and changes else EXIT_OK


def _confirm(g: Any, what: str) -> None:
    from raks.cli.render import can_prompt

    if g.yes:
        return
    if not can_prompt():
        raise ConfigError(f"{what} needs confirmation and there is no terminal to ask: pass --yes")
    if not typer.confirm(f"{what}?", default=False, err=True):
        raise typer.Exit(EXIT_OK)


def up(
    ctx: typer.Context,
    regions: list[str] = REGIONS,
    sandbox: bool = SANDBOX,
    sandbox_dir: Path = SANDBOX_DIR,
    skip_preflight: bool = typer.Option(False, "--skip-preflight", help="Do not check quotas, sizes, tools first."),
    skip_unavailable: bool = typer.Option(
        False, "--skip-unavailable", help="Leave out regions that fail preflight (never the primary one)."
    ),
) -> int:
    """Create or converge everything, regions in parallel. Safe to re-run after any failure."""
    from raks.cli.cmd_preflight import create_service_principal_first, gate, resolve_regions
    from raks.cli.render import SCHEMA_VERSION, Progress, estimate_line, plan_text, render_failures, step_json

    g = globals_of(ctx)
    cfg, session = _session(ctx, regions, sandbox, sandbox_dir)
    with session as (target, _):
        cfg = resolve_regions(g, cfg, target, regions)
        # Nothing is written when a check fails (exit 2), unless failing regions may be left out.
        cfg = gate(cfg, target, skip=skip_preflight, skip_unavailable=skip_unavailable)
        planner = _engine(cfg, target)
        results = planner.plan()
        failures = _plan_failures(results)
        if g.output != "json" or failures:
            err(plan_text(results, _header(cfg, target)).rstrip())
        estimate = estimate_line(planner.steps.values(), results, sandbox=target.label == "sandbox")
        if estimate and not failures:
            err(estimate)
        if failures:
            render_failures(failures)
            _raise_for(failures)
            return EXIT_CLOUD
        changes = any(r.changed for r in results.values())
        if changes:
            _confirm(g, "Apply these changes")
            create_service_principal_first(cfg, target, results)
            with Progress(live=g.output != "json") as progress:
                engine = _engine(cfg, target, progress.event)
                results = engine.apply()
            outputs = engine.ctx.outputs
        else:
            outputs = {k: r.outputs for k, r in results.items()}
            err("Nothing to change: everything is up to date.")
    failures = _plan_failures(results)
    code, verdict = _verdict(cfg, results)
    if g.output == "json":
        from raks.cli.up_summary import summary

        emit_document(
            "up",
            {
                "schema_version": SCHEMA_VERSION,
                "command": "up",
                "deployment": cfg.deployment,
                "result": verdict,
                **summary(cfg, target.subscription_id, outputs),
                "steps": [step_json(r) for r in results.values()],
                "outputs": outputs,
            },
        )
    if failures:
        render_failures(failures)
        _raise_for(failures)
    elif g.output == "json":
        err(f"raks up: {verdict}.")
    else:
        from raks.cli.up_summary import dashboard_lines, next_steps

        for line in dashboard_lines(cfg):  # a result: how to reach each region's Ray dashboard
            sys.stdout.write(line + "\n")
        err(next_steps(cfg, outputs, sandbox=target.label == "sandbox", verdict=verdict))
    return code


def _verdict(cfg: Any, results: dict[str, Any]) -> tuple[int, str]:
    from raks.engine.runner import FAILED, SKIPPED

    bad = {r.region or "global" for r in results.values() if r.state in (FAILED, SKIPPED)}
    if not bad:
        return EXIT_OK, "ok"
    if "global" in bad or bad >= set(cfg.regions):
        return EXIT_CLOUD, "failed"
    return EXIT_PARTIAL, f"partial (failed: {', '.join(sorted(bad))})"
