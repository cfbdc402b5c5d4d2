"""Microsoft.ManagedIdentity: user-assigned identities and their federated identity credentials.

Facts modelled (azure-facts.md §2): at most 20 credentials per identity; concurrent writes to
credentials of one identity fail with 409
ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity (the identity id in the
message is lower-cased); one issuer+subject pair per identity; exactly one audience.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from raks.sandbox.arm import ids
from raks.sandbox.arm.base import ResourceType, base_resource, new_guid
from raks.sandbox.arm.errors import ArmError

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi

FIC_LIMIT = 20
# How long one credential write holds its identity. Writes that overlap this window conflict,
# as Azure's concurrency detection does; a client writing one at a time never sees it.
FIC_WRITE_SECONDS = 0.05


class Identities(ResourceType):
    type = "Microsoft.ManagedIdentity/userAssignedIdentities"
    has_provisioning_state = False
    patchable = True

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        old = (existing or {}).get("properties") or {}
        # principalId/clientId/tenantId are read-only and stable for the identity's lifetime.
        res["properties"] = {
            "tenantId": old.get("tenantId") or api.world.tenant_id,
            "principalId": old.get("principalId") or new_guid(),
            "clientId": old.get("clientId") or new_guid(),
            "isolationScope": (body.get("properties") or {}).get("isolationScope", old.get("isolationScope", "None")),
        }
        return res


class FederatedCredentials(ResourceType):
    type = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
    tracked = False
    has_provisioning_state = False

    def check_write(self, api: ArmApi, rid: str, existing: dict[str, Any] | None) -> None:
        identity_id = ids.parent_id(rid)
        busy = api.world.state.setdefault("fic_busy", {})
        now = api.world.now()
        if busy.get(ids.key(identity_id), 0.0) > now:
            raise ArmError(
                409,
                "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
                f"Too many Federated Identity Credentials are written concurrently for the managed identity "
                f"'{identity_id.lower()}'. Concurrent Federated Identity Credentials writes under the same "
                "managed identity are not supported.",
            )
        busy[ids.key(identity_id)] = now + FIC_WRITE_SECONDS
        api.world.hold_response(FIC_WRITE_SECONDS)

    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        res = base_resource(self, rid, body, existing)
        p = body.get("properties") or {}
        name = res["name"]
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$", name):
            raise ArmError(400, "BadRequest", f"Federated Identity Credential name '{name}' is invalid.")
        audiences = p.get("audiences") or []
        if len(audiences) != 1:
            raise ArmError(400, "BadRequest", "Federated identity credentials must have exactly one audience.")
        issuer, subject = p.get("issuer") or "", p.get("subject") or ""
        if not issuer or not subject or len(issuer) > 600 or len(subject) > 600:
            raise ArmError(400, "BadRequest", "Issuer and subject are required (at most 600 characters each).")
        siblings = [s for s in api.children(ids.parent_id(rid), self.type) if ids.key(s["id"]) != ids.key(rid)]
        for s in siblings:
            sp = s.get("properties") or {}
            if sp.get("issuer") == issuer and sp.get("subject") == subject:
                raise ArmError(
                    400, "BadRequest", "Issuer and subject combination already exists for this Managed Identity."
                )
        if existing is None and len(siblings) >= FIC_LIMIT:
            raise ArmError(
                400,
                "BadRequest",
                f"The managed identity already has the maximum of {FIC_LIMIT} federated identity credentials.",
            )
        res["properties"] = {"issuer": issuer, "subject": subject, "audiences": list(audiences)}
        return res


TYPES: list[ResourceType] = [Identities(), FederatedCredentials()]
