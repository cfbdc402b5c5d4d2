"""Role assignments raks makes: on the storage account, and on each region's node subnet.

Storage account:
- The shared identity gets Storage Blob Data Contributor. The BlobFuse2 StorageClass mounts with
  the blob CSI driver's `mountWithWorkloadIdentityToken: "true"` (token-only mode, "supported from
  v1.27.0", kubernetes-sigs/blob-csi-driver docs/workload-identity-static-pv-mount.md), in which no
  account key is fetched and that is the only role the identity needs. AKS ships blob CSI
  v1.27.9 on AKS 1.34 and later and v1.26.16 on AKS 1.33 (Azure/AKS CHANGELOG.md, release
  2026-08-07, Azure/AKS PR #5913). So on Kubernetes 1.34+ (the default) raks does not grant the
  "Storage Account Key Operator Service Role" the reference script adds; below 1.34 the driver
  cannot mount token-only and falls back to fetching the account key, so raks grants that role
  as the reference does (`key_operator_needed`).
- Each cluster's own identity gets Storage Account Contributor (what the driver's control plane
  needs for the account, as the reference does).

Node subnet (bring-your-own VNet): the cluster's control-plane identity needs Network Contributor
(at least `subnets/join/action` and `subnets/read`) on the subnet its nodes use, or
cloud-provider-azure fails with LinkedAuthorizationFailed and a LoadBalancer Service never gets
an address (AKS docs "aks-service-permissions"; Azure/AKS#27, #2673). `az aks create
--vnet-subnet-id` grants it to a system-assigned identity right after the create (azure-cli
acs/decorator.py `process_add_role_assignment_for_vnet_subnet`: "azure-cli will grant Network
Contributor role to the system assigned identity after the cluster is created", scope = the
subnet id); an SDK caller like raks must grant it itself.

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

# Built-in role ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
ROLE_IDS = {
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Account Contributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab",
    "Storage Account Key Operator Service Role": "81a9662b-bebf-436f-a333-f67b29880f12",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
}
# The first AKS minor whose blob CSI driver mounts token-only (v1.27.9 on AKS 1.34+, see above).
TOKEN_ONLY_MINOR = (1, 34)
_NS = uuid.UUID("6f0bbd0e-5d3c-4d6b-9a57-6a1a8c0b7a11")


def assignment_name(scope: str, principal: str, role: str) -> str:
    return str(uuid.uuid5(_NS, f"{scope.lower()}|{principal.lower()}|{role.lower()}"))


def key_operator_needed(kubernetes_version: str) -> bool:
    """True when AKS's blob CSI driver for this version cannot mount token-only (< 1.34)."""
    try:
        major, minor = (int(p) for p in kubernetes_version.split(".")[:2])
    except ValueError:
        return False  # validation reports a malformed version before any step runs
    return (major, minor) < TOKEN_ONLY_MINOR


def assignments_of(ctx: Context, kind: str, principal: str) -> list[dict[str, Any]]:
    """Every role assignment of a principal in the subscription, listed once per command
    (Role Assignments - List For Subscription, `$filter=principalId eq '{id}'`: at, above or
    below the subscription; learn.microsoft.com/rest/api/authorization/role-assignments/
    list-for-subscription)."""
    from raks.adapters.azure.arm import to_wire

    key = f"role-assignments:{principal.lower()}"
    with ctx.named_lock(key):
        if key not in ctx.extra:
            found = ctx.azure.call(kind, "list_for_subscription", filter=f"principalId eq '{principal}'")
            ctx.extra[key] = [to_wire(item) for item in found]
        listed: list[dict[str, Any]] = ctx.extra[key]
        return listed


def forget_assignments(ctx: Context, principal: Any) -> None:
    """After raks wrote or deleted one of the principal's assignments, the shared list is stale."""
    if isinstance(principal, str):
        key = f"role-assignments:{principal.lower()}"
        with ctx.named_lock(key):
            ctx.extra.pop(key, None)


class RoleAssignmentStep(ArmStep):
    kind = "role_assignment"
    tracked = False
    owned = ("properties.roleDefinitionId", "properties.principalId")

    def __init__(
        self,
        key: str,
        role: str,
        principal_step: str,
        principal_output: str,
        region: str | None = None,
        *,
        scope_step: str = STORAGE,
        scope_output: str = "id",
        scope_label: str = "",
    ) -> None:
        self.key, self.role, self.region = key, role, region
        self.principal_step, self.principal_output = principal_step, principal_output
        self.scope_step, self.scope_output = scope_step, scope_output
        self.needs = (scope_step, principal_step)
        who = "identity" if principal_step == IDENTITY else "cluster identity"
        self.title = f"{who} → {role}" + (f" on {scope_label}" if scope_label else "")

    def scope(self, ctx: Context) -> str:
        value = ctx.outputs.get(self.scope_step, {}).get(self.scope_output)
        if not isinstance(value, str) or not value:
            raise NeedsUnknown(self.key)  # the scope is not created yet: neither is the assignment
        return value

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
        """raks' assignment (its deterministic name), else the same access under another name
        (made by hand or by another tool), from one list of the principal's assignments that
        every role step of that principal shares (a region's two cluster grants: one read)."""
        scope, name = self.path(ctx)
        same_access = None
        for item in assignments_of(ctx, self.kind, self.principal(ctx)):
            p = item.get("properties") or {}
            if str(item.get("name", "")).lower() == name.lower() and str(p.get("scope", "")).lower() == scope.lower():
                return item
            if str(p.get("scope", "")).lower() == scope.lower() and str(p.get("roleDefinitionId", "")).lower().endswith(
                ROLE_IDS[self.role]
            ):
                same_access = item
        return same_access

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
        forget_assignments(ctx, self.principal(ctx))
        return result

    def delete(self, ctx: Context, observed: dict[str, Any]) -> str:
        outcome = super().delete(ctx, observed)
        if not ctx.plan:
            forget_assignments(ctx, self.principal(ctx))
        return outcome

    def destroy(self, ctx: Context) -> str:
        """Only the assignment under raks' deterministic name: the same access granted under
        another name (which observe also finds) is someone else's."""
        try:
            path = self.path(ctx)
        except NeedsUnknown:
            return ABSENT  # no principal: the identity or cluster is already gone
        found = ctx.azure.get(self.kind, *path)
        return ABSENT if found is None else self.delete(ctx, found)
