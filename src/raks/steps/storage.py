"""The storage account (data that outlives clusters), its CORS rule and the private container."""

from __future__ import annotations

from typing import Any

from raks.steps.arm_step import ArmStep
from raks.steps.base import ABSENT, CREATE, DELETED, KEPT, NOOP, UPDATE, Context, Diff, same

STORAGE = "global/storage-account"


class StorageAccountStep(ArmStep):
    kind = "storage_account"
    key = STORAGE
    needs = ("global/resource-group",)
    owned = (
        "sku.name",
        "kind",
        "properties.supportsHttpsTrafficOnly",
        "properties.minimumTlsVersion",
        "properties.allowBlobPublicAccess",
    )

    def __init__(self, rg: str, account: str) -> None:
        self.rg, self.account = rg, account
        self.title = f"storage account {account}"

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, self.account)

    def body(self, ctx: Context) -> dict[str, Any]:
        return {
            "location": ctx.cfg.resolved_primary_region(),
            "sku": {"name": ctx.cfg.storage.sku},
            "kind": "StorageV2",
            "properties": {
                "supportsHttpsTrafficOnly": True,
                "minimumTlsVersion": "TLS1_2",
                "allowBlobPublicAccess": False,
            },
        }

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": (observed or {}).get("id") or self.account_id(ctx), "name": self.account}

    def delete(self, ctx: Context, observed: dict[str, Any]) -> str:
        if not ctx.delete_data:
            return f"{KEPT}: holds the data (raks down --delete-data removes it)"
        return super().delete(ctx, observed)

    def account_id(self, ctx: Context) -> str:
        return (
            f"/subscriptions/{ctx.subscription_id}/resourceGroups/{self.rg}/providers/Microsoft.Storage/"
            f"storageAccounts/{self.account}"
        )


def _cors_rules(ctx: Context) -> list[dict[str, Any]]:
    return [
        {
            "allowedOrigins": list(rule.allowed_origins),
            "allowedMethods": list(rule.allowed_methods),
            "allowedHeaders": list(rule.allowed_headers),
            "exposedHeaders": list(rule.exposed_headers),
            "maxAgeInSeconds": rule.max_age_seconds,
        }
        for rule in ctx.cfg.storage.cors
    ]


def _origins(rule: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(o.lower() for o in rule.get("allowedOrigins") or []))


class CorsStep(ArmStep):
    """raks' CORS rules on the blob service. Rules with other origins (someone else's) are kept."""

    kind = "blob_service"
    key = "global/storage-cors"
    needs = (STORAGE,)
    tracked = False

    def __init__(self, rg: str, account: str) -> None:
        self.rg, self.account = rg, account
        self.title = f"blob CORS on {account}"

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, self.account)

    def body(self, ctx: Context) -> dict[str, Any]:
        return {"properties": {"cors": {"corsRules": _cors_rules(ctx)}}}

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        existing = {
            _origins(r): r for r in ((observed or {}).get("properties") or {}).get("cors", {}).get("corsRules") or []
        }
        missing = [r for r in desired["properties"]["cors"]["corsRules"] if not same(r, existing.get(_origins(r)))]
        if not missing:
            return Diff(NOOP)
        return Diff(CREATE if not existing else UPDATE, ["properties.cors.corsRules"])

    def owner(self, ctx: Context) -> tuple[str, tuple[str, ...]] | None:
        return ("storage_account", (self.rg, self.account))

    def delete(self, ctx: Context, observed: dict[str, Any]) -> str:
        """Remove raks' rules (matched by origins, as `up` matches them); keep everyone else's."""
        mine = {_origins(r) for r in _cors_rules(ctx)}
        rules = (observed.get("properties") or {}).get("cors", {}).get("corsRules") or []
        theirs = [r for r in rules if _origins(r) not in mine]
        if len(theirs) == len(rules):
            return ABSENT
        if not ctx.plan:
            ctx.azure.put(self.kind, *self.path(ctx), body={"properties": {"cors": {"corsRules": theirs}}})
        return f"{DELETED}: raks' rules" + (f" ({len(theirs)} other rules kept)" if theirs else "")

    def write_body(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> dict[str, Any]:
        ours = desired["properties"]["cors"]["corsRules"]
        mine = {_origins(r) for r in ours}
        theirs = [
            r
            for r in ((observed or {}).get("properties") or {}).get("cors", {}).get("corsRules") or []
            if _origins(r) not in mine
        ]
        return {"properties": {"cors": {"corsRules": theirs + ours}}}


class ContainerStep(ArmStep):
    kind = "container"
    key = "global/storage-container"
    needs = (STORAGE,)
    tracked = False
    owned = ("properties.publicAccess",)

    def __init__(self, rg: str, account: str, container: str) -> None:
        self.rg, self.account, self.container = rg, account, container
        self.title = f"container {container}"

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, self.account, self.container)

    def body(self, ctx: Context) -> dict[str, Any]:
        return {"properties": {"publicAccess": "None"}}

    def owner(self, ctx: Context) -> tuple[str, tuple[str, ...]] | None:
        return ("storage_account", (self.rg, self.account))

    def delete(self, ctx: Context, observed: dict[str, Any]) -> str:
        if not ctx.delete_data:
            return f"{KEPT}: holds the data (raks down --delete-data removes it)"
        return super().delete(ctx, observed)

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        method = "create" if observed is None else "update"
        result = ctx.azure.call(self.kind, method, self.rg, self.account, self.container, desired)
        from raks.adapters.azure.arm import to_wire

        return to_wire(result)
