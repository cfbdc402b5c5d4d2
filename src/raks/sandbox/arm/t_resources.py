"""Microsoft.Resources: subscriptions, resource groups, generic resource lists, providers."""

from __future__ import annotations

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
    items = [api.view(r) for r in api.store.values() if r["type"].lower() == "microsoft.resources/resourcegroups"]
    return Response(200, {"value": _filter_tags(req, items)})


def list_resources(api: ArmApi, req: Request, rg: str | None) -> Response:
    """Resources (not groups) in the subscription or one group; `$filter` on tags is honoured."""
    sub = api.world.subscription_id
    if rg is not None:
        if api.get(f"/subscriptions/{sub}/resourceGroups/{rg}") is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        prefix = ids.key(f"/subscriptions/{sub}/resourceGroups/{rg}") + "/"
    else:
        prefix = ids.key(f"/subscriptions/{sub}") + "/"
    items = []
    for k, res in sorted(api.store.items()):
        if not k.startswith(prefix) or res["type"].lower() == "microsoft.resources/resourcegroups":
            continue
        # Top-level resources only, as ARM lists them (children such as subnets are not listed).
        rel = ids.segments(k)
        prov = [i for i, s in enumerate(rel) if s == "providers"]
        if not prov or len(rel) - prov[-1] != 4:
            continue
        items.append(
            {
                "id": res["id"],
                "name": res["name"],
                "type": res["type"],
                "location": res.get("location"),
                "tags": res.get("tags") or {},
                **({"managedBy": res["managedBy"]} if res.get("managedBy") else {}),
            }
        )
    return Response(200, {"value": _filter_tags(req, items)})


def _filter_tags(req: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`$filter=tagName eq 'k' and tagValue eq 'v'` (the form ARM supports for lists)."""
    flt = req.q("$filter")
    if not flt:
        return items
    import re

    name = re.search(r"tagName eq '([^']*)'", flt)
    value = re.search(r"tagValue eq '([^']*)'", flt)
    out = []
    for item in items:
        tags = {k.lower(): v for k, v in (item.get("tags") or {}).items()}
        if name and name.group(1).lower() not in tags:
            continue
        if name and value and tags.get(name.group(1).lower()) != value.group(1):
            continue
        out.append(item)
    return out


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
