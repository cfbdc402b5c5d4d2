"""Helm add-ons of a region: ingress-nginx, the NVIDIA device plugin, and the Anyscale operator
(platform anyscale) or the KubeRay operator (platform kuberay).

Values are the shipped templates (templates/helm/*.yaml) merged with what raks computes and
then with the user's `addons.<name>.values`. A release already at the wanted chart version with
the same values is left alone (observed from Helm's own release records).

raks never creates an object a chart renders: it passes what the chart needs through values (the
operator's workload-identity client id is `global.auth.iamIdentity`, which the anyscale-operator
chart's templates/service_account.yaml puts on its ServiceAccount). An object an earlier raks
made is handed over to the release first (see HANDOVER). A release an interrupted run left
pending-* is rolled back (or uninstalled, if never deployed) before the next upgrade.
"""

from __future__ import annotations

from typing import Any

from raks import names, templating, vm_sizes
from raks.adapters.helm import Chart, HelmError, Pending, canonical
from raks.config import Addon, Pool, RaksConfig
from raks.steps.base import ABSENT, CREATE, DELETED, NOOP, UPDATE, Context, Diff, NeedsUnknown, Step
from raks.steps.identity import IDENTITY

# A Helm run that failed is run again (a few times, the release's pending state recovered first):
# client-go retries a request only on a 429 or a Retry-After (k8s.io/client-go rest/request.go,
# `checkWait`), so a single 500, 503 or reset connection from the API server fails a whole
# install, upgrade or uninstall. Helm's errors carry no HTTP status to tell transient from
# permanent, so every HelmFailed is retried; the last one is reported.
HELM_ATTEMPTS = 4


def with_retries(ctx: Context, helm: Any, run: Any) -> None:
    import time

    for attempt in range(HELM_ATTEMPTS):
        try:
            run()
            return
        except HelmError as exc:
            helm.forget()  # the release records changed (or may have): read them again
            if exc.code != "HelmFailed" or attempt == HELM_ATTEMPTS - 1:
                raise
            time.sleep(ctx.retry_delay * 2**attempt)


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
    if addon == "ingress_nginx" and cfg.platform == "kuberay" and cfg.kuberay.dashboard.public:
        # The dashboard Ingress admits only `allowed_cidrs` (allowlist-source-range), which needs the
        # client's address: with the default externalTrafficPolicy Cluster, Azure's load balancer
        # traffic is SNATed to a node address and every request would be refused. Local keeps it
        # (kubernetes.io "Create an External Load Balancer: Preserving the client source IP";
        # learn.microsoft.com/azure/aks/load-balancer-standard "Maintain the client's IP on
        # inbound connections").
        templating.set_path(values, "controller.service.externalTrafficPolicy", "Local")
    elif addon == "nvidia_device_plugin":
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


# Objects raks itself applied before it let the chart render them (raks <= this change made the
# operator's ServiceAccount in kube-objects; anyscale-operator 1.2.1 renders it in
# templates/service_account.yaml). Helm refuses to install over them ("invalid ownership
# metadata"), so they are handed over to the release first.
HANDOVER: dict[str, list[dict[str, Any]]] = {
    "anyscale_operator": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": names.OPERATOR_SERVICE_ACCOUNT}},
    ],
}
# Helm adopts an existing object that carries its ownership metadata: label
# app.kubernetes.io/managed-by=Helm and annotations meta.helm.sh/release-name and
# meta.helm.sh/release-namespace naming the release (helm/helm pkg/action/validate.go,
# checkOwnership / requireValue).
HELM_MANAGED_BY = ("app.kubernetes.io/managed-by", "Helm")
RELEASE_NAME = "meta.helm.sh/release-name"
RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"


def chart_of(cfg: RaksConfig, addon: str, chart_dir: str | None = None) -> Chart:
    """The add-on's chart; `chart_dir` (a local chart folder) replaces an https repository (a
    local folder the user gave stays)."""
    a: Addon = getattr(cfg.addons, addon)
    chart = Chart(release=a.release, chart=a.chart, repo=a.repo, version=a.version, namespace=a.namespace)
    if chart_dir and not chart.local:
        chart = Chart(release=a.release, chart=a.chart, repo=chart_dir, version=a.version, namespace=a.namespace)
    return chart


def chart_for(ctx: Context, addon: str) -> Chart:
    return chart_of(ctx.cfg, addon, ctx.extra.get("helm_chart_dir"))


def handover_objects(chart: Chart, addon: str) -> list[dict[str, Any]]:
    out = []
    for obj in HANDOVER.get(addon, []):
        copy = {**obj, "metadata": {**obj["metadata"], "namespace": chart.namespace}}
        out.append(copy)
    return out


def owned_by_release(obj: dict[str, Any], chart: Chart) -> bool:
    meta = obj.get("metadata") or {}
    labels, notes = meta.get("labels") or {}, meta.get("annotations") or {}
    return (
        labels.get(HELM_MANAGED_BY[0]) == HELM_MANAGED_BY[1]
        and notes.get(RELEASE_NAME) == chart.release
        and notes.get(RELEASE_NAMESPACE) == chart.namespace
    )


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
        """The deployed release, and a pending-* revision an interrupted run left (both from the
        region's one list of Helm records)."""
        from raks.steps.cluster_access import helm_for

        helm = helm_for(ctx, self.in_region)
        chart = chart_for(ctx, self.addon)
        release, pending = helm.current(chart), helm.pending(chart)
        if release is None and pending is None:
            return None
        return {"release": release, "pending": pending}

    def desired(self, ctx: Context) -> dict[str, Any]:
        chart = chart_for(ctx, self.addon)
        return {"chart": chart.chart, "version": chart.version, "values": values_for(ctx, self.addon, self.in_region)}

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        release = (observed or {}).get("release")
        pending: Pending | None = (observed or {}).get("pending")
        notes = [f"recover {pending.describe()}"] if pending else []
        if release is None:
            diff = Diff(CREATE)
        else:
            meta = (release.get("chart") or {}).get("metadata") or {}
            fields = ["status"] if pending else []
            if meta.get("name") != desired["chart"] or meta.get("version") != desired["version"]:
                fields.append(
                    f"chart {meta.get('name')} {meta.get('version')} -> {desired['chart']} {desired['version']}"
                )
            if canonical(release.get("config")) != canonical(desired["values"]):
                fields.append("values")
            diff = Diff(UPDATE, fields) if fields else Diff(NOOP)
        if diff.changes:
            # Only when Helm runs anyway: a converged re-run reads nothing more.
            notes += [f"hand {describe(o)} (made by an earlier raks) over to Helm" for o in self._to_hand_over(ctx)]
        diff.note = "; ".join(notes)
        return diff

    def _to_hand_over(self, ctx: Context) -> list[dict[str, Any]]:
        """Objects the chart renders that exist without the release's ownership metadata."""
        from raks.steps.cluster_access import cluster_client

        chart = chart_for(ctx, self.addon)
        wanted = handover_objects(chart, self.addon)
        if not wanted:
            return []
        try:
            kube, _ = cluster_client(ctx, self.in_region)
        except NeedsUnknown:
            return []  # a plan before the cluster exists: nothing to hand over yet
        found = [kube.get(o) for o in wanted]
        return [o for o in found if o is not None and not owned_by_release(o, chart)]

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        from raks.steps.cluster_access import cluster_client, helm_for

        helm = helm_for(ctx, self.in_region)
        chart = chart_for(ctx, self.addon)
        kube, _ = cluster_client(ctx, self.in_region)

        def run() -> None:
            # An interrupted run (or a failed try) left the release pending-*: Helm refuses any
            # other operation on it until it is rolled back (or, never deployed, uninstalled).
            helm.recover(chart)
            for obj in self._to_hand_over(ctx):
                meta = obj["metadata"]
                meta.setdefault("labels", {})[HELM_MANAGED_BY[0]] = HELM_MANAGED_BY[1]
                meta.setdefault("annotations", {}).update(
                    {RELEASE_NAME: chart.release, RELEASE_NAMESPACE: chart.namespace}
                )
                kube.replace(obj)
            helm.upgrade_install(chart, desired["values"])

        with_retries(ctx, helm, run)
        if self.addon == "kuberay_operator" and (observed or {}).get("release") is not None:
            # Helm never upgrades CRDs: apply the new chart's ones, or new RayJob fields are lost.
            for crd in helm.show_crds(chart):
                kube.apply(crd)
        return {"release": helm.current(chart), "pending": None}

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        release = (observed or {}).get("release")
        if not release:
            return {}
        meta = (release.get("chart") or {}).get("metadata") or {}
        return {
            "release": release.get("name"),
            "chart_version": meta.get("version"),
            "revision": release.get("version"),
        }

    def destroy(self, ctx: Context) -> str:
        """Uninstall while the cluster still answers (a release cannot be removed from a
        cluster that is being deleted)."""
        from raks.steps.cluster_access import helm_for

        try:
            helm = helm_for(ctx, self.in_region)
        except NeedsUnknown:
            return ABSENT
        chart = chart_for(ctx, self.addon)
        if not helm.records(chart):
            return ABSENT
        if not ctx.plan:
            with_retries(ctx, helm, lambda: helm.uninstall(chart))
        return DELETED


def describe(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}".replace(" /", " ")


def release_status(ctx: Context, region: str) -> dict[str, Any]:
    """`raks status`: the add-on releases of a region as Helm records them (None when the
    cluster is not there to ask)."""
    from raks.steps.cluster_access import helm_for, remember_cluster

    if not remember_cluster(ctx, region):
        return {"helm_releases": None}
    helm = helm_for(ctx, region)
    out = []
    for addon in addons_for(ctx.cfg):
        chart = chart_for(ctx, addon)
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
