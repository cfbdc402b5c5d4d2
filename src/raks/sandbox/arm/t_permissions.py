"""Microsoft.Authorization/permissions: what the caller may do at a scope.

REST: "Permissions - List For Resource Group" / "List For Resource" (learn.microsoft.com/rest/api/
authorization/permissions; operation AzurePermissionsForResourceGroup_List, api-version 2022-04-01,
`GET {scope}/providers/Microsoft.Authorization/permissions`): "Gets all permissions the caller has",
one entry (actions, notActions, dataActions, notDataActions) per role the caller holds there.

The sandbox's caller (the static sandbox token) is Owner of the subscription, whose built-in role
definition is actions ["*"] and no notActions ("Azure built-in roles", Owner,
8e3af657-a8ff-443c-a75c-2fe8c4bcb635). A group that does not exist is 404 ResourceGroupNotFound
for a caller with access at the scope (ARM's answer to an Owner; Azure/azure-powershell#12115).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from raks.sandbox.arm import ids
from raks.sandbox.arm.errors import rg_not_found
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi

OWNER = {"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}


def list_permissions(api: ArmApi, req: Request, rp: ids.ResourcePath) -> Response:
    rg = rp.resource_group
    if rg is not None and api.get(ids.canonical_scope(rp.scope[:4])) is None:
        raise rg_not_found(rg)
    return Response(200, {"value": [dict(OWNER)]})
