"""One small door to ARM: get / put / delete a resource of a known kind, as wire-format dicts.

Steps speak the REST shape (`properties.addressSpace.addressPrefixes`), which is stable across
SDK versions; this adapter calls the typed SDK operation for the kind (the SDK does retries,
Retry-After and long-running-operation polling) and returns plain dicts. Wire-format dicts are
what the newer SDKs serialise as is, and what the older (msrest) ones accept too.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from raks.adapters.azure.errors import translate
from raks.adapters.azure.target import AzureTarget


@dataclass(frozen=True)
class Kind:
    client: str  # attribute of Arm naming the SDK client
    ops: str  # operations group on that client
    get: str = "get"
    put: str = "begin_create_or_update"
    delete: str = "begin_delete"
    label: str = ""


KINDS: dict[str, Kind] = {
    "resource_group": Kind("resource", "resource_groups", put="create_or_update", label="resource group"),
    "identity": Kind("msi", "user_assigned_identities", put="create_or_update", delete="delete", label="identity"),
    "federated_credential": Kind(
        "msi", "federated_identity_credentials", put="create_or_update", delete="delete", label="federated credential"
    ),
    "storage_account": Kind(
        "storage",
        "storage_accounts",
        get="get_properties",
        put="begin_create",
        delete="delete",
        label="storage account",
    ),
    "blob_service": Kind(
        "storage",
        "blob_services",
        get="get_service_properties",
        put="set_service_properties",
        delete="",
        label="blob service",
    ),
    "container": Kind("storage", "blob_containers", put="create", delete="delete", label="container"),
    "role_assignment": Kind("auth", "role_assignments", put="create", delete="delete", label="role assignment"),
    "vnet": Kind("network", "virtual_networks", label="virtual network"),
    "subnet": Kind("network", "subnets", label="subnet"),
    "nsg": Kind("network", "network_security_groups", label="network security group"),
    "public_ip": Kind("network", "public_ip_addresses", label="public IP"),
    "nat_gateway": Kind("network", "nat_gateways", label="NAT gateway"),
    "cluster": Kind("aks", "managed_clusters", label="AKS cluster"),
    "agent_pool": Kind("aks", "agent_pools", label="node pool"),
}


def to_wire(obj: Any) -> dict[str, Any]:
    """An SDK result as the REST JSON shape (new-style models are mappings; msrest ones serialise)."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, MutableMapping):
        out: dict[str, Any] = obj.as_dict()  # type: ignore[attr-defined]
        return out
    serialized: dict[str, Any] = obj.serialize(keep_readonly=True)
    return serialized


class Arm:
    """Lazily built SDK clients for one target, and the generic verbs over them."""

    def __init__(self, target: AzureTarget, *, write_limit: int = 8) -> None:
        self.target = target
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        # ARM throttles writes per subscription: cap how many start at once across regions.
        self._writes = threading.BoundedSemaphore(write_limit)

    def _client(self, name: str) -> Any:
        with self._lock:
            if name not in self._clients:
                self._clients[name] = self._build(name)
            return self._clients[name]

    def _build(self, name: str) -> Any:
        cred, sub, kw = self.target.get_credential(), self.target.subscription_id, self.target.client_kwargs()
        if name == "resource":
            from azure.mgmt.resource.resources import ResourceManagementClient

            return ResourceManagementClient(cred, sub, **kw)
        if name == "msi":
            from azure.mgmt.msi import ManagedServiceIdentityClient

            return ManagedServiceIdentityClient(cred, sub, **kw)
        if name == "storage":
            from azure.mgmt.storage import StorageManagementClient

            return StorageManagementClient(cred, sub, **kw)
        if name == "auth":
            from azure.mgmt.authorization import AuthorizationManagementClient

            return AuthorizationManagementClient(cred, sub, **kw)
        if name == "network":
            from azure.mgmt.network import NetworkManagementClient

            return NetworkManagementClient(cred, sub, **kw)
        if name == "aks":
            from azure.mgmt.containerservice import ContainerServiceClient

            return ContainerServiceClient(cred, sub, **kw)
        if name == "compute":
            from azure.mgmt.compute import ComputeManagementClient

            return ComputeManagementClient(cred, sub, **kw)
        if name == "resourcegraph":
            # Resource Graph is a tenant-level ARM endpoint (POST /providers/Microsoft.ResourceGraph/
            # resources): its client takes no subscription and starts no long-running operation.
            from azure.mgmt.resourcegraph import ResourceGraphClient

            kw.pop("polling_interval", None)
            return ResourceGraphClient(cred, **kw)
        raise KeyError(name)

    def graph_client(self) -> Any:
        """The Resource Graph client (spot eviction rates: adapters/azure/eviction.py)."""
        return self._client("resourcegraph")

    def ops(self, kind: str) -> Any:
        k = KINDS[kind]
        return getattr(self._client(k.client), k.ops)

    # -- generic verbs ---------------------------------------------------------------------
    def get(self, kind: str, *path: str) -> dict[str, Any] | None:
        """The resource, or None when Azure answers 404."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return to_wire(getattr(self.ops(kind), KINDS[kind].get)(*path))
        except ResourceNotFoundError:
            return None
        except Exception as exc:
            raise translate(exc, what=f"read {KINDS[kind].label} {path[-1] if path else ''}".strip()) from None

    def put(self, kind: str, *path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or update, waiting for the long-running operation when there is one."""
        method = KINDS[kind].put
        try:
            with self._writes:
                result = getattr(self.ops(kind), method)(*path, body)
            if method.startswith("begin_"):
                result = result.result()
            return to_wire(result)
        except Exception as exc:
            raise translate(exc, what=f"write {KINDS[kind].label} {path[-1] if path else ''}".strip()) from None

    def delete(self, kind: str, *path: str) -> None:
        method = KINDS[kind].delete
        try:
            with self._writes:
                result = getattr(self.ops(kind), method)(*path)
            if method.startswith("begin_"):
                result.result()
        except Exception as exc:
            from azure.core.exceptions import ResourceNotFoundError

            if isinstance(exc, ResourceNotFoundError):
                return
            raise translate(exc, what=f"delete {KINDS[kind].label} {path[-1] if path else ''}".strip()) from None

    # -- listings (read-only, plain dicts) ---------------------------------------------------
    def list_resources(self, rg: str | None = None, *, tag: tuple[str, str] | None = None) -> list[dict[str, Any]]:
        """Top-level resources of a resource group (or of the subscription), optionally only
        those carrying tag=value; [] when the group does not exist."""
        from azure.core.exceptions import ResourceNotFoundError

        flt = f"tagName eq '{tag[0]}' and tagValue eq '{tag[1]}'" if tag else None
        ops = self._client("resource").resources
        try:
            pages = ops.list_by_resource_group(rg, filter=flt) if rg else ops.list(filter=flt)
            return [to_wire(r) for r in pages]
        except ResourceNotFoundError:
            return []
        except Exception as exc:
            raise translate(exc, what=f"list resources{f' in {rg}' if rg else ''}") from None

    def list_groups(self, *, tag: tuple[str, str] | None = None) -> list[dict[str, Any]]:
        """Resource groups of the subscription, optionally only those carrying tag=value."""
        flt = f"tagName eq '{tag[0]}' and tagValue eq '{tag[1]}'" if tag else None
        try:
            return [to_wire(g) for g in self._client("resource").resource_groups.list(filter=flt)]
        except Exception as exc:
            raise translate(exc, what="list resource groups") from None

    def list_children(self, kind: str, *parent: str) -> list[dict[str, Any]]:
        """Child resources of a kind (e.g. a cluster's agent pools); [] when the parent is absent."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return [to_wire(x) for x in self.ops(kind).list(*parent)]
        except ResourceNotFoundError:
            return []
        except Exception as exc:
            raise translate(exc, what=f"list {KINDS[kind].label}s of {parent[-1] if parent else ''}".strip()) from None

    # -- calls that are not plain CRUD -------------------------------------------------------
    def call(self, kind: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Any other operation of the kind's operations group (e.g. list, listKeys)."""
        try:
            return getattr(self.ops(kind), method)(*args, **kwargs)
        except Exception as exc:
            raise translate(exc, what=f"{method} {KINDS[kind].label}") from None

    def role_definition_id(self, scope: str, role_name: str) -> str:
        try:
            items = list(self._client("auth").role_definitions.list(scope, filter=f"roleName eq '{role_name}'"))
        except Exception as exc:
            raise translate(exc, what=f"look up role '{role_name}'") from None
        if not items:
            from raks.errors import CloudError

            raise CloudError(f"built-in role '{role_name}' not found at {scope}", code="RoleDefinitionNotFound")
        return str(to_wire(items[0])["id"])

    def cluster_user_kubeconfig(self, rg: str, cluster: str) -> bytes:
        """The cluster's user kubeconfig (listClusterUserCredential), as YAML bytes."""
        creds = self.call("cluster", "list_cluster_user_credentials", rg, cluster)
        value = to_wire(creds)["kubeconfigs"][0]["value"]
        if isinstance(value, bytes):
            return value
        import base64

        return base64.b64decode(value)
