"""Microsoft.Authorization: built-in role definitions and role assignments (extension resources).

Facts modelled (azure-facts.md §3): built-in role definitions with their permissions (roles.py)
served at every scope with subscription-level ids; names are GUIDs; the same scope + role + principal under
another name is 409 RoleAssignmentExists; changing principal/role/scope of an existing name is
400 RoleAssignmentUpdateNotPermitted; without principalType a just-created principal may not be
found yet (tests inject PrincipalNotFound with a fault rule).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from raks.sandbox.arm import ids, roles
from raks.sandbox.arm.base import ResourceType, base_resource
from raks.sandbox.arm.errors import ArmError
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def list_role_definitions(api: ArmApi, req: Request, rp: ids.ResourcePath) -> Response:
    """Built-in roles are listed at every scope (subscription, group, resource) with their
    subscription-level ids; `$filter=roleName eq '...'` picks one (Role Definitions - List)."""
    flt = req.q("$filter") or ""
    wanted = re.search(r"roleName eq '([^']*)'", flt, re.IGNORECASE)
    items = [
        roles.definition(rp.subscription, g)
        for g, role in roles.BUILT_IN.items()
        if not wanted or role.name.lower() == wanted.group(1).lower()
    ]
    return Response(200, {"value": items})


def get_role_definition(api: ArmApi, rp: ids.ResourcePath) -> Response:
    guid = rp.pairs[0][1].lower()
    if guid not in roles.BUILT_IN:
        raise ArmError(
            404, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{guid}' does not exist."
        )
    return Response(200, roles.definition(rp.subscription, guid))


class RoleAssignments(ResourceType):
    type = "Microsoft.Authorization/roleAssignments"
    tracked = False
    has_provisioning_state = False

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        name = res["name"]
        if not GUID.match(name):
            raise ArmError(
                400,
                "InvalidRoleAssignmentId",
                f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
            )
        p = body.get("properties") or {}
        role_id = str(p.get("roleDefinitionId") or "")
        principal = str(p.get("principalId") or "")
        if role_id.rstrip("/").split("/")[-1].lower() not in roles.BUILT_IN:
            raise ArmError(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{role_id.split('/')[-1]}' does not exist.",
            )
        if not GUID.match(principal):
            raise ArmError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
        scope = rid[: rid.lower().rindex("/providers/microsoft.authorization/")]
        if existing is not None:
            ep = existing["properties"]
            if (ep["principalId"], ep["roleDefinitionId"].lower(), ep["scope"].lower()) != (
                principal,
                role_id.lower(),
                scope.lower(),
            ):
                raise ArmError(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                )
        for other in api.store.values():
            if other["type"] != self.type or ids.key(other["id"]) == ids.key(rid):
                continue
            op = other["properties"]
            if (
                op["principalId"] == principal
                and op["roleDefinitionId"].split("/")[-1].lower() == role_id.split("/")[-1].lower()
                and op["scope"].lower() == scope.lower()
            ):
                raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")
        res["properties"] = {
            "roleDefinitionId": role_id,
            "principalId": principal,
            "principalType": p.get("principalType") or "User",
            "scope": scope,
            "description": p.get("description"),
            "createdOn": (existing or {}).get("properties", {}).get("createdOn") or _now(api),
            "updatedOn": _now(api),
        }
        return res


def _now(api: ArmApi) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(api.world.now(), dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def list_role_assignments(api: ArmApi, req: Request, rp: ids.ResourcePath) -> Response:
    """List For Scope: assignments at, above and below the scope; atScope() = at or above."""
    scope = ids.key(ids.canonical_scope(rp.scope))
    flt = req.q("$filter") or ""
    at_scope = "atscope()" in flt.lower()
    principal = re.search(r"principalId eq '([^']*)'", flt)
    out = []
    for res in api.store.values():
        if res["type"] != RoleAssignments.type:
            continue
        s = res["properties"]["scope"].lower()
        above = scope == s or scope.startswith(s + "/") or s == ""
        below = s.startswith(scope + "/")
        if not (above or (below and not at_scope)):
            continue
        if principal and res["properties"]["principalId"] != principal.group(1):
            continue
        out.append(api.view(res))
    return Response(200, {"value": out})


TYPES: list[ResourceType] = [RoleAssignments()]
