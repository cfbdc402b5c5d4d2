"""What `raks up -o json` tells a pipeline to use next, gathered from the steps' outputs.

The engine keeps each step's outputs by step key (`global/identity`, `uksouth/cluster` ...);
this turns them into the documented fields (README, "up JSON") so a pipeline never has to
know step keys: ids, names, the kubeconfig command, the Anyscale cloud and resource ids.
"""

from __future__ import annotations

from typing import Any


def _get(outputs: dict[str, dict[str, Any]], key: str, name: str) -> Any:
    return (outputs.get(key) or {}).get(name)


def _ids(outputs: dict[str, dict[str, Any]], prefix: str) -> list[str]:
    """Every ARM id among the outputs of the steps under `prefix` (e.g. "uksouth/"), once."""
    ids: list[str] = []
    for key, values in outputs.items():
        if not key.startswith(prefix):
            continue
        for name in ("id", "subnet_id"):
            value = values.get(name)
            if isinstance(value, str) and value.startswith("/subscriptions/") and value not in ids:
                ids.append(value)
    return ids


def ray_dashboard(cfg: Any, region: str) -> dict[str, Any] | None:
    """How to reach a region's Ray dashboard (platform kuberay; None otherwise). It is private
    unless `kuberay.dashboard.public`: then also behind the ingress-nginx load balancer at /ray/,
    for `allowed_cidrs` only. KubeRay names a cluster's head service `<cluster>-head-svc`; the
    example RayJob fixes it to `ray-head-svc`."""
    from raks import names
    from raks.steps.kube_objects import DASHBOARD_SERVICE

    if cfg.platform != "kuberay":
        return None
    dashboard = cfg.kuberay.dashboard
    return {
        "public": dashboard.public,
        "allowed_cidrs": list(dashboard.allowed_cidrs) if dashboard.public else [],
        "port_forward_command": f"kubectl --kubeconfig kubeconfig-{region} -n {names.KUBERAY_NAMESPACE} "
        f"port-forward svc/{DASHBOARD_SERVICE} 8265:8265",
        "local_url": "http://localhost:8265",
    }


def dashboard_lines(cfg: Any) -> list[str]:
    """The text summary's lines about the Ray dashboard, one per region."""
    lines = []
    for region in cfg.regions:
        access = ray_dashboard(cfg, region)
        if access is None:
            continue
        where = (
            f"public at /ray/ on the ingress-nginx load balancer, from {', '.join(access['allowed_cidrs'])}; or"
            if access["public"]
            else "private (no public route);"
        )
        lines.append(
            f"Ray dashboard ({region}): {where} `raks kubeconfig {region}`, then "
            f"`{access['port_forward_command']}` and open {access['local_url']}"
        )
    return lines


def summary(cfg: Any, subscription_id: str, outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The `global`, `regions` and `resource_ids` fields of the up document."""
    from raks import names

    identity = "global/identity"
    glob = {
        "resource_group": cfg.resolved_resource_group(),
        "resource_group_id": _get(outputs, "global/resource-group", "id"),
        "identity_id": _get(outputs, identity, "id"),
        "identity_client_id": _get(outputs, identity, "client_id"),
        "identity_principal_id": _get(outputs, identity, "principal_id"),
        "tenant_id": _get(outputs, identity, "tenant_id"),
        "storage_account": _get(outputs, "global/storage-account", "name")
        or names.storage_account_name(cfg, subscription_id),
        "storage_account_id": _get(outputs, "global/storage-account", "id"),
        "storage_container": cfg.resolved_container(),
        "anyscale_cloud_id": _get(outputs, "global/anyscale-cloud", "cloud_id"),
        "anyscale_cloud_name": _get(outputs, "global/anyscale-cloud", "name"),
    }
    regions = []
    for region in cfg.regions:
        cluster = f"{region}/cluster"
        regions.append(
            {
                "region": region,
                "cluster": _get(outputs, cluster, "name") or names.cluster_name(cfg, region),
                "cluster_id": _get(outputs, cluster, "id"),
                "oidc_issuer_url": _get(outputs, cluster, "issuer_url"),
                "kubeconfig_command": f"raks kubeconfig {region}",
                "subnet_id": _get(outputs, f"{region}/vnet", "subnet_id"),
                "anyscale_cloud_resource_id": _get(outputs, f"{region}/anyscale-resource", "cloud_resource_id"),
                "ray_dashboard": ray_dashboard(cfg, region),
                "resource_ids": _ids(outputs, f"{region}/"),
            }
        )
    every = _ids(outputs, "global/") + [i for r in regions for i in r["resource_ids"]]
    return {"global": glob, "regions": regions, "resource_ids": every}


def next_steps(cfg: Any, outputs: dict[str, dict[str, Any]], *, sandbox: bool, verdict: str) -> str:
    """The end of a human `raks up`: what was built, and what to type next."""
    from raks import names

    flag = " --sandbox" if sandbox else ""
    lines = [f"raks up: {verdict}."]
    glob = summary(cfg, "", outputs)["global"] if outputs else {}
    built = [f"cluster {names.cluster_name(cfg, r)} ({r})" for r in cfg.regions if outputs.get(f"{r}/cluster")]
    if built:
        lines.append("Ready: " + ", ".join(built) + ".")
    shared = [f"resource group {cfg.resolved_resource_group()}"]
    if glob.get("storage_account") and outputs.get("global/storage-account"):
        shared.append(f"storage account {glob['storage_account']} (container {glob['storage_container']})")
    if outputs.get("global/identity"):
        shared.append(f"identity {cfg.resolved_identity_name()}")
    if glob.get("anyscale_cloud_name"):
        shared.append(f"Anyscale cloud {glob['anyscale_cloud_name']}")
    lines.append("Shared: " + ", ".join(shared) + ".")
    lines.append("Next:")
    first = cfg.regions[0] if cfg.regions else "REGION"
    for region in cfg.regions:
        lines.append(f"  raks kubeconfig {region}{flag}   then: kubectl --kubeconfig kubeconfig-{region} get nodes")
    if cfg.platform == "kuberay":
        lines.append(f"  raks submit --region {first}{flag} examples/kuberay/rayjob-tune.yaml   (a Ray Tune sweep)")
        lines.append(
            "  Ray dashboard: the port-forward command printed on stdout above (kuberay.dashboard in raks.yaml)"
        )
    elif glob.get("anyscale_cloud_name") and sandbox:
        lines.append(
            f"  Anyscale: the cloud {glob['anyscale_cloud_name']} is registered with the sandbox's emulated Anyscale"
        )
    elif glob.get("anyscale_cloud_name"):
        lines.append(
            f"  Anyscale: the cloud {glob['anyscale_cloud_name']} is ready for workspaces and jobs "
            "(anyscale cloud list; https://console.anyscale.com)"
        )
    lines.append(f"  raks status{flag}   ·   raks down{flag}   (keeps the data unless --delete-data)")
    if sandbox:
        lines.append("  The sandbox keeps running in the background for kubectl: raks sandbox stop ends it.")
    return "\n".join(lines)
