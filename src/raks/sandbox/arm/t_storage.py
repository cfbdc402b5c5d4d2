"""Microsoft.Storage: accounts (global names, listKeys, endpoints), blob service CORS, containers.

Facts modelled (azure-facts.md §0): account create answers 202 + Location and the monitor's
final answer is the account; blob service properties PUT answers 200 only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import TYPE_CHECKING, Any

from raks.sandbox.arm import ids
from raks.sandbox.arm.base import ResourceType, base_resource, deep_merge
from raks.sandbox.arm.errors import ArmError
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi

ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")


def _taken_elsewhere(api: ArmApi, name: str, rid: str | None) -> bool:
    """A storage account name is global: taken by another subscription or another group."""
    reserved = {n.lower() for n in api.world.state.setdefault("capacity", {}).get("_taken_storage_names", [])}
    if name.lower() in reserved:
        return True
    for res in api.store.values():
        same_name = res["type"] == StorageAccounts.type and res["name"].lower() == name.lower()
        if same_name and (rid is None or ids.key(res["id"]) != ids.key(rid)):
            return True
    return False


def ensure_blob_service(api: ArmApi, account: dict[str, Any]) -> None:
    """An account always has its `default` blob service (Azure creates it with the account)."""
    rid = f"{account['id']}/blobServices/default"
    if api.get(rid) is None:
        api.put_raw(
            {
                "id": rid,
                "name": "default",
                "type": "Microsoft.Storage/storageAccounts/blobServices",
                "properties": {"cors": {"corsRules": []}},
                "sku": account.get("sku"),
            }
        )


class StorageAccounts(ResourceType):
    type = "Microsoft.Storage/storageAccounts"
    put_lro = "location"
    latency = "storage.create"
    patchable = True

    def put_mode(self, created: bool) -> str:
        # Creating is a Location-polled operation; a PUT on an existing account answers 200 at once.
        return "location" if created else "sync"

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        name = res["name"]
        if not ACCOUNT_NAME.match(name):
            raise ArmError(
                400,
                "AccountNameInvalid",
                f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 "
                "characters in length and use numbers and lower-case letters only.",
            )
        if existing is None and _taken_elsewhere(api, name, rid):
            raise ArmError(409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")
        sku = body.get("sku") or (existing or {}).get("sku")
        if not sku or not sku.get("name"):
            raise ArmError(400, "InvalidRequestContent", "The sku property is required.")
        res["sku"] = {"name": sku["name"], "tier": "Premium" if sku["name"].startswith("Premium") else "Standard"}
        res["kind"] = body.get("kind") or (existing or {}).get("kind") or "StorageV2"
        p = dict((existing or {}).get("properties") or {})
        deep_merge(p, body.get("properties") or {})
        p.setdefault("supportsHttpsTrafficOnly", True)
        p.setdefault("minimumTlsVersion", "TLS1_0")
        p.setdefault("allowBlobPublicAccess", False)
        p.setdefault("accessTier", "Hot")
        p.pop("primaryEndpoints", None)
        res["properties"] = p
        return res

    def view(self, api: ArmApi, res: dict[str, Any]) -> dict[str, Any]:
        out = super().view(api, res)
        name = res["name"]
        p = out["properties"]
        p["primaryEndpoints"] = {
            kind: f"https://{name}.{kind}.core.windows.net/"
            for kind in ("blob", "queue", "table", "file", "dfs", "web")
        }
        p["primaryLocation"] = res["location"]
        p["statusOfPrimary"] = "available"
        return out

    def patch(self, api: ArmApi, res: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        merged = super().patch(api, res, body)
        merged["properties"].pop("primaryEndpoints", None)
        return merged

    def on_ready(self, api: ArmApi, res: dict[str, Any], created: bool) -> None:
        ensure_blob_service(api, res)

    def on_deleted(self, api: ArmApi, res: dict[str, Any]) -> None:
        from raks.sandbox import blobs

        blobs.drop(api.world.state, res["name"])


def _keys(api: ArmApi, res: dict[str, Any], req: Request) -> Response:
    def key(n: int) -> str:
        digest = hashlib.sha512(f"{res['id'].lower()}:{n}:{api.world.subscription_id}".encode()).digest()
        return base64.b64encode(digest).decode()

    return Response(
        200,
        {"keys": [{"keyName": f"key{n}", "value": key(n), "permissions": "FULL"} for n in (1, 2)]},
    )


StorageAccounts.actions = {"listKeys": _keys}


class BlobServices(ResourceType):
    """`blobServices/default`: exists with its account; PUT answers 200 (the SDK accepts only 200)."""

    type = "Microsoft.Storage/storageAccounts/blobServices"
    tracked = False
    has_provisioning_state = False
    created_status = 200

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        if res["name"] != "default":
            raise ArmError(400, "InvalidResourceName", "The blob service name must be 'default'.")
        p = dict((existing or {}).get("properties") or {})
        p.update(body.get("properties") or {})
        p.setdefault("cors", {"corsRules": []})
        res["properties"] = p
        res["sku"] = (api.get(ids.parent_id(rid)) or {}).get("sku")
        return res


class Containers(ResourceType):
    type = "Microsoft.Storage/storageAccounts/blobServices/containers"
    tracked = False
    has_provisioning_state = False
    patchable = True

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        name = res["name"]
        if not re.match(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", name):
            raise ArmError(400, "ContainerOperationFailure", "The specified resource name contains invalid characters.")
        p = dict((existing or {}).get("properties") or {})
        p.update(body.get("properties") or {})
        p.setdefault("publicAccess", "None")
        account = api.get(ids.parent_id(ids.parent_id(rid))) or {}
        if p.get("publicAccess") not in (None, "None") and not account.get("properties", {}).get(
            "allowBlobPublicAccess"
        ):
            raise ArmError(409, "PublicAccessNotPermitted", "Public access is not permitted on this storage account.")
        p["hasLegalHold"] = False
        p["hasImmutabilityPolicy"] = False
        res["properties"] = p
        return res

    def on_deleted(self, api: ArmApi, res: dict[str, Any]) -> None:
        from raks.sandbox import blobs

        account = ids.segments(res["id"])[-5]  # .../storageAccounts/{a}/blobServices/default/containers/{c}
        blobs.drop(api.world.state, account, res["name"])


def check_name_availability(api: ArmApi, req: Request) -> Response:
    body = req.json() or {}
    name = str(body.get("name") or "")
    if not ACCOUNT_NAME.match(name):
        return Response(
            200,
            {
                "nameAvailable": False,
                "reason": "AccountNameInvalid",
                "message": f"{name} is not a valid storage account name. Storage account name must be between 3 "
                "and 24 characters in length and use numbers and lower-case letters only.",
            },
        )
    if _taken_elsewhere(api, name, None):
        return Response(
            200,
            {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": f"The storage account named {name} is already taken.",
            },
        )
    return Response(200, {"nameAvailable": True})


TYPES: list[ResourceType] = [StorageAccounts(), BlobServices(), Containers()]
