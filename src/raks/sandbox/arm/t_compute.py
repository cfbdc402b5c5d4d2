"""Microsoft.Compute: vCPU usages per region and resource SKUs (azure-facts.md §4)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from raks.regions import AZURE_REGIONS
from raks.sandbox import catalog
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi


def usages(api: ArmApi, location: str) -> Response:
    from raks.sandbox.arm.t_aks import compute_usage

    used = compute_usage(api, location)
    state = api.world.state
    names: dict[str, str] = {"cores": "Total Regional vCPUs", "lowPriorityCores": "Total Regional Spot vCPUs"}
    for size in catalog.VM_SIZES.values():
        names.setdefault(size.family, f"{size.family} vCPUs")
    items = [
        {
            "unit": "Count",
            "currentValue": used.get(name, 0),
            "limit": catalog.quota_limit(state, location, name),
            "name": {"value": name, "localizedValue": label},
        }
        for name, label in names.items()
    ]
    return Response(200, {"value": items})


def _sku(size: catalog.VmSize, region: str, restricted: bool) -> dict[str, Any]:
    caps = [
        {"name": "vCPUs", "value": str(size.vcpus)},
        {"name": "MemoryGB", "value": f"{size.memory_gb:g}"},
        {"name": "LowPriorityCapable", "value": "True"},
        {"name": "vCPUsAvailable", "value": str(size.vcpus)},
    ]
    if size.gpus:
        caps.append({"name": "GPUs", "value": str(size.gpus)})
    restrictions = []
    if restricted:
        restrictions.append(
            {
                "type": "Location",
                "values": [region],
                "restrictionInfo": {"locations": [region]},
                "reasonCode": "NotAvailableForSubscription",
            }
        )
    return {
        "resourceType": "virtualMachines",
        "name": size.name,
        "tier": "Standard",
        "size": size.name.removeprefix("Standard_"),
        "family": size.family,
        "locations": [region],
        "locationInfo": [{"location": region, "zones": ["1", "2", "3"], "zoneDetails": []}],
        "capabilities": caps,
        "restrictions": restrictions,
    }


def skus(api: ArmApi, req: Request) -> Response:
    flt = req.q("$filter") or ""
    m = re.search(r"location eq '([^']*)'", flt)
    regions = [m.group(1).lower()] if m else sorted(AZURE_REGIONS)
    state = api.world.state
    items = [
        _sku(size, region, catalog.size_restricted(state, region, size.name))
        for region in regions
        for size in catalog.VM_SIZES.values()
        if catalog.size_offered(state, region, size.name)
    ]
    return Response(200, {"value": items})
