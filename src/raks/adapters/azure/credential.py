"""Which credential raks authenticates with, described for a person (never the secret itself).

DefaultAzureCredential tries its sources in a fixed order; the first that is configured wins.
`describe` names that source from the environment the same way, so `raks preflight` can say
what a CI job is running as without asking for a token.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import Any

WORKLOAD_IDENTITY = "workload identity (federated token file)"
CLIENT_SECRET = "service principal (client secret)"
CLIENT_CERTIFICATE = "service principal (client certificate)"
AZURE_CLI = "Azure CLI (az login)"
MANAGED_IDENTITY = "managed identity"
SANDBOX = "sandbox static token"


def describe_environment(env: Mapping[str, str] | None = None) -> str:
    """The source DefaultAzureCredential will use, in its own order: environment (secret,
    certificate), workload identity, managed identity (only guessable from its env vars), Azure
    CLI. GitHub's azure/login with OIDC leaves an `az login` session (Azure CLI); with
    AZURE_FEDERATED_TOKEN_FILE set directly it is workload identity."""
    env = os.environ if env is None else env
    has_app = bool(env.get("AZURE_CLIENT_ID") and env.get("AZURE_TENANT_ID"))
    if has_app and env.get("AZURE_CLIENT_SECRET"):
        return CLIENT_SECRET
    if has_app and env.get("AZURE_CLIENT_CERTIFICATE_PATH"):
        return CLIENT_CERTIFICATE
    if has_app and env.get("AZURE_FEDERATED_TOKEN_FILE"):
        return WORKLOAD_IDENTITY
    if env.get("IDENTITY_ENDPOINT") or env.get("MSI_ENDPOINT"):
        return MANAGED_IDENTITY
    if shutil.which("az", path=env.get("PATH")):
        return AZURE_CLI
    return "none found (set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_FEDERATED_TOKEN_FILE, or run az login)"


def describe(credential: Any) -> str:
    """The credential a target uses: a fixed sandbox token, or what DefaultAzureCredential
    picked (its successful source once a token was issued, else what the environment says)."""
    from raks.adapters.azure.target import StaticTokenCredential

    if isinstance(credential, StaticTokenCredential):
        return SANDBOX
    # DefaultAzureCredential remembers which source issued the last token (a private field;
    # read defensively, falling back to the environment).
    used = getattr(credential, "_successful_credential", None)
    names = {
        "EnvironmentCredential": None,  # secret or certificate: the environment says which
        "WorkloadIdentityCredential": WORKLOAD_IDENTITY,
        "ManagedIdentityCredential": MANAGED_IDENTITY,
        "AzureCliCredential": AZURE_CLI,
        "AzureDeveloperCliCredential": "Azure Developer CLI (azd auth login)",
        "AzurePowerShellCredential": "Azure PowerShell (Connect-AzAccount)",
    }
    if used is not None and names.get(type(used).__name__):
        return str(names[type(used).__name__])
    return describe_environment()
