"""Role assignments on the storage account.

- The shared identity gets Storage Blob Data Contributor. With the blob CSI driver's
  `mountWithWorkloadIdentityToken: "true"` (token-only mode, driver v1.27+) that is the only role
  it needs: no account key is fetched, so neither Storage Account Contributor nor the "Storage
  Account Key Operator Service Role" the reference script adds is granted to it (blob-csi-driver
  docs/workload-identity-static-pv-mount.md; azure-facts.md §9).
- Each cluster's own identity gets Storage Account Contributor (what the driver's control plane
  needs for the account, as the reference does).
Names are deterministic GUIDs of (scope, principal, role), so a re-run finds its assignment.
principalType is always set: ARM then skips the directory lookup that fails while a new
identity replicates; a PrincipalNotFound that still happens is retried a few times.
"""

from __future__ import annotations

import uuid
from typing import Any

from raks.errors import CloudError
from raks.steps.arm_step import ArmStep
from raks.steps.base import ABSENT, UNKNOWN, Context, Diff, NeedsUnknown, retry_on_codes
from raks.steps.identity import IDENTITY
from raks.steps.storage import STORAGE

ROLE_IDS = {
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Account Contributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab",
}
_NS = uuid.UUID("6f0bbd0e-5d3c-4d6b-9a57-6a1a8c0b7a11")


def assignment_name(scope: str, principal: str, role: str) -> str:
    return str(uuid.uuid5(_NS, f"{scope.lower()}|{principal.lower()}|{role.lower()}"))


class RoleAssignmentStep(ArmStep):
    kind = "role_assignment"
    tracked = False
    owned = ("properties.roleDefinitionId", "properties.principalId")

    def __init__(
        self, key: str, role: str, principal_step: str, principal_output: str, region: str | None = None
    ) -> None:
        self.key, self.role, self.region = key, role, region
        self.principal_step, self.principal_output = principal_step, principal_output
        self.needs = (STORAGE, principal_step)
        who = "identity" if principal_step == IDENTITY else "cluster identity"
        self.title = f"{who} → {role}"

    def scope(self, ctx: Context) -> str:
        return str(ctx.outputs.get(STORAGE, {}).get("id") or UNKNOWN)

    def principal(self, ctx: Context) -> Any:
        return ctx.out(self.principal_step, self.principal_output)

    def role_definition_id(self, ctx: Context) -> str:
        return f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_IDS[self.role]}"

    def path(self, ctx: Context) -> tuple[str, ...]:
        principal = self.principal(ctx)
        if principal is UNKNOWN or principal is None:
            raise NeedsUnknown(self.key)
        scope = self.scope(ctx)
        return (scope, assignment_name(scope, principal, self.role))

    def body(self, ctx: Context) -> dict[str, Any]:
        return {
            "properties": {
                "roleDefinitionId": self.role_definition_id(ctx),
                "principalId": self.principal(ctx),
                "principalType": "ServicePrincipal",
            }
        }

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        found = super().observe(ctx)
        if found is not None:
            return found
        # The same access may exist under another name (made by hand or by another tool).
        scope, principal = self.scope(ctx), self.principal(ctx)
        from raks.adapters.azure.arm import to_wire

        for item in ctx.azure.call(self.kind, "list_for_scope", scope, filter=f"principalId eq '{principal}'"):
            p = to_wire(item).get("properties") or {}
            if str(p.get("scope", "")).lower() == scope.lower() and str(p.get("roleDefinitionId", "")).lower().endswith(
                ROLE_IDS[self.role]
            ):
                return to_wire(item)
        return None

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            try:
                return ctx.azure.put(self.kind, *self.path(ctx), body=desired)
            except CloudError as exc:
                if exc.code == "RoleAssignmentExists":
                    # Someone assigned the same role under another name: the access is there.
                    return {"properties": desired["properties"]}
                raise

        result: dict[str, Any] = retry_on_codes(create, {"PrincipalNotFound"}, attempts=6, delay=ctx.retry_delay)
        return result

    def destroy(self, ctx: Context) -> str:
        """Only the assignment under raks' deterministic name: the same access granted under
        another name (which observe also finds) is someone else's."""
        try:
            path = self.path(ctx)
        except NeedsUnknown:
            return ABSENT  # no principal: the identity or cluster is already gone
        found = ctx.azure.get(self.kind, *path)
        return ABSENT if found is None else self.delete(ctx, found)
