"""Built-in Azure role definitions with their permissions, and the permission check ARM makes.

Permissions are copied from "Azure built-in roles" (learn.microsoft.com/azure/role-based-access-control/
built-in-roles; MicrosoftDocs/azure-docs `articles/role-based-access-control/built-in-roles/privileged.md`,
`networking.md`, `storage.md`, `identity.md`, `general.md`). An action is granted when one of the role's
`actions` matches it (`*` is a wildcard, case-insensitive) and none of its `notActions` does
("Understand Azure role definitions", role-definitions.md: "NotActions ... subtracted from Actions").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from raks.sandbox.world import World

JOIN_SUBNET = "Microsoft.Network/virtualNetworks/subnets/join/action"
ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()
    scopes: tuple[str, ...] = field(default=("/",))


_BLOB = "Microsoft.Storage/storageAccounts/blobServices"
_COMMON = (
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
)

BUILT_IN: dict[str, Role] = {
    # privileged.md
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": Role(
        "Owner",
        "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        ("*",),
    ),
    "b24988ac-6180-42a0-ab88-20f7382dd24c": Role(
        "Contributor",
        "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage "
        "assignments in Azure Blueprints, or share image galleries.",
        ("*",),
        (
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ),
    ),
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": Role(
        "User Access Administrator",
        "Lets you manage user access to Azure resources.",
        ("*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"),
    ),
    # general.md
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": Role(
        "Reader", "View all resources, but does not allow you to make any changes.", ("*/read",)
    ),
    # networking.md
    "4d97b98b-1d4f-4787-a291-c67834d212e7": Role(
        "Network Contributor",
        "Lets you manage networks, but not access to them.",
        (
            *_COMMON,
            "Microsoft.Network/*",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
        ),
    ),
    # identity.md
    "f1a07417-d97a-45cb-824c-7a7467783830": Role(
        "Managed Identity Operator",
        "Read and Assign User Assigned Identity",
        (
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
            *_COMMON,
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Support/*",
        ),
    ),
    # storage.md
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": Role(
        "Storage Account Contributor",
        "Permits management of storage accounts. Provides access to the account key, which can be used to access "
        "data via Shared Key authorization.",
        (
            *_COMMON,
            "Microsoft.Insights/diagnosticSettings/*",
            "Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Storage/storageAccounts/*",
            "Microsoft.Support/*",
        ),
    ),
    "81a9662b-bebf-436f-a333-f67b29880f12": Role(
        "Storage Account Key Operator Service Role",
        "Permits listing and regenerating storage account access keys.",
        ("Microsoft.Storage/storageAccounts/listkeys/action", "Microsoft.Storage/storageAccounts/regeneratekey/action"),
    ),
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": Role(
        "Storage Blob Data Contributor",
        "Read, write, and delete Azure Storage containers and blobs.",
        (
            f"{_BLOB}/containers/delete",
            f"{_BLOB}/containers/read",
            f"{_BLOB}/containers/write",
            f"{_BLOB}/generateUserDelegationKey/action",
        ),
        data_actions=(
            f"{_BLOB}/containers/blobs/delete",
            f"{_BLOB}/containers/blobs/read",
            f"{_BLOB}/containers/blobs/write",
            f"{_BLOB}/containers/blobs/move/action",
            f"{_BLOB}/containers/blobs/add/action",
        ),
    ),
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": Role(
        "Storage Blob Data Reader",
        "Read and list Azure Storage containers and blobs.",
        (f"{_BLOB}/containers/read", f"{_BLOB}/generateUserDelegationKey/action"),
        data_actions=(f"{_BLOB}/containers/blobs/read",),
    ),
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": Role(
        "Storage Blob Data Owner",
        "Provides full access to Azure Storage blob containers and data, including assigning POSIX access control.",
        (f"{_BLOB}/containers/*", f"{_BLOB}/generateUserDelegationKey/action"),
        data_actions=(f"{_BLOB}/containers/blobs/*",),
    ),
}


def definition(subscription: str | None, guid: str) -> dict[str, Any]:
    """A built-in role as ARM serves it. Whatever scope it is read at, the id is the subscription-level
    one (`az role definition list --scope <rg>` prints `/subscriptions/{sub}/providers/...`, see
    role-definitions-list.md), and the tenant-level one (`/providers/...`) outside a subscription."""
    role = BUILT_IN[guid]
    prefix = f"/subscriptions/{subscription}" if subscription else ""
    return {
        "id": f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": list(role.scopes),
            "permissions": [
                {
                    "actions": list(role.actions),
                    "notActions": list(role.not_actions),
                    "dataActions": list(role.data_actions),
                    "notDataActions": list(role.not_data_actions),
                }
            ],
        },
    }


def _matches(pattern: str, action: str) -> bool:
    regex = "^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$"
    return re.match(regex, action, re.IGNORECASE) is not None


def grants(role: Role, action: str) -> bool:
    return any(_matches(a, action) for a in role.actions) and not any(_matches(n, action) for n in role.not_actions)


def _covers(scope: str, target: str) -> bool:
    """An assignment at `scope` applies to `target` and everything below it (ARM scopes inherit)."""
    s, t = scope.lower().rstrip("/"), target.lower().rstrip("/")
    return s == "" or t == s or t.startswith(s + "/")


def may(world: World, principal_id: str, action: str, scope: str) -> bool:
    """Whether the principal holds, at `scope` or any parent scope, a role that grants `action`."""
    for res in world.state["arm"].values():
        if res.get("type") != ASSIGNMENT_TYPE:
            continue
        p = res.get("properties") or {}
        if str(p.get("principalId", "")).lower() != principal_id.lower() or not _covers(p.get("scope", ""), scope):
            continue
        role = BUILT_IN.get(str(p.get("roleDefinitionId", "")).rstrip("/").split("/")[-1].lower())
        if role is not None and grants(role, action):
            return True
    return False


def may_join_subnet(world: World, principal_id: str, subnet_id: str) -> bool:
    """`Microsoft.Network/virtualNetworks/subnets/join/action` on the subnet, the check behind ARM's
    LinkedAuthorizationFailed when a VMSS or NIC is attached to it."""
    return may(world, principal_id, JOIN_SUBNET, subnet_id)
