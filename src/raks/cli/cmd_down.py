"""`raks down` and `raks plan --destroy`: remove what raks created, dependents first.

The storage account and its container (the data) stay unless --delete-data; resources without
raks' tags are left alone and reported; the resource group goes only when nothing is left in it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from raks.cli.cmd_up import REGIONS, SANDBOX, SANDBOX_DIR, _confirm, _raise_for
from raks.cli.context import globals_of
from raks.cli.output import emit_document, err
from raks.errors import EXIT_CHANGES, EXIT_CLOUD, EXIT_OK, EXIT_PARTIAL

DELETE_DATA = typer.Option(
    False, "--delete-data", help="Also delete the storage account and container, with all the data in them."
)
DATA_STEPS = ("global/storage-account", "global/storage-container")


def _header(cfg: Any, target: Any, teardown: Any) -> str:
    where = "sandbox" if target.label == "sandbox" else f"subscription {target.subscription_id}"
    line = f"Destroy deployment {cfg.deployment} ({where}), regions: {', '.join(teardown.regions) or 'none'}"
    if teardown.remaining:
        line += f"; staying: {', '.join(teardown.remaining)}"
    return line


def _failures(results: dict[str, Any]) -> list[Any]:
    from raks.engine.runner import FAILED

    return [r for r in results.values() if r.state == FAILED]


def _deletes(results: dict[str, Any]) -> bool:
    from raks.steps.base import DELETE

    return any(r.action == DELETE for r in results.values())


def plan_destroy(
    ctx: typer.Context,
    regions: list[str] | None,
    sandbox: bool,
    sandbox_dir: Path | None,
    detailed_exitcode: bool,
    delete_data: bool,
) -> int:
    """`raks plan --destroy`: what `raks down` would delete, keep and leave alone."""
    from raks.cli.render import SCHEMA_VERSION, destroy_text, render_failures, step_json
    from raks.cli.session import new_context, open_session
    from raks.engine import teardown

    g = globals_of(ctx)
    cfg, session = open_session(ctx, regions, sandbox, sandbox_dir)
    with session as (target, _):
        c = new_context(cfg, target, delete_data=delete_data)
        scope = teardown.scope(c, regions or None)
        results = teardown.run(c, scope, dry_run=True)
    failures = _failures(results)
    if g.output == "json":
        emit_document(
            "plan",
            {
                "schema_version": SCHEMA_VERSION,
                "command": "plan",
                "destroy": True,
                "deployment": cfg.deployment,
                "regions": scope.regions,
                "remaining": scope.remaining,
                "delete_data": delete_data,
                "changes": _deletes(results),
                "steps": [step_json(r) for r in results.values()],
            },
        )
    else:
        sys.stdout.write(destroy_text(results, _header(cfg, target, scope)))
    if failures:
        render_failures(failures)
        _raise_for(failures)
        return EXIT_CLOUD
    return EXIT_CHANGES if detailed_exitcode and _deletes(results) else EXIT_OK


def down(
    ctx: typer.Context,
    regions: list[str] = REGIONS,
    delete_data: bool = DELETE_DATA,
    sandbox: bool = SANDBOX,
    sandbox_dir: Path = SANDBOX_DIR,
) -> int:
    """Remove what raks created, in reverse order. Keeps the storage account and its data unless --delete-data."""
    from raks.cli.render import SCHEMA_VERSION, Progress, destroy_text, render_failures, step_json
    from raks.cli.session import new_context, open_session
    from raks.engine import teardown
    from raks.steps import inventory
    from raks.steps.base import DELETE

    g = globals_of(ctx)
    cfg, session = open_session(ctx, regions, sandbox, sandbox_dir)
    leftovers: list[dict[str, Any]] = []
    with session as (target, _):
        probe = new_context(cfg, target, delete_data=delete_data)
        scope = teardown.scope(probe, regions or None)
        results = teardown.run(probe, scope, dry_run=True)
        failures = _failures(results)
        if g.output != "json" or failures:
            err(destroy_text(results, _header(cfg, target, scope)).rstrip())
        if failures:
            render_failures(failures)
            _raise_for(failures)
            return EXIT_CLOUD
        if _deletes(results):
            _confirm(g, "Delete these resources")
            if delete_data and any(results[k].action == DELETE for k in DATA_STEPS if k in results):
                _confirm(g, "--delete-data: also delete the storage account and container with ALL their data")
            with Progress(live=g.output != "json") as progress:
                # The same context: what the preview observed is not read a second time.
                results = teardown.run(probe, scope, dry_run=False, on_event=progress.event, planned=results)
            if not _failures(results):
                leftovers = inventory.leftovers(probe, scope.regions, whole=scope.whole)
        else:
            err("Nothing to delete.")
    failures = _failures(results)
    code, verdict = _verdict(scope, results)
    if g.output == "json":
        emit_document(
            "down",
            {
                "schema_version": SCHEMA_VERSION,
                "command": "down",
                "deployment": cfg.deployment,
                "result": verdict,
                "regions": scope.regions,
                "remaining": scope.remaining,
                "delete_data": delete_data,
                "steps": [step_json(r) for r in results.values()],
                "leftovers": [{"id": r.get("id"), "type": r.get("type"), "name": r.get("name")} for r in leftovers],
            },
        )
    else:
        sys.stdout.write("".join(line + "\n" for line in _summary(cfg, scope, results, leftovers)))
    if failures:
        render_failures(failures)
        _raise_for(failures)
    err(f"raks down: {verdict}.")
    return code


def _summary(cfg: Any, scope: Any, results: dict[str, Any], leftovers: list[dict[str, Any]]) -> list[str]:
    """What stayed and why, and how to remove the data later."""
    from raks.steps import inventory
    from raks.steps.base import KEPT, NOT_OURS

    lines = []
    data = [results[k] for k in DATA_STEPS if k in results and results[k].outcome.startswith(KEPT)]
    if data and not scope.remaining:
        names = " and ".join(r.title for r in data)
        lines.append(f"Kept {names}, and the data in them. To delete them later: raks down --delete-data")
    if scope.remaining:
        lines.append(
            f"Kept the shared resources (resource group, identity, storage and its data) for "
            f"{', '.join(scope.remaining)}; they go with the last region."
        )
    for r in results.values():
        if r.key == "global/resource-group" and r.outcome.startswith(KEPT) and not scope.remaining:
            lines.append(f"Kept {r.title}: {r.note.removeprefix(KEPT).strip(' :')}.")
        elif r.outcome.startswith(NOT_OURS):
            where = f" in {r.region}" if r.region else ""
            lines.append(f"Left alone {r.title}{where}: {r.note.removeprefix(NOT_OURS).strip(' :')}.")
    if leftovers:
        lines.append(
            f"Still tagged raks-deployment={cfg.deployment} (not removed): {inventory.describe(leftovers, limit=10)}"
        )
    return lines


def _verdict(scope: Any, results: dict[str, Any]) -> tuple[int, str]:
    """ok, partial (exit 5: some regions were removed, others failed) or failed (exit 4)."""
    from raks.engine.runner import FAILED, SKIPPED

    bad = {r.region for r in results.values() if r.state in (FAILED, SKIPPED) and r.region}
    global_failed = any(r.state == FAILED and r.region is None for r in results.values())
    if not bad and not global_failed and not any(r.state == SKIPPED for r in results.values()):
        return EXIT_OK, "ok"
    if bad and not global_failed and bad < set(scope.regions):
        return EXIT_PARTIAL, f"partial (failed: {', '.join(sorted(bad))}; re-run raks down to finish)"
    return EXIT_CLOUD, "failed (re-run raks down to finish)"
