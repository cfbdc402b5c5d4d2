"""The deployment's resource group (in the primary region)."""

from __future__ import annotations

from typing import Any

from raks import names
from raks.steps.arm_step import ArmStep
from raks.steps.base import ABSENT, KEPT, NOT_OURS, Context


class ResourceGroupStep(ArmStep):
    kind = "resource_group"
    key = "global/resource-group"
    # A group the user created beforehand (their policies, their tags) is used as is and is
    # never deleted by raks; one raks created carries the deployment tags.
    may_use_foreign = True

    def __init__(self, rg: str) -> None:
        self.rg = rg
        self.title = f"resource group {rg}"

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg,)

    def body(self, ctx: Context) -> dict[str, Any]:
        return {"location": ctx.cfg.resolved_primary_region()}

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        ours = observed is None or names.is_ours((observed or {}).get("tags"), ctx.cfg)
        return {"id": (observed or {}).get("id"), "created_by_raks": ours}

    def destroy(self, ctx: Context) -> str:
        """Deleted only when raks created it and nothing else is left in it: deleting a group
        deletes everything inside, someone else's resources and the kept data included."""
        from raks.steps.inventory import describe

        observed = self.observe_for_destroy(ctx)
        if observed is None:
            return ABSENT
        if not names.is_ours(observed.get("tags"), ctx.cfg):
            return f"{NOT_OURS}: created outside raks"
        left = [r for r in ctx.azure.list_resources(self.rg) if str(r.get("id") or "").lower() not in ctx.removed]
        if left:
            return f"{KEPT}: not empty, it still holds {describe(left)}"
        return self.delete(ctx, observed)
