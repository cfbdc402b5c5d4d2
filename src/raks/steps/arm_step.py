"""The common shape of a step that owns one ARM resource."""

from __future__ import annotations

from typing import Any, ClassVar

from raks import names
from raks.errors import CloudError
from raks.steps.base import (
    ABSENT,
    CREATE,
    DELETED,
    NOOP,
    NOT_OURS,
    UPDATE,
    Context,
    Diff,
    NeedsUnknown,
    Step,
    differing,
)


def failed(observed: dict[str, Any]) -> bool:
    return (observed.get("properties") or {}).get("provisioningState") == "Failed"


class ArmStep(Step):
    kind: ClassVar[str] = ""
    owned: ClassVar[tuple[str, ...]] = ()  # dotted paths raks owns and compares
    tracked: ClassVar[bool] = True  # carries the deployment tags (child resources do not)
    may_use_foreign: ClassVar[bool] = False  # e.g. a resource group the user made beforehand

    def path(self, ctx: Context) -> tuple[str, ...]:
        raise NotImplementedError

    def body(self, ctx: Context) -> dict[str, Any]:
        raise NotImplementedError

    def desired(self, ctx: Context) -> dict[str, Any]:
        body = self.body(ctx)
        if self.tracked:
            body["tags"] = names.tags(ctx.cfg)
        return body

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        path = self.path(ctx)
        if any(p is None or not isinstance(p, str) for p in path):
            raise NeedsUnknown(self.key)
        return ctx.azure.get(self.kind, *path)

    def foreign(self, ctx: Context, observed: dict[str, Any]) -> bool:
        return self.tracked and not names.is_ours(observed.get("tags"), ctx.cfg)

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        if observed is None:
            return Diff(CREATE)
        if self.foreign(ctx, observed):
            if self.may_use_foreign:
                return Diff(NOOP, note="not created by raks; used as is")
            raise CloudError(
                f"{self.title} already exists and is not managed by raks deployment '{ctx.cfg.deployment}' "
                "(it lacks the raks-deployment/managed-by tags); raks will not take it over",
                code="NotOwnedByRaks",
                hint="rename it in raks.yaml, or delete or tag the existing resource",
            )
        fields = differing(desired, observed, (*self.owned, *(("tags",) if self.tracked else ())))
        if failed(observed):
            # A resource left Failed by an earlier operation is written again, which is how
            # Azure resources recover.
            fields.append("provisioningState (Failed)")
        return Diff(UPDATE, fields) if fields else Diff(NOOP)

    def write_body(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> dict[str, Any]:
        return desired

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        body = self.write_body(ctx, desired, observed)
        return ctx.azure.put(self.kind, *self.path(ctx), body=body)

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        # The resource id, so `raks up --output json` can list every resource it manages.
        return {"id": (observed or {}).get("id")}

    # -- destroy -----------------------------------------------------------------------------
    def owner(self, ctx: Context) -> tuple[str, tuple[str, ...]] | None:
        """For a child resource without tags of its own: the (kind, path) of the tracked parent
        whose tags say whether raks created it."""
        return None

    def ours(self, ctx: Context, observed: dict[str, Any]) -> bool:
        if self.tracked:
            return names.is_ours(observed.get("tags"), ctx.cfg)
        owner = self.owner(ctx)
        if owner is None:
            return True
        parent = ctx.azure.get(owner[0], *owner[1])
        return parent is not None and names.is_ours(parent.get("tags"), ctx.cfg)

    def observe_for_destroy(self, ctx: Context) -> dict[str, Any] | None:
        try:
            return self.observe(ctx)
        except NeedsUnknown:
            return None

    def destroy(self, ctx: Context) -> str:
        observed = self.observe_for_destroy(ctx)
        if observed is None:
            return ABSENT
        if not self.ours(ctx, observed):
            return f"{NOT_OURS}: it lacks the raks-deployment/managed-by tags"
        return self.delete(ctx, observed)

    def delete(self, ctx: Context, observed: dict[str, Any]) -> str:
        """Delete the resource (waiting for Azure's operation); in a plan only record it."""
        if observed.get("id"):
            ctx.removed.add(str(observed["id"]).lower())
        if not ctx.plan:
            ctx.azure.delete(self.kind, *self.path(ctx))
        return DELETED
