"""Subscription-level reads for preflight: providers, storage names, federated credentials, permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from raks.adapters.azure.arm import to_wire
from raks.adapters.azure.errors import AzureCallError, translate

if TYPE_CHECKING:
    from raks.adapters.azure.arm import Arm


def _not_found(exc: Exception, what: str) -> bool:
    """True for a 404; any other failure is raised as a raks error."""
    err = translate(exc, what=what)
    if isinstance(err, AzureCallError) and err.kind == "not_found":
        return True
    raise err from None


def provider_state(arm: Arm, namespace: str) -> str:
    """registrationState of a resource provider (Registered, NotRegistered, Registering, ...)."""
    try:
        return str(to_wire(arm._client("resource").providers.get(namespace)).get("registrationState") or "")
    except Exception as exc:
        if _not_found(exc, f"read provider {namespace}"):
            return "NotFound"
        raise


def storage_account(arm: Arm, rg: str, name: str) -> dict[str, Any] | None:
    return arm.get("storage_account", rg, name)


def storage_name_available(arm: Arm, name: str) -> tuple[bool, str]:
    """(available, Azure's reason/message when not)."""
    from azure.mgmt.storage.models import StorageAccountCheckNameAvailabilityParameters

    try:
        result = to_wire(
            arm._client("storage").storage_accounts.check_name_availability(
                StorageAccountCheckNameAvailabilityParameters(name=name)
            )
        )
    except Exception as exc:
        raise translate(exc, what=f"check storage account name {name}") from None
    reason = str(result.get("message") or result.get("reason") or "")
    return bool(result.get("nameAvailable")), reason


def federated_credential_names(arm: Arm, rg: str, identity: str) -> list[str]:
    """Names of the identity's federated credentials; [] when the identity does not exist yet."""
    try:
        return [str(to_wire(f).get("name")) for f in arm.ops("federated_credential").list(rg, identity)]
    except Exception as exc:
        if _not_found(exc, f"list federated credentials of {identity}"):
            return []
        raise


@dataclass(frozen=True)
class Permission:
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]


class PermissionsUnavailable(Exception):
    """The permissions API could not answer for this scope (e.g. an emulator, or no group yet)."""


def permissions(arm: Arm, rg: str) -> list[Permission]:
    """What the caller may do on the resource group (Microsoft.Authorization/permissions)."""
    try:
        items = [to_wire(p) for p in arm._client("auth").permissions.list_for_resource_group(rg)]
    except Exception as exc:
        err = translate(exc, what=f"read permissions on {rg}")
        if isinstance(err, AzureCallError) and err.status in (400, 404):
            raise PermissionsUnavailable(f"{err.code or err.status}") from None
        raise err from None
    return [
        Permission(tuple(p.get("actions") or ()), tuple(p.get("notActions") or p.get("not_actions") or ()))
        for p in items
    ]
