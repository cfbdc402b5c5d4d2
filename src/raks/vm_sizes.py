"""What raks knows about Azure VM sizes: vCPUs, memory, GPUs, quota family, accelerator name.

Used to derive the Anyscale instance types of GPU pools, to tell GPU pools apart, and by the
sandbox to serve resource SKUs and quota usage. Preflight reads the real figures from Azure;
this table only fills in what Azure's API does not say (the Anyscale accelerator name and what
a node leaves allocatable for pods).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VmSize:
    name: str
    family: str  # the vCPU quota family (= resource SKU `family`)
    vcpus: int
    memory_gb: float
    gpus: int = 0
    accelerator: str = ""  # Anyscale accelerator type, e.g. A100-40G
    # Allocatable for Ray pods (the reference's instance types), when known.
    pod_cpu: int | None = None
    pod_memory_gi: int | None = None


VM_SIZES: dict[str, VmSize] = {
    s.name.lower(): s
    for s in (
        VmSize("Standard_D4s_v5", "standardDSv5Family", 4, 16),
        VmSize("Standard_D8s_v5", "standardDSv5Family", 8, 32),
        VmSize("Standard_D16s_v5", "standardDSv5Family", 16, 64),
        VmSize("Standard_D4_v5", "standardDv5Family", 4, 16),
        VmSize("Standard_D8_v5", "standardDv5Family", 8, 32),
        VmSize("Standard_D16_v5", "standardDv5Family", 16, 64),
        VmSize("Standard_D32_v5", "standardDv5Family", 32, 128),
        VmSize("Standard_E16s_v5", "standardESv5Family", 16, 128),
        VmSize("Standard_ND96asr_v4", "standardNDASv4_A100Family", 96, 900, 8, "A100-40G", 92, 864),
        VmSize("Standard_ND96amsr_A100_v4", "standardNDAMSv4_A100Family", 96, 1900, 8, "A100-80G"),
        VmSize("Standard_NC24ads_A100_v4", "StandardNCADSA100v4Family", 24, 220, 1, "A100-80G"),
        VmSize("Standard_NC48ads_A100_v4", "StandardNCADSA100v4Family", 48, 440, 2, "A100-80G"),
        VmSize("Standard_NC96ads_A100_v4", "StandardNCADSA100v4Family", 96, 880, 4, "A100-80G"),
        VmSize("Standard_NC4as_T4_v3", "Standard NCASv3_T4 Family", 4, 28, 1, "T4"),
        VmSize("Standard_NC8as_T4_v3", "Standard NCASv3_T4 Family", 8, 56, 1, "T4"),
        VmSize("Standard_NC16as_T4_v3", "Standard NCASv3_T4 Family", 16, 110, 1, "T4", 12, 92),
        VmSize("Standard_NC64as_T4_v3", "Standard NCASv3_T4 Family", 64, 440, 4, "T4"),
        VmSize("Standard_NC40ads_H100_v5", "StandardNCadsH100v5Family", 40, 320, 1, "H100"),
        VmSize("Standard_ND96isr_H100_v5", "standardNDSH100v5Family", 96, 1900, 8, "H100"),
    )
}


def lookup(name: str) -> VmSize | None:
    return VM_SIZES.get(name.lower())


def pod_resources(size: VmSize) -> tuple[int, int]:
    """CPU and memory (Gi) a Ray pod can ask for on one node: the reference's figures where it
    gives them, else the node minus what AKS reserves (about 4 vCPUs and 16% of memory)."""
    cpu = size.pod_cpu if size.pod_cpu is not None else max(1, size.vcpus - 4)
    mem = size.pod_memory_gi if size.pod_memory_gi is not None else int(size.memory_gb * 0.84)
    return cpu, mem
