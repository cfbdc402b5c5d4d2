"""What the emulated regions offer: VM sizes (resource SKUs, from raks.vm_sizes), vCPU quotas,
AKS versions, providers.

Defaults make the reference deployment fit in every region; tests and demos change them per
region through the control API (`/_sandbox/capacity`), which stores overrides in
state["capacity"][region]. Family names follow azure-facts.md section 4 (quota `name.value`
equals the SKU `family`; some carry spaces, e.g. "Standard NCASv3_T4 Family").
"""

from __future__ import annotations

from typing import Any

from raks.vm_sizes import VM_SIZES as VM_SIZES  # re-exported for the emulated APIs
from raks.vm_sizes import VmSize, lookup

DEFAULT_FAMILY_LIMIT = 500
DEFAULT_REGIONAL_CORES = 1000
DEFAULT_LOW_PRIORITY_CORES = 500

# AKS versions offered (KubernetesVersions_List shape: top-level "values", azure-facts.md §8).
DEFAULT_K8S_VERSIONS: dict[str, dict[str, Any]] = {
    "1.32": {"patches": ["1.32.7", "1.32.9"], "supportPlan": ["KubernetesOfficial", "AKSLongTermSupport"]},
    "1.33": {"patches": ["1.33.3", "1.33.5"], "supportPlan": ["KubernetesOfficial"]},
    "1.34": {"patches": ["1.34.0", "1.34.1"], "supportPlan": ["KubernetesOfficial"], "isDefault": True},
    "1.35": {"patches": ["1.35.0"], "supportPlan": ["KubernetesOfficial"], "isPreview": True},
}

PROVIDERS = (
    "Microsoft.Resources",
    "Microsoft.ContainerService",
    "Microsoft.Network",
    "Microsoft.Storage",
    "Microsoft.ManagedIdentity",
    "Microsoft.Authorization",
    "Microsoft.Compute",
)


def vm_size(name: str) -> VmSize | None:
    return lookup(name)


def region_capacity(state: dict[str, Any], region: str) -> dict[str, Any]:
    """The region's overrides: {"quota": {name: limit}, "restricted": [size], "unavailable": [size],
    "k8s_versions": [patch...]}."""
    cap: dict[str, Any] = state.setdefault("capacity", {}).get(region.lower(), {})
    return cap


def quota_limit(state: dict[str, Any], region: str, name: str) -> int:
    quota = region_capacity(state, region).get("quota", {})
    norm = {k.replace(" ", "").lower(): v for k, v in quota.items()}
    value = norm.get(name.replace(" ", "").lower())
    if value is not None:
        return int(value)
    if name == "cores":
        return DEFAULT_REGIONAL_CORES
    if name == "lowPriorityCores":
        return DEFAULT_LOW_PRIORITY_CORES
    return DEFAULT_FAMILY_LIMIT


def size_offered(state: dict[str, Any], region: str, name: str) -> bool:
    cap = region_capacity(state, region)
    return vm_size(name) is not None and name.lower() not in {s.lower() for s in cap.get("unavailable", [])}


def size_restricted(state: dict[str, Any], region: str, name: str) -> bool:
    return name.lower() in {s.lower() for s in region_capacity(state, region).get("restricted", [])}


def k8s_patch_versions(state: dict[str, Any], region: str) -> list[str]:
    override = region_capacity(state, region).get("k8s_versions")
    if override is not None:
        return list(override)
    return [p for minor in DEFAULT_K8S_VERSIONS.values() for p in minor["patches"]]


def unregistered_providers(state: dict[str, Any]) -> set[str]:
    return {p.lower() for p in state.setdefault("capacity", {}).get("_unregistered_providers", [])}
