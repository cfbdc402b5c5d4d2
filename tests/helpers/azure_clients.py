"""The real azure-mgmt clients pointed at a sandbox, for tests that read back what raks wrote."""

from __future__ import annotations

import time
from typing import Any


class StaticToken:
    """A credential that hands out a fixed token (the sandbox accepts any bearer token)."""

    def __init__(self, token: str = "sandbox-static-token") -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)


class Clients:
    """The six azure-mgmt clients (plus compute) configured for the sandbox."""

    def __init__(self, ep: dict[str, Any]) -> None:
        self.ep = ep
        self.sub = ep["subscription_id"]

    def kw(self) -> dict[str, Any]:
        return {
            "base_url": self.ep["arm"],
            "connection_verify": self.ep["ca_bundle"],
            "polling_interval": 0.01,
            "credential_scopes": ["https://management.azure.com/.default"],
            "retry_backoff_factor": 0.01,
        }

    @property
    def resource(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return ResourceManagementClient(StaticToken(), self.sub, **self.kw())

    @property
    def msi(self) -> Any:
        from azure.mgmt.msi import ManagedServiceIdentityClient

        return ManagedServiceIdentityClient(StaticToken(), self.sub, **self.kw())

    @property
    def auth(self) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return AuthorizationManagementClient(StaticToken(), self.sub, **self.kw())

    @property
    def storage(self) -> Any:
        from azure.mgmt.storage import StorageManagementClient

        return StorageManagementClient(StaticToken(), self.sub, **self.kw())

    @property
    def network(self) -> Any:
        from azure.mgmt.network import NetworkManagementClient

        return NetworkManagementClient(StaticToken(), self.sub, **self.kw())

    @property
    def aks(self) -> Any:
        from azure.mgmt.containerservice import ContainerServiceClient

        return ContainerServiceClient(StaticToken(), self.sub, **self.kw())

    @property
    def compute(self) -> Any:
        from azure.mgmt.compute import ComputeManagementClient

        return ComputeManagementClient(StaticToken(), self.sub, **self.kw())
