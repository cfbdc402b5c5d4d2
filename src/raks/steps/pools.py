"""The node pools a region gets: the configured ones plus the on-demand fallback of spot pools.

Azure has no spot-to-on-demand fallback inside one pool, so `fallback: on-demand` pairs a spot pool
with `<name>od`: same size, labels and taints, except the capacity type says ON_DEMAND; it scales
from 0 to the same max. The cluster autoscaler's priority expander (a ConfigMap
`cluster-autoscaler-priority-expander` in kube-system, used when the cluster's autoscaler profile
says `expander: priority`) tries the spot pool first and the fallback only when spot cannot grow.
"""

from __future__ import annotations

from raks.config import Pool

CAPACITY_TYPE = "node.anyscale.com/capacity-type"
FALLBACK_SUFFIX = "od"
PRIORITY_CONFIGMAP = "cluster-autoscaler-priority-expander"
PRIORITY_NAMESPACE = "kube-system"
SPOT_PRIORITY, FALLBACK_PRIORITY, DEFAULT_PRIORITY = 20, 10, 1


def _on_demand_taint(taint: str) -> str:
    """`node.anyscale.com/capacity-type=SPOT:NoSchedule` -> `...=ON_DEMAND:NoSchedule`; others as is."""
    key_value, _, effect = taint.rpartition(":")
    key, eq, _value = key_value.partition("=")
    return f"{key}=ON_DEMAND:{effect}" if key == CAPACITY_TYPE and eq else taint


def fallback_pool(pool: Pool) -> Pool:
    """The on-demand twin of a spot pool; every other setting (size, labels, ...) is the pool's."""
    labels = dict(pool.labels)
    if CAPACITY_TYPE in labels:
        labels[CAPACITY_TYPE] = "ON_DEMAND"
    return pool.model_copy(
        update={
            "name": pool.name + FALLBACK_SUFFIX,
            "mode": "user",
            "min_count": 0,
            "spot": False,
            "labels": labels,
            "taints": [_on_demand_taint(t) for t in pool.taints],
            "fallback": "none",
        }
    )


def expand(pools: list[Pool]) -> list[Pool]:
    """Every pool raks creates in a region, each fallback right after its spot pool."""
    out: list[Pool] = []
    for pool in pools:
        out.append(pool)
        if pool.spot and pool.fallback == "on-demand":
            out.append(fallback_pool(pool))
    return out


def has_fallback(pools: list[Pool]) -> bool:
    return any(p.spot and p.fallback == "on-demand" for p in pools)


def priority_expander(pools: list[Pool]) -> dict[str, str]:
    """The data of the `cluster-autoscaler-priority-expander` ConfigMap: spot pools before their
    on-demand fallbacks, everything else after. Keys are priorities (higher wins), values regexes
    over node group names (AKS names a pool's scale set `aks-<pool>-<id>-vmss`)."""
    spot = [f".*-{p.name}-.*" for p in pools if p.spot and p.fallback == "on-demand"]
    fallback = [f".*-{p.name}{FALLBACK_SUFFIX}-.*" for p in pools if p.spot and p.fallback == "on-demand"]
    lines = [f"{SPOT_PRIORITY}:", *[f"  - {r}" for r in spot]]
    lines += [f"{FALLBACK_PRIORITY}:", *[f"  - {r}" for r in fallback]]
    lines += [f"{DEFAULT_PRIORITY}:", "  - .*"]
    return {"priorities": "\n".join(lines) + "\n"}
