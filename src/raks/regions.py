"""Azure public-cloud region names (the `name` of `az account list-locations`).

Kept as data so a typo in raks.yaml is caught before any cloud call. Regions that exist but
are restricted to some subscriptions are listed too; preflight checks what the subscription
can actually use.
"""

from __future__ import annotations

import difflib

AZURE_REGIONS: frozenset[str] = frozenset(
    """
    australiacentral australiacentral2 australiaeast australiasoutheast austriaeast belgiumcentral
    brazilsouth brazilsoutheast canadacentral canadaeast centralindia centralus centraluseuap
    chilecentral denmarkeast eastasia eastus eastus2 eastus2euap francecentral francesouth
    germanynorth germanywestcentral indonesiacentral israelcentral italynorth japaneast japanwest
    jioindiacentral jioindiawest koreacentral koreasouth malaysiawest mexicocentral
    newzealandnorth northcentralus northeurope norwayeast norwaywest polandcentral qatarcentral
    southafricanorth southafricawest southcentralus southeastasia southindia spaincentral
    swedencentral swedensouth switzerlandnorth switzerlandwest uaecentral uaenorth uksouth ukwest
    westcentralus westeurope westindia westus westus2 westus3
    """.split()
)


def closest_region(name: str) -> str | None:
    """The known region nearest to a misspelt one, for the error message."""
    matches = difflib.get_close_matches(name.lower().replace(" ", ""), sorted(AZURE_REGIONS), n=1)
    return matches[0] if matches else None
