"""How long Azure typically takes for the operations of a long `up`: one source for the progress
view's expectations, `up`'s overall estimate and the sandbox's `azure` latency profile.

Figures from shared/reference/azure-facts.md, section 6 ("Typical durations"):
- AKS cluster create: 4-7 min in Terraform logs ("Creation complete after 4m10s ... 6m32s"); 300 s.
- Node pool add: 7m10s observed (terraform-provider-azurerm#26933); 430 s. GPU pools: no direct
  measurement; aks-engine GPU provisioning "8min+" (Azure/aks-engine#3507); 480 s.
- AKS cluster delete: ~8 min+ (Azure/terraform-azurerm-aks PR #74); 480 s.
- NAT gateway ~13 s, public IP ~4 s, VNet ~12 s, NSG ~11 s (community Terraform logs, PaloAlto
  modules PR #92, harmony-one PR #318).
- Storage account create: 18-45 s typical (Terraform logs); 30 s.
Unmeasured ones are estimates, marked so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from raks import vm_sizes

AZURE_SECONDS: dict[str, float] = {
    "request": 0.12,  # one ARM round trip (estimate)
    "resourcegroup.delete": 45.0,  # estimate: async, grows with content
    "storage.create": 30.0,
    "network.vnet": 12.0,
    "network.subnet": 5.0,  # estimate
    "network.nsg": 11.0,
    "network.publicip": 4.0,
    "network.natgateway": 13.0,
    "network.delete": 10.0,  # estimate
    "aks.create": 300.0,
    "aks.update": 180.0,  # estimate
    "aks.delete": 480.0,
    "agentpool.create": 430.0,
    "agentpool.create.gpu": 480.0,
    "agentpool.update": 120.0,  # estimate: autoscaler bounds, labels
    "agentpool.delete": 240.0,  # estimate
}

# Step key suffix -> the operation it waits for when it creates (see steps/*.py for the keys).
_CREATE = {
    "cluster": "aks.create",
    "storage-account": "storage.create",
    "vnet": "network.vnet",
    "nsg": "network.nsg",
    "public-ip": "network.publicip",
    "nat-gateway": "network.natgateway",
}
_UPDATE = {"cluster": "aks.update"}
_DELETE = {"cluster": "aks.delete"}


def typical_seconds(key: str, title: str, action: str) -> float | None:
    """Azure's typical duration of a step's `action` (create/update/delete), when it is known."""
    suffix = key.split("/", 1)[-1]
    if suffix.startswith("pool-"):
        # A pool step's title names its VM size: "pool cpu (Standard_D16_v5, 3-6)".
        size = re.search(r"\((Standard_[^,)]+)", title)
        known = vm_sizes.lookup(size.group(1)) if size else None
        gpu = bool(known and known.gpus)
        op = {"create": "agentpool.create.gpu" if gpu else "agentpool.create", "update": "agentpool.update",
              "delete": "agentpool.delete"}.get(action)  # fmt: skip
    else:
        op = {"create": _CREATE, "update": _UPDATE, "delete": _DELETE}.get(action, {}).get(suffix)
    return AZURE_SECONDS.get(op) if op else None


def human(seconds: float) -> str:
    """'~5 min', '~13 s'."""
    if seconds >= 90:
        return f"~{round(seconds / 60)} min"
    return f"~{round(seconds)} s"


def critical_path(steps: Iterable[Any], seconds: dict[str, float]) -> float:
    """The longest chain of `needs` under the given per-step durations: the least wall time a
    graph that runs every step as soon as its needs are done can take."""
    by_key = {s.key: s for s in steps}
    done: dict[str, float] = {}

    def finish(key: str) -> float:
        if key not in done:
            step = by_key[key]
            done[key] = seconds.get(key, 0.0) + max((finish(d) for d in step.needs if d in by_key), default=0.0)
        return done[key]

    return max((finish(k) for k in by_key), default=0.0)
