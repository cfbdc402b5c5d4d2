"""Microsoft.Resources: subscriptions, resource groups, generic resource lists, providers.

- Resource lists: `$filter` as ARM parses it (tags, resourceGroup, resourceType, location, name,
  substringof), tags left out of tag-filtered resource lists, unknown filters 400
  InvalidFilterInQueryString, no child or extension resources (role assignments) in the list.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from raks.sandbox import catalog
from raks.sandbox.arm import ids
from raks.sandbox.arm.base import ResourceType, base_resource
from raks.sandbox.arm.errors import ArmError
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi


class ResourceGroups(ResourceType):
    """PUT is synchronous; DELETE is a Location-polled operation that removes everything inside."""

    type = "Microsoft.Resources/resourceGroups"
    put_lro = "sync"
    delete_lro = "location"
    delete_latency = "resourcegroup.delete"
    patchable = True

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        res["properties"] = {}
        if existing and existing.get("managedBy"):
            res["managedBy"] = existing["managedBy"]
        elif body.get("managedBy"):
            res["managedBy"] = body["managedBy"]
        return res


TYPES: list[ResourceType] = [ResourceGroups()]


def list_subscriptions(api: ArmApi) -> Response:
    return Response(200, {"value": [_subscription(api)]})


def get_subscription(api: ArmApi) -> Response:
    return Response(200, _subscription(api))


def _subscription(api: ArmApi) -> dict[str, Any]:
    sub = api.world.subscription_id
    return {
        "id": f"/subscriptions/{sub}",
        "subscriptionId": sub,
        "tenantId": api.world.tenant_id,
        "displayName": "raks sandbox subscription",
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01"},
        "authorizationSource": "RoleBased",
    }


def list_groups(api: ArmApi, req: Request) -> Response:
    """Resource Groups - List: `$filter` accepts only tag filters (azure-rest-api-specs#3853, "supports
    filtering on tags only"), anything else is 400 InvalidFilterInQueryString
    (Azure/azure-sdk-for-go#2480). The docs say nothing of dropping tags here, so groups keep theirs."""
    clauses = parse_filter(req.q("$filter"), GROUP_FILTERS)
    items = [api.view(r) for r in api.store.values() if r["type"].lower() == "microsoft.resources/resourcegroups"]
    return Response(200, {"value": [i for i in items if _matches(i, clauses)]})


def list_resources(api: ArmApi, req: Request, rg: str | None) -> Response:
    """Resources - List / List By Resource Group (learn.microsoft.com/rest/api/resources/resources/list).

    - Only resources ARM tracks in resource groups: child resources (subnets, agent pools, federated
      credentials) and extension resources (role assignments, even at group scope) are not listed.
    - `$filter`: `tagName eq 'k' [and tagValue eq 'v']`, `resourceGroup`, `resourceType`, `location`,
      `name eq`, `substringof('x', name|resourceGroup)`, joined by `and`; the keywords are
      case-insensitive. "When resources are filtered by tag name and value, the original tags for each
      resource will not be returned in the results" (ResourcesListOptionalParams.filter). Any other
      filter is 400 InvalidFilterInQueryString.
    - A node resource group (`MC_…`, `managedBy` its cluster) and what is in it are listed like any
      other group's, as ARM does: AKS copies the cluster's tags onto them (azure-facts.md §0), so a
      subscription-wide tag search finds them and a client must skip them by `managedBy` itself.
    """
    sub = api.world.subscription_id
    clauses = parse_filter(req.q("$filter"), RESOURCE_FILTERS)
    if rg is not None:
        if api.get(f"/subscriptions/{sub}/resourceGroups/{rg}") is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        prefix = ids.key(f"/subscriptions/{sub}/resourceGroups/{rg}") + "/"
    else:
        prefix = ids.key(f"/subscriptions/{sub}") + "/"
    items = []
    for k, res in sorted(api.store.items()):
        rel = ids.segments(k)
        top_level = len(rel) == 8 and rel[2] == "resourcegroups" and rel[4] == "providers"
        if not k.startswith(prefix) or not top_level or rel[5] == "microsoft.authorization":
            continue
        item = {
            "id": res["id"],
            "name": res["name"],
            "type": res["type"],
            "location": res.get("location"),
            "tags": res.get("tags") or {},
            **{key: res[key] for key in ("sku", "kind", "identity", "managedBy") if res.get(key)},
        }
        if _matches(item, clauses):
            items.append(item)
    keys = {c[0] for c in clauses}
    if {"tagname", "tagvalue"} <= keys:
        for item in items:
            item.pop("tags", None)
    return Response(200, {"value": items})


GROUP_FILTERS = frozenset({"tagname", "tagvalue"})
RESOURCE_FILTERS = frozenset({"tagname", "tagvalue", "resourcegroup", "resourcetype", "location", "name"})
_EQ = re.compile(r"\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)
_SUBSTRING = re.compile(r"\s*substringof\(\s*'((?:[^']|'')*)'\s*,\s*(name|resourceGroup)\s*\)\s*", re.IGNORECASE)
_AND = re.compile(r"and\b", re.IGNORECASE)


def parse_filter(flt: str | None, allowed: frozenset[str]) -> list[tuple[str, str, str]]:
    """`$filter` as (key, "eq"|"substringof", value) clauses joined by `and`; 400 for anything else."""
    if not flt:
        return []
    out: list[tuple[str, str, str]] = []
    pos = 0
    while True:
        eq = _EQ.match(flt, pos)
        sub = None if eq else _SUBSTRING.match(flt, pos)
        if eq and eq.group(1).lower() in allowed:
            out.append((eq.group(1).lower(), "eq", eq.group(2).replace("''", "'")))
            pos = eq.end()
        elif sub and "name" in allowed:
            out.append((sub.group(2).lower(), "substringof", sub.group(1).replace("''", "'")))
            pos = sub.end()
        else:
            break
        if pos == len(flt):
            keys = [c[0] for c in out]
            if "tagvalue" not in keys or "tagname" in keys:
                return out
            break
        joined = _AND.match(flt, pos)
        if joined is None:
            break
        pos = joined.end()
    raise ArmError(400, "InvalidFilterInQueryString", f"Invalid $filter '{flt}' specified in the query string.")


def _matches(item: dict[str, Any], clauses: list[tuple[str, str, str]]) -> bool:
    tags = {str(k).lower(): v for k, v in (item.get("tags") or {}).items()}
    wanted = dict((k, v) for k, op, v in clauses if op == "eq")
    if "tagname" in wanted:
        if wanted["tagname"].lower() not in tags:
            return False
        if "tagvalue" in wanted and tags[wanted["tagname"].lower()] != wanted["tagvalue"]:
            return False
    segs = ids.segments(item["id"])
    fields = {
        "resourcegroup": segs[3] if len(segs) > 3 else "",
        "resourcetype": item.get("type") or "",
        "location": item.get("location") or "",
        "name": item.get("name") or "",
    }
    for key, op, value in clauses:
        if key not in fields:
            continue
        if op == "eq" and fields[key].lower() != value.lower():
            return False
        if op == "substringof" and value.lower() not in fields[key].lower():
            return False
    return True


def _provider(api: ArmApi, namespace: str) -> dict[str, Any]:
    canonical = next((p for p in catalog.PROVIDERS if p.lower() == namespace.lower()), namespace)
    state = "NotRegistered" if canonical.lower() in catalog.unregistered_providers(api.world.state) else "Registered"
    return {
        "id": f"/subscriptions/{api.world.subscription_id}/providers/{canonical}",
        "namespace": canonical,
        "registrationState": state,
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [],
    }


def list_providers(api: ArmApi) -> Response:
    return Response(200, {"value": [_provider(api, p) for p in catalog.PROVIDERS]})


def get_provider(api: ArmApi, namespace: str) -> Response:
    if namespace.lower() not in {p.lower() for p in catalog.PROVIDERS}:
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
    return Response(200, _provider(api, namespace))


def register_provider(api: ArmApi, namespace: str) -> Response:
    unregistered = api.world.state.setdefault("capacity", {}).setdefault("_unregistered_providers", [])
    unregistered[:] = [p for p in unregistered if p.lower() != namespace.lower()]
    return Response(200, _provider(api, namespace))


def require_registered(api: ArmApi, namespace: str) -> None:
    if namespace.lower() in catalog.unregistered_providers(api.world.state):
        raise ArmError(
            409,
            "MissingSubscriptionRegistration",
            f"The subscription is not registered to use namespace '{namespace}'. See "
            "https://aka.ms/rps-not-found for how to register subscriptions.",
        )
