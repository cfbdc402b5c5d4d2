"""`raks down`: which steps go and which stay (and why), then the step graph in reverse.

Which regions the deployment spans is observed (resources carrying its tags), not taken from
raks.yaml alone: `--regions` narrows the config, and shared (global) resources may go only
when no region of the deployment is left.
"""

from __future__ import annotations

from dataclasses import dataclass

from raks.engine.runner import Engine, Listener, StepResult
from raks.steps import graph, inventory
from raks.steps.base import KEPT, Context, Step


@dataclass
class Teardown:
    regions: list[str]  # regions whose steps are removed
    remaining: list[str]  # regions of the deployment that stay, with the shared resources
    steps: list[Step]
    keep: dict[str, str]  # step key -> why it stays

    @property
    def whole(self) -> bool:
        return not self.remaining


def scope(ctx: Context, regions: list[str] | None) -> Teardown:
    """--regions: those regions only. Without it: every region of the deployment, configured
    or found in Azure (a region added with `up --regions` need not be in raks.yaml)."""
    present = inventory.regions_of(ctx, inventory.tagged(ctx))
    removing = list(dict.fromkeys(regions or [*ctx.cfg.regions, *present]))
    remaining = [r for r in present if r not in removing]
    steps = graph.build(ctx.cfg, ctx.subscription_id, removing)
    keep: dict[str, str] = {}
    if remaining:
        why = f"{KEPT}: shared with {', '.join(remaining)}, which remain{'s' if len(remaining) == 1 else ''}"
        keep = {s.key: why for s in steps if s.region is None}
    return Teardown(removing, remaining, steps, keep)


def run(
    ctx: Context,
    teardown: Teardown,
    *,
    dry_run: bool,
    on_event: Listener | None = None,
    planned: dict[str, StepResult] | None = None,
) -> dict[str, StepResult]:
    engine = Engine(teardown.steps, ctx, on_event=on_event)
    return engine.destroy(dry_run=dry_run, keep=teardown.keep, planned=planned)
