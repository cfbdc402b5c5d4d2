"""Per-region access to a cluster's Kubernetes API (and Helm on it), shared by the in-cluster
steps of one command. Credentials come from AKS (listClusterUserCredential) once per region."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, cast

from raks import names
from raks.steps.base import Context, NeedsUnknown

if TYPE_CHECKING:
    from raks.adapters.helm import Helm
    from raks.adapters.kube import Kube

_lock = threading.Lock()


def _cache(ctx: Context) -> dict[str, Any]:
    with _lock:
        cache: dict[str, Any] = ctx.extra.setdefault("clusters", {})
        return cache


def cluster_client(ctx: Context, region: str) -> tuple[Kube, bytes]:
    """The Kube client and kubeconfig of a region's cluster; NeedsUnknown if it is not there yet."""
    cache = _cache(ctx)
    with _lock:
        if region in cache:
            return cache[region]
    cluster = ctx.outputs.get(f"{region}/cluster", {})
    # No cluster, or one already being deleted (an interrupted `down`): its objects and
    # releases go with it, there is nothing to reach.
    if not cluster.get("id") or cluster.get("provisioning_state") == "Deleting":
        raise NeedsUnknown(f"{region}/cluster")
    # A cluster left Failed (e.g. its create ended Failed) has no API server to read; `up`
    # writes it again first, so in a plan what is inside it is unknown, not an error.
    if ctx.plan and not ctx.destroying and cluster.get("provisioning_state") == "Failed":
        raise NeedsUnknown(f"{region}/cluster")
    from raks.adapters.kube import Kube

    # One credentials call per region and command: the region's in-cluster steps start together,
    # so the first fetches while the others wait for it (they would each fetch otherwise).
    with _lock:
        region_lock = cast(threading.Lock, ctx.extra.setdefault(f"clusters-lock:{region}", threading.Lock()))
    with region_lock:
        with _lock:
            if region in cache:
                return cache[region]
        kubeconfig = ctx.azure.cluster_user_kubeconfig(
            ctx.cfg.resolved_resource_group(), names.region_names(ctx.cfg, region).cluster
        )
        pair = (Kube(kubeconfig), kubeconfig)
        with _lock:
            cache[region] = pair
    return pair


def helm_for(ctx: Context, region: str) -> Helm:
    """One Helm per region and command, so the add-on steps share its read of release records."""
    from raks.adapters.helm import Helm

    kube, kubeconfig = cluster_client(ctx, region)
    helms: dict[str, Helm] = ctx.extra.setdefault("helm", {})
    with _lock:
        if region not in helms:
            helms[region] = Helm(kube, kubeconfig, driver=str(ctx.extra.get("helm_driver", "engine")))
        return helms[region]


def remember_cluster(ctx: Context, region: str) -> bool:
    """For readers outside the step graph (status): look the region's cluster up once so
    `cluster_client` can reach it. False when there is no cluster."""
    key = f"{region}/cluster"
    if ctx.outputs.get(key, {}).get("id"):
        return True
    found = ctx.azure.get("cluster", ctx.cfg.resolved_resource_group(), names.region_names(ctx.cfg, region).cluster)
    if found is None:
        return False
    ctx.outputs.setdefault(key, {})["id"] = found.get("id")
    return True
