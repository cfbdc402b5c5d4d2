"""Node objects that follow the AKS node pools (what the cloud-node-manager and kubelet register).

Pool P's nodes are `aks-<P>-12345678-vmss<6-digit base-36 instance id>`; scaling up takes the
lowest free ids, scaling down removes the highest. A node that stays keeps its uid; its labels
and taints follow the pool's.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from raks.sandbox.kube.store import Cluster, clone, meta

POOL_LABEL = "kubernetes.azure.com/agentpool"
MANAGER = "kubelet"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_NO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"  # the key does not say which subscription
_MEMORY_PER_CPU = {"B": 4, "D": 4, "E": 8, "F": 2, "M": 28, "NC": 9, "ND": 19, "NV": 14}


def node_name(pool: str, index: int) -> str:
    digits = ""
    while True:
        index, rest = divmod(index, 36)
        digits = _DIGITS[rest] + digits
        if index == 0:
            break
    return f"aks-{pool}-12345678-vmss{digits.rjust(6, '0')}"


def _capacity(vm_size: str) -> tuple[int, int, int]:
    """(vCPUs, memory GiB, GPUs) of an Azure VM size, from the sandbox catalog or its name."""
    try:
        from raks.sandbox.catalog import vm_size as lookup

        known = lookup(vm_size)
        if known is not None:
            return known.vcpus, int(known.memory_gb), known.gpus
    except ImportError:  # pragma: no cover - the catalog ships with the sandbox
        pass
    m = re.match(r"Standard_([A-Z]+?)(\d+)", vm_size or "")
    if not m:
        return 4, 16, 0
    family, cpus = m.group(1), int(m.group(2))
    gpus = max(1, cpus // 24) if family.startswith("N") else 0
    return cpus, cpus * _MEMORY_PER_CPU.get(family[:2], _MEMORY_PER_CPU.get(family[:1], 4)), gpus


def parse_taint(text: str) -> dict[str, str]:
    """`key=value:Effect` or `key:Effect` as a Node taint."""
    body, _, effect = text.rpartition(":")
    key, _, value = body.partition("=")
    taint = {"key": key, "effect": effect}
    if value:
        taint["value"] = value
    return taint


def _labels(pool: dict[str, Any], name: str) -> dict[str, str]:
    size = pool.get("vm_size") or ""
    labels = {
        **{str(k): str(v) for k, v in (pool.get("labels") or {}).items()},
        "agentpool": pool["name"],
        POOL_LABEL: pool["name"],
        "kubernetes.azure.com/mode": str(pool.get("mode") or "User").lower(),
        "kubernetes.azure.com/role": "agent",
        "node.kubernetes.io/instance-type": size,
        "beta.kubernetes.io/instance-type": size,
        "kubernetes.io/os": "linux",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.azure.com/os-sku": "Ubuntu",
    }
    if pool.get("spot"):
        labels["kubernetes.azure.com/scalesetpriority"] = "spot"
    if _capacity(size)[2]:
        labels["kubernetes.azure.com/accelerator"] = "nvidia"
    return labels


def _taints(pool: dict[str, Any]) -> list[dict[str, str]]:
    taints = [parse_taint(t) for t in pool.get("taints") or []]
    spot = {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}
    if pool.get("spot") and spot not in taints:
        taints.append(spot)  # AKS taints every spot node so only tolerating pods land there
    return taints


def _resources(vm_size: str) -> tuple[dict[str, str], dict[str, str]]:
    cpus, memory_gib, gpus = _capacity(vm_size)
    capacity = {
        "cpu": str(cpus),
        "memory": f"{memory_gib * 1024 * 1024}Ki",
        "pods": "110",
        "ephemeral-storage": "129886128Ki",
    }
    reserved_memory = min(memory_gib * 1024 * 1024 // 4, 4 * 1024 * 1024)
    allocatable = {
        "cpu": f"{cpus * 1000 - 100 - 40 * min(cpus, 8)}m",
        "memory": f"{memory_gib * 1024 * 1024 - reserved_memory}Ki",
        "pods": "110",
        "ephemeral-storage": "119716326407",
    }
    if gpus:
        capacity["nvidia.com/gpu"] = allocatable["nvidia.com/gpu"] = str(gpus)
    return capacity, allocatable


def build_node(cluster: Cluster, pool: dict[str, Any], index: int, old: dict[str, Any] | None) -> dict[str, Any]:
    name = node_name(pool["name"], index)
    node = clone(old) if old else {"metadata": {"name": name}}
    m = meta(node)
    m["labels"] = _labels(pool, name)
    m.setdefault(
        "annotations",
        {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
    )
    spec: dict[str, Any] = {
        "podCIDR": f"10.244.{index % 256}.0/24",
        "providerID": f"azure:///subscriptions/{_NO_SUBSCRIPTION}/resourceGroups/mc_{cluster.key}/providers/"
        f"Microsoft.Compute/virtualMachineScaleSets/aks-{pool['name']}-12345678-vmss/virtualMachines/{index}",
    }
    if taints := _taints(pool):
        spec["taints"] = taints
    node["spec"] = spec
    capacity, allocatable = _resources(pool.get("vm_size") or "")
    previous = ((old or {}).get("status") or {}).get("conditions") or [{}]
    since = previous[0].get("lastTransitionTime") or cluster.timestamp()
    node["status"] = {
        "capacity": capacity,
        "allocatable": allocatable,
        "conditions": [_condition(c, s, r, since) for c, s, r in _CONDITIONS],
        "addresses": [
            {"type": "InternalIP", "address": f"10.224.{index // 250}.{4 + index % 250}"},
            {"type": "Hostname", "address": name},
        ],
        "nodeInfo": {
            "architecture": "amd64",
            "bootID": hashlib.sha256(f"{cluster.key}/{name}".encode()).hexdigest()[:32],
            "containerRuntimeVersion": "containerd://1.7.27-1",
            "kernelVersion": "5.15.0-1089-azure",
            "kubeProxyVersion": f"v{cluster.version}",
            "kubeletVersion": f"v{cluster.version}",
            "machineID": "",
            "operatingSystem": "linux",
            "osImage": "Ubuntu 22.04.5 LTS",
            "systemUUID": "",
        },
    }
    return node


_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID"),
    ("Ready", "True", "KubeletReady"),
)
_MESSAGES = {
    "KubeletHasSufficientMemory": "kubelet has sufficient memory available",
    "KubeletHasNoDiskPressure": "kubelet has no disk pressure",
    "KubeletHasSufficientPID": "kubelet has sufficient PID available",
    "KubeletReady": "kubelet is posting ready status",
}


def _condition(kind: str, status: str, reason: str, since: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": status,
        "lastHeartbeatTime": since,
        "lastTransitionTime": since,
        "reason": reason,
        "message": _MESSAGES[reason],
    }


def _index(name: str) -> int:
    return int(name.rsplit("vmss", 1)[1], 36)


def set_nodes(cluster: Cluster, pools: list[dict[str, Any]]) -> None:
    rt = cluster.rt("/nodes")
    wanted = {p["name"]: p for p in pools}
    for node in list(cluster.items(rt)):
        pool = (meta(node).get("labels") or {}).get(POOL_LABEL)
        if pool not in wanted:
            cluster.remove(rt, node)
    for pool in pools:
        mine = {
            _index(meta(n)["name"]): n
            for n in cluster.items(rt)
            if (meta(n).get("labels") or {}).get(POOL_LABEL) == pool["name"]
        }
        count = max(int(pool.get("count") or 0), 0)
        keep = sorted(mine)[:count]
        for index in sorted(mine)[count:]:
            cluster.remove(rt, mine[index])
        free = (i for i in range(count + len(mine)) if i not in mine)
        for index in keep + [next(free) for _ in range(count - len(keep))]:
            old = mine.get(index)
            node = build_node(cluster, pool, index, old)
            if old is None or node != old:
                cluster.save(rt, node, old, MANAGER)
