"""Preflight rows about the subscription: providers, storage name, federated credentials, permissions."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

from raks import names
from raks.adapters.azure.providers import Permission, PermissionsUnavailable, federated_credential_names, permissions
from raks.config import RaksConfig
from raks.engine.preflight.rows import FAIL, OK, WARN, Row

if TYPE_CHECKING:
    from raks.adapters.azure.arm import Arm

GLOBAL = "global"
PROVIDERS = (
    "Microsoft.ContainerService",
    "Microsoft.Network",
    "Microsoft.Storage",
    "Microsoft.ManagedIdentity",
    "Microsoft.Authorization",
)
FIC_LIMIT = 20  # federated credentials per user-assigned identity (azure-facts.md §2)
# What `up` writes in the resource group; Contributor alone lacks the role assignment.
REQUIRED_ACTIONS = (
    "Microsoft.Resources/subscriptions/resourceGroups/write",
    "Microsoft.ManagedIdentity/userAssignedIdentities/write",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
    "Microsoft.Storage/storageAccounts/write",
    "Microsoft.Network/virtualNetworks/write",
    "Microsoft.Network/natGateways/write",
    "Microsoft.Network/publicIPAddresses/write",
    "Microsoft.Network/networkSecurityGroups/write",
    "Microsoft.ContainerService/managedClusters/write",
    "Microsoft.ContainerService/managedClusters/agentPools/write",
    "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
    "Microsoft.Authorization/roleAssignments/write",
)


def provider_row(namespace: str, state: str) -> Row:
    check = f"provider {namespace}"
    if state == "Registered":
        return Row(GLOBAL, check, OK, "Registered")
    if state == "Registering":
        return Row(GLOBAL, check, WARN, "Registering", "wait a few minutes for the registration to finish")
    return Row(
        GLOBAL,
        check,
        FAIL,
        f"{namespace} is {state or 'not registered'} in this subscription",
        f"az provider register --namespace {namespace}",
    )


def storage_row(cfg: RaksConfig, name: str, existing: dict[str, Any] | None, availability: tuple[bool, str]) -> Row:
    """The account is ours already, or its name is free to take (names are global across Azure).
    Both answers are read at once, so this costs one round trip."""
    rg = cfg.resolved_resource_group()
    check = f"storage account {name}"
    if existing is not None:
        if names.is_ours(existing.get("tags"), cfg):
            return Row(GLOBAL, check, OK, f"exists in {rg} and is ours (reused)")
        return Row(
            GLOBAL,
            check,
            FAIL,
            f"{name} exists in {rg} but is not managed by raks deployment '{cfg.deployment}'",
            "set storage.account to another name, or tag or delete the existing account",
        )
    available, reason = availability
    if available:
        return Row(GLOBAL, check, OK, "name available")
    return Row(
        GLOBAL, check, FAIL, f"name {name} is taken: {reason}", "set storage.account in raks.yaml to another name"
    )


def fic_row(cfg: RaksConfig, arm: Arm, regions: list[str]) -> Row:
    identity = cfg.resolved_identity_name()
    existing = set(federated_credential_names(arm, cfg.resolved_resource_group(), identity))
    ours = {names.region_names(cfg, r).federated_credential for r in regions}
    new = ours - existing
    total = len(existing) + len(new)
    figure = f"{len(existing)} existing ({len(existing & ours)} reused) + {len(new)} new = {total} of {FIC_LIMIT}"
    if total > FIC_LIMIT:
        return Row(
            GLOBAL,
            "federated credentials",
            FAIL,
            f"identity {identity}: {figure}",
            f"remove unused credentials (az identity federated-credential list -g "
            f"{cfg.resolved_resource_group()} --identity-name {identity}) or deploy fewer regions",
        )
    return Row(GLOBAL, "federated credentials", OK, f"identity {identity}: {figure}")


def allowed(action: str, perms: list[Permission]) -> bool:
    """Azure's rule: some permission grants the action and does not exclude it (wildcards allowed)."""
    a = action.lower()

    def hit(patterns: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatchcase(a, p.lower()) for p in patterns)

    return any(hit(p.actions) and not hit(p.not_actions) for p in perms)


def permissions_row(cfg: RaksConfig, arm: Arm) -> Row:
    rg = cfg.resolved_resource_group()
    check = "permissions"
    try:
        perms = permissions(arm, rg)
    except PermissionsUnavailable as exc:
        return Row(
            GLOBAL,
            check,
            WARN,
            f"not checked: the permissions API did not answer for {rg} ({exc})",
            "the first write will tell; raks needs Contributor and User Access Administrator (or Owner)",
        )
    missing = [a for a in REQUIRED_ACTIONS if not allowed(a, perms)]
    if missing:
        return Row(
            GLOBAL,
            check,
            FAIL,
            f"the caller may not {', '.join(missing)} on {rg}",
            "grant Contributor and User Access Administrator (or Owner) on the resource group or subscription",
        )
    return Row(GLOBAL, check, OK, f"the caller may do everything up needs on {rg}")
