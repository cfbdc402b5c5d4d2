"""The api-versions each emulated namespace accepts, and ARM's answer to any other.

The lists are what the clients that talk to the sandbox send: the versions found in the installed
azure-mgmt packages (azure-mgmt-resource 26, -authorization 4.0 (multi-api folders), -compute 39,
-containerservice 41.8, -msi 7.1, -network 33.1, -storage 25.3, -resourcegraph 8.0: their `api_version` defaults and
the versions named in their operations), plus azure-cli's "latest" profile
(azure-cli-core `profiles/_shared.py` AZURE_API_PROFILES) and the versions of the AKS list in the
NoRegisteredProviderFound message quoted in Azure/azure-cli#23985. Any other version of a known
type is refused as ARM refuses it:
- a resource provider type: 400 NoRegisteredProviderFound "No registered resource provider found
  for location '{loc}' and API version '{v}' for type '{type}'. The supported api-versions are
  '...'. The supported locations are '...'." (Azure/azure-cli#28496, #23985);
- ARM's own endpoints (resource groups, resource lists, providers): 400 InvalidApiVersionParameter
  "The api-version '{v}' is invalid. The supported versions are '...'." (Azure/azure-cli#28038,
  ansible-collections/azure#1739).
"""

from __future__ import annotations

import re

from raks.regions import AZURE_REGIONS
from raks.sandbox.arm.errors import ArmError

_AKS_HISTORY = (
    "2017-08-31 2018-03-31 2019-02-01 2019-04-01 2019-06-01 2019-08-01 2019-10-01 2019-11-01 2020-01-01 "
    "2020-02-01 2020-03-01 2020-04-01 2020-06-01 2020-07-01 2020-09-01 2020-11-01 2020-12-01 2021-02-01 "
    "2021-03-01 2021-05-01 2021-07-01 2021-08-01 2021-09-01 2021-10-01 2022-01-01 2022-02-01 2022-03-01 "
    "2022-04-01 2022-06-01 2022-07-01 2022-08-01"
)
_VERSION = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(-preview|-beta|-alpha)?")
SUPPORTED: dict[str, tuple[str, ...]] = {
    # 2016-06-01 and 2022-12-01: the Subscriptions API's versions azure-cli and azure-identity send.
    "microsoft.resources": ("2016-06-01", "2019-11-01", "2021-04-01", "2022-12-01", "2025-04-01"),
    "microsoft.authorization": (
        "2015-06-01", "2015-07-01", "2018-01-01-preview", "2018-05-01-preview", "2018-07-01-preview",
        "2018-09-01-preview", "2019-08-01-preview", "2020-04-01-preview", "2020-10-01", "2020-10-01-preview",
        "2021-01-01-preview", "2021-03-01-preview", "2021-07-01-preview", "2021-12-01-preview", "2022-04-01",
        "2022-04-01-preview", "2022-05-01-preview", "2022-08-01-preview",
    ),
    "microsoft.compute": (
        "2019-04-01", "2021-07-01", "2022-03-01", "2025-03-03", "2025-04-01", "2025-11-01", "2025-12-03",
        "2026-03-01", "2026-03-02", "2026-03-03", "2026-04-01",
    ),
    "microsoft.containerservice": (
        *_AKS_HISTORY.split(), "2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01",
    ),
    "microsoft.managedidentity": ("2018-11-30", "2021-09-30-preview", "2022-01-31-preview", "2024-11-30"),
    "microsoft.network": ("2018-10-01", "2021-08-01", "2025-05-01", "2025-07-01", "2025-09-01", "2026-01-01",
                          "2026-03-01"),
    "microsoft.storage": ("2021-09-01", "2025-08-01", "2026-04-01", "2026-06-01", "2026-09-01"),
    # Resource Graph queries: 2021-03-01 is what azure-mgmt-resourcegraph 8.0 sends (its
    # `api_version` default); 2019-04-01 (Azure/azure-powershell#9850's request) and 2022-10-01
    # (the api-version in public callers of /providers/Microsoft.ResourceGraph/resources) bound it.
    "microsoft.resourcegraph": ("2019-04-01", "2021-03-01", "2022-10-01"),
}  # fmt: skip


def _accepted(namespace: str, version: str) -> bool:
    """Listed, or a well-formed version between the oldest and newest listed one. The lists are
    what the clients here send, not every version a provider has (azure-rest-api-specs holds many
    more per namespace), so a real version in between is accepted rather than wrongly refused;
    what lies outside the range (a future or long-gone version) or is malformed is refused."""
    known = SUPPORTED[namespace.lower()]
    if version in known:
        return True
    if not _VERSION.fullmatch(version):
        return False
    day = version[:10]
    return min(v[:10] for v in known) <= day <= max(v[:10] for v in known)


def _listed(namespace: str) -> str:
    return ", ".join(sorted(SUPPORTED[namespace.lower()], reverse=True))


def check_arm(version: str) -> None:
    """ARM's own endpoints (Microsoft.Resources at subscription level)."""
    if not _accepted("microsoft.resources", version):
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are '{_listed('microsoft.resources')}'.",
        )


def check_provider(namespace: str, type_path: str, version: str, location: str) -> None:
    """A resource provider's type (`type_path` as ARM names it in the message, e.g. 'managedClusters')."""
    if namespace.lower() not in SUPPORTED or _accepted(namespace, version):
        return
    raise ArmError(
        400,
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{location}' and API version '{version}' for type "
        f"'{type_path}'. The supported api-versions are '{_listed(namespace)}'. The supported locations are "
        f"'{', '.join(sorted(AZURE_REGIONS))}'.",
    )
