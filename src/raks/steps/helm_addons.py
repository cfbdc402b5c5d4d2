"""Helm add-ons of a region: ingress-nginx, the NVIDIA device plugin, and the Anyscale operator
(platform anyscale) or the KubeRay operator (platform kuberay).

Values are the shipped templates (templates/helm/*.yaml) merged with what raks computes and
then with the user's `addons.<name>.values`. A release already at the wanted chart version with
the same values is left alone (observed from Helm's own release records).
"""

from __future__ import annotations

from typing import Any

from raks import names, templating, vm_sizes
from raks.adapters.helm import Chart, canonical
from raks.config import Addon, Pool, RaksConfig
from raks.steps.base import ABSENT, CREATE, DELETED, NOOP, UPDATE, Context, Diff, NeedsUnknown, Step
from raks.steps.identity import IDENTITY

TEMPLATES = {
    "ingress_nginx": "helm/ingress-nginx.yaml",
    "nvidia_device_plugin": "helm/nvidia-device-plugin.yaml",
    "anyscale_operator": "helm/anyscale-operator.yaml",
    "kuberay_operator": "helm/kuberay-operator.yaml",
}


def gpu_pools(cfg: RaksConfig) -> list[Pool]:
    out = []
    for pool in cfg.pools:
        size = vm_sizes.lookup(pool.vm_size)
        if (size is not None and size.gpus) or "nvidia.com/gpu.count" in pool.labels:
            out.append(pool)
    return out


def addons_for(cfg: RaksConfig) -> list[str]:
    """Which add-ons this deployment installs, in order."""
    wanted = ["ingress_nginx"]
    # AKS-managed GPU pools bring their own device plugin; a second one would register
    # nvidia.com/gpu twice.
    if any(not p.aks_managed_gpu for p in gpu_pools(cfg)):
        wanted.append("nvidia_device_plugin")
    wanted.append("anyscale_operator" if cfg.platform == "anyscale" else "kuberay_operator")
    return [name for name in wanted if getattr(cfg.addons, name).enabled]


def instance_types(cfg: RaksConfig) -> dict[str, Any]:
    """Anyscale instance types derived from the GPU pools (the reference hand-writes them)."""
    out: dict[str, Any] = {}
    for pool in gpu_pools(cfg):
        size = vm_sizes.lookup(pool.vm_size)
        if size is None or not size.gpus:
            continue
        cpu, mem = vm_sizes.pod_resources(size)
        short = size.accelerator.split("-")[0] or "GPU"
        out[f"{size.gpus}x{short}"] = {
            "resources": {"CPU": cpu, "GPU": size.gpus, "memory": f"{mem}Gi", "accelerators": [size.accelerator]}
        }
    return out


def device_plugin_tolerations(cfg: RaksConfig, base: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = [t["key"] for t in base]
    for pool in gpu_pools(cfg):
        for taint in pool.taints:
            key = taint.split(":")[0].split("=")[0]
            if key not in keys:
                keys.append(key)
                base.append({"key": key, "operator": "Exists", "effect": "NoSchedule"})
    return base


def values_for(ctx: Context, addon: str, region: str) -> dict[str, Any]:
    cfg = ctx.cfg
    values: dict[str, Any] = templating.load(TEMPLATES[addon], cfg.templates_dir) or {}
    if addon == "nvidia_device_plugin":
        values["tolerations"] = device_plugin_tolerations(cfg, list(values.get("tolerations") or []))
    elif addon == "anyscale_operator":
        templating.set_path(
            values, "global.cloudDeploymentId", ctx.out(f"{region}/anyscale-resource", "cloud_resource_id")
        )
        templating.set_path(values, "global.auth.iamIdentity", ctx.out(IDENTITY, "client_id"))
        templating.set_path(values, "global.auth.audience", f"api://{cfg.anyscale.operator_app_id}/.default")
        templating.set_path(values, "workloads.serviceAccount.name", names.OPERATOR_SERVICE_ACCOUNT)
        types = instance_types(cfg)
        if types:
            templating.set_path(values, "workloads.instanceTypes.additional", types)
    addon_cfg: Addon = getattr(cfg.addons, addon)
    return templating.merge(values, addon_cfg.values)


def chart_of(cfg: RaksConfig, addon: str) -> Chart:
    a: Addon = getattr(cfg.addons, addon)
    return Chart(release=a.release, chart=a.chart, repo=a.repo, version=a.version, namespace=a.namespace)


class HelmReleaseStep(Step):
    def __init__(self, region: str, addon: str, cfg: RaksConfig) -> None:
        self.region, self.addon = region, addon
        chart = chart_of(cfg, addon)
        self.key = f"{region}/helm-{chart.release}"
        needs = [f"{region}/cluster"]
        if addon in ("anyscale_operator", "kuberay_operator"):
            needs.append(f"{region}/kube-objects")
        if addon == "anyscale_operator":
            needs += [f"{region}/anyscale-resource", f"{region}/federated-credential"]
        self.needs = tuple(needs)
        self.title = f"helm {chart.release} ({chart.chart} {chart.version})"

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        from raks.steps.cluster_access import helm_for

        return helm_for(ctx, self.in_region).current(chart_of(ctx.cfg, self.addon))

    def desired(self, ctx: Context) -> dict[str, Any]:
        chart = chart_of(ctx.cfg, self.addon)
        return {"chart": chart.chart, "version": chart.version, "values": values_for(ctx, self.addon, self.in_region)}

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        if observed is None:
            return Diff(CREATE)
        meta = (observed.get("chart") or {}).get("metadata") or {}
        fields = []
        if meta.get("name") != desired["chart"] or meta.get("version") != desired["version"]:
            fields.append(f"chart {meta.get('name')} {meta.get('version')} -> {desired['chart']} {desired['version']}")
        if canonical(observed.get("config")) != canonical(desired["values"]):
            fields.append("values")
        return Diff(UPDATE, fields) if fields else Diff(NOOP)

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        from raks.steps.cluster_access import helm_for

        helm = helm_for(ctx, self.in_region)
        chart = chart_of(ctx.cfg, self.addon)
        helm.upgrade_install(chart, desired["values"])
        if self.addon == "kuberay_operator" and diff.action != CREATE:
            # Helm never upgrades CRDs: apply the new chart's ones, or new RayJob fields are lost.
            from raks.steps.cluster_access import cluster_client

            kube, _ = cluster_client(ctx, self.in_region)
            for crd in helm.show_crds(chart):
                kube.apply(crd)
        return helm.current(chart) or {}

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        if not observed:
            return {}
        meta = (observed.get("chart") or {}).get("metadata") or {}
        return {
            "release": observed.get("name"),
            "chart_version": meta.get("version"),
            "revision": observed.get("version"),
        }

    def destroy(self, ctx: Context) -> str:
        """Uninstall while the cluster still answers (a release cannot be removed from a
        cluster that is being deleted)."""
        from raks.steps.cluster_access import helm_for

        try:
            helm = helm_for(ctx, self.in_region)
        except NeedsUnknown:
            return ABSENT
        chart = chart_of(ctx.cfg, self.addon)
        if helm.current(chart) is None and not helm.records(chart):
            return ABSENT
        if not ctx.plan:
            helm.uninstall(chart)
        return DELETED


def release_status(ctx: Context, region: str) -> dict[str, Any]:
    """`raks status`: the add-on releases of a region as Helm records them (None when the
    cluster is not there to ask)."""
    from raks.steps.cluster_access import helm_for, remember_cluster

    if not remember_cluster(ctx, region):
        return {"helm_releases": None}
    helm = helm_for(ctx, region)
    out = []
    for addon in addons_for(ctx.cfg):
        chart = chart_of(ctx.cfg, addon)
        current = helm.current(chart)
        meta = ((current or {}).get("chart") or {}).get("metadata") or {}
        out.append(
            {
                "release": chart.release,
                "namespace": chart.namespace,
                "chart": chart.chart,
                "version": meta.get("version"),
                "wanted_version": chart.version,
                "status": ((current or {}).get("info") or {}).get("status", "not installed"),
                "revision": (current or {}).get("version"),
            }
        )
    return {"helm_releases": out}
