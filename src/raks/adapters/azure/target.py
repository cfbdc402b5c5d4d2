"""Where ARM calls go: real Azure (DefaultAzureCredential) or a sandbox (endpoint + CA + token).

Production code does not know about the sandbox: it only sees a different endpoint, CA bundle,
credential and polling interval here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

AZURE_ARM = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"
AZURE_GRAPH = "https://graph.microsoft.com"  # Microsoft Graph (the service principal of Anyscale's app)
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# The Azure Retail Prices API (public, no credential): learn.microsoft.com/rest/api/cost-management/
# retail-prices/azure-retail-prices. Requests go to {prices_url}/api/retail/prices.
AZURE_PRICES = "https://prices.azure.com"


class StaticTokenCredential:
    """A fixed bearer token (the sandbox accepts any). Never printed: repr hides it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + 3600)

    def __repr__(self) -> str:
        return "StaticTokenCredential(***)"


@dataclass
class AzureTarget:
    arm_url: str = AZURE_ARM
    graph_url: str = AZURE_GRAPH
    prices_url: str = AZURE_PRICES
    subscription_id: str = ""
    tenant_id: str | None = None
    ca_bundle: str | None = None  # None: the system trust store
    polling_interval: float = 5.0  # seconds between polls when Azure sends no Retry-After
    retry_backoff_factor: float | None = None  # None: azure-core's default (0.8 s, doubling)
    credential: Any = None  # None: DefaultAzureCredential
    label: str = "azure"  # "azure" or "sandbox", for messages
    extra: dict[str, Any] = field(default_factory=dict)

    def get_credential(self) -> Any:
        if self.credential is None:
            from azure.identity import DefaultAzureCredential

            self.credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        return self.credential

    def client_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "base_url": self.arm_url,
            "polling_interval": self.polling_interval,
            "credential_scopes": [ARM_SCOPE],
        }
        if self.ca_bundle:
            kw["connection_verify"] = self.ca_bundle
        if self.retry_backoff_factor is not None:
            kw["retry_backoff_factor"] = self.retry_backoff_factor
        return kw
