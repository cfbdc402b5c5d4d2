"""`raks status`: the deployment as it is now, read-only. Regions are read in parallel, the
drift check (the plan engine: would `up` change anything?) alongside them."""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from raks.engine.runner import FAILED, Engine, StepResult
from raks.errors import AuthError, RaksError
from raks.steps import graph, inventory
from raks.steps.base import CREATE, UPDATE, Context
from raks.steps.status import global_status, region_status

SCHEMA_VERSION = 1


def regions_to_show(ctx: Context, requested: list[str] | None) -> list[str]:
    """--regions, else the configured regions plus any other region the deployment spans."""
    if requested:
        return list(requested)
    present = inventory.regions_of(ctx, inventory.tagged(ctx))
    return list(dict.fromkeys([*ctx.cfg.regions, *present]))


def _error(exc: BaseException) -> dict[str, Any]:
    return {"code": getattr(exc, "code", None), "message": getattr(exc, "message", str(exc))}


def _drift(ctx: Context, regions: list[str]) -> dict[str, Any]:
    plan_ctx = dataclasses.replace(ctx, outputs={}, plan=True)
    results: dict[str, StepResult] = Engine(graph.build(ctx.cfg, ctx.subscription_id, regions), plan_ctx).plan()
    changed = [r for r in results.values() if r.changed or r.state == FAILED]
    return {
        "changes": sum(1 for r in changed if r.changed),
        "create": sum(1 for r in changed if r.action == CREATE),
        "update": sum(1 for r in changed if r.action == UPDATE),
        "failed": sum(1 for r in changed if r.state == FAILED),
        "steps": [
            {"key": r.key, "region": r.region, "title": r.title, "action": r.action or None, "fields": list(r.fields)}
            | ({"error": _error(r.error)} if r.error is not None else {})
            for r in changed
        ],
    }


def collect(ctx: Context, regions: list[str]) -> dict[str, Any]:
    """The status document (README, "status JSON"). A region that cannot be read carries an
    `error`; an authentication failure is raised."""
    with ThreadPoolExecutor(max_workers=len(regions) + 2, thread_name_prefix="raks-status") as pool:
        glob = pool.submit(global_status, ctx)
        drift = pool.submit(_drift, ctx, regions)
        per_region = {region: pool.submit(region_status, ctx, region) for region in regions}
        return {
            "schema_version": SCHEMA_VERSION,
            "command": "status",
            "deployment": ctx.cfg.deployment,
            "resource_group": ctx.cfg.resolved_resource_group(),
            "global": _value(glob, {}),
            "regions": [_value(f, {"region": region}) for region, f in per_region.items()],
            "drift": _value(drift, {}),
        }


def _value(future: Future[dict[str, Any]], base: dict[str, Any]) -> dict[str, Any]:
    try:
        return future.result()
    except AuthError:
        raise
    except RaksError as exc:
        return {**base, "error": _error(exc)}
