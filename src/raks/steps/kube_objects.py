"""Kubernetes objects of a region: the operator namespace, the BlobFuse2 StorageClass and the
ReadWriteMany PVC; with spot fallback pools the autoscaler's priority-expander ConfigMap; with
platform kuberay the service account Ray pods run as (workload identity) and, with
`kuberay.dashboard.public`, the Ray dashboard Ingress (removed again when the setting is off).

Nothing a chart renders is made here: with platform anyscale the operator's ServiceAccount is the
anyscale-operator chart's (templates/service_account.yaml, annotated from
global.auth.iamIdentity); Helm refuses to install over an object it does not own. The KubeRay
chart renders only its operator's own account, so `ray-workloads` stays raks'.

All of them are applied with server-side apply as raks' field manager; only what raks sets is
compared. StorageClass parameters cannot change in place, so such a change is reported with
what to do rather than as the API server's 422.
"""

from __future__ import annotations

from typing import Any

from raks import names, templating
from raks.errors import CloudError
from raks.steps import pools
from raks.steps.base import ABSENT, CREATE, DELETED, NOOP, UPDATE, Context, Diff, NeedsUnknown, Step, same
from raks.steps.identity import IDENTITY
from raks.steps.storage import STORAGE

WORKLOAD_CLIENT_ID = "azure.workload.identity/client-id"


def operator_namespace(ctx: Context) -> str:
    return names.workload_identity(ctx.cfg)[0]


def desired_objects(ctx: Context) -> list[dict[str, Any]]:
    cfg, tdir = ctx.cfg, ctx.cfg.templates_dir
    ns_name = operator_namespace(ctx)
    account = ctx.outputs.get(STORAGE, {}).get("name") or names.storage_account_name(cfg, ctx.subscription_id)
    client_id = ctx.out(IDENTITY, "client_id")

    ns = templating.load("kube/namespace.yaml", tdir)
    ns["metadata"]["name"] = ns_name
    sc = templating.load("kube/storageclass.yaml", tdir)
    sc["metadata"]["name"] = cfg.storage.pvc_name
    sc["parameters"].update(
        {"storageAccount": account, "resourceGroup": cfg.resolved_resource_group(), "clientID": client_id}
    )
    pvc = templating.load("kube/pvc.yaml", tdir)
    pvc["metadata"].update({"name": cfg.storage.pvc_name, "namespace": ns_name})
    pvc["spec"]["storageClassName"] = cfg.storage.pvc_name
    pvc["spec"]["resources"]["requests"]["storage"] = cfg.storage.pvc_size
    objects = [ns, sc, pvc]
    if cfg.platform == "kuberay":
        sa = templating.load("kube/serviceaccount.yaml", tdir)
        sa["metadata"].update({"name": names.workload_identity(cfg)[1], "namespace": ns_name})
        sa["metadata"].setdefault("annotations", {})[WORKLOAD_CLIENT_ID] = client_id
        objects.insert(1, sa)
    if pools.has_fallback(cfg.pools):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": pools.PRIORITY_CONFIGMAP, "namespace": pools.PRIORITY_NAMESPACE},
                "data": pools.priority_expander(cfg.pools),
            }
        )
    if dashboard_public(cfg):
        objects.append(dashboard_ingress(ctx))
    return objects


# -- the Ray dashboard: private unless raks.yaml says otherwise ----------------------------------
# Its Jobs API runs whatever code is submitted to it, so by default no route reaches it from
# outside the cluster (users port-forward). `kuberay.dashboard.public` adds the Ingress behind the
# ingress-nginx load balancer, limited to `allowed_cidrs` by the controller's
# `nginx.ingress.kubernetes.io/allowlist-source-range` annotation (ingress-nginx docs,
# user-guide/nginx-configuration/annotations.md "Allowlist source range": a comma-separated list of
# CIDRs; `whitelist-source-range` is its older name).
ALLOWLIST = "nginx.ingress.kubernetes.io/allowlist-source-range"
DASHBOARD_SERVICE = "ray-head-svc"  # the head service name examples/kuberay/rayjob-tune.yaml sets


def dashboard_public(cfg: Any) -> bool:
    return bool(cfg.platform == "kuberay" and cfg.kuberay.dashboard.public)


def dashboard_ingress(ctx: Context) -> dict[str, Any]:
    ingress = templating.load("kube/ray-dashboard-ingress.yaml", ctx.cfg.templates_dir)
    ingress["metadata"]["namespace"] = names.KUBERAY_NAMESPACE
    ingress["metadata"].setdefault("annotations", {})[ALLOWLIST] = ",".join(ctx.cfg.kuberay.dashboard.allowed_cidrs)
    return ingress


def stale_objects(ctx: Context) -> list[dict[str, Any]]:
    """Objects an earlier raks made that raks.yaml no longer wants: a public dashboard Ingress
    (earlier raks made one for every kuberay deployment)."""
    if ctx.cfg.platform != "kuberay" or dashboard_public(ctx.cfg):
        return []
    return [dashboard_ingress(ctx)]


REMOVE = "remove "


def describe(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata']['name']}"


def _owned(obj: dict[str, Any]) -> dict[str, Any]:
    """The parts of a desired object raks compares (metadata beyond names/labels is the server's)."""
    meta = obj["metadata"]
    out: dict[str, Any] = {k: v for k, v in obj.items() if k not in ("metadata", "apiVersion", "kind")}
    if meta.get("annotations"):
        out["metadata"] = {"annotations": meta["annotations"]}
    return out


class KubeObjectsStep(Step):
    def __init__(self, region: str) -> None:
        self.region = region
        self.key = f"{region}/kube-objects"
        self.needs = (f"{region}/cluster", IDENTITY, STORAGE)
        self.title = "Kubernetes objects (namespace, StorageClass, PVC)"

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        from raks.adapters.kube import MANAGED_BY
        from raks.steps.cluster_access import cluster_client

        kube, _ = cluster_client(ctx, self.in_region)
        found = {describe(o): kube.get(o) for o in desired_objects(ctx)}
        for obj in stale_objects(ctx):
            old = kube.get(obj)
            if old is not None and (old["metadata"].get("labels") or {}).get(MANAGED_BY[0]) == MANAGED_BY[1]:
                found[REMOVE + describe(obj)] = old
        return found if any(found.values()) else None

    def desired(self, ctx: Context) -> dict[str, Any]:
        return {describe(o): o for o in desired_objects(ctx)}

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        if observed is None:
            return Diff(CREATE)
        changed = [name for name, obj in desired.items() if not same(_owned(obj), observed.get(name))]
        sc_name = next(n for n in desired if n.startswith("StorageClass "))
        old_sc = observed.get(sc_name)
        params_changed = old_sc is not None and not same(desired[sc_name]["parameters"], old_sc.get("parameters"))
        if sc_name in changed and params_changed:
            raise CloudError(
                f"{sc_name}: its parameters differ from raks.yaml and Kubernetes cannot change them in place",
                code="ImmutableField",
                hint=f"delete it with `kubectl delete storageclass {desired[sc_name]['metadata']['name']}` "
                "(volumes keep their data: reclaimPolicy Retain), then run raks up again",
            )
        changed += [name for name in observed if name.startswith(REMOVE)]
        return Diff(UPDATE, changed) if changed else Diff(NOOP)

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        from raks.steps.cluster_access import cluster_client

        kube, _ = cluster_client(ctx, self.in_region)
        result = dict(observed or {})
        for name, obj in desired.items():
            if diff.action == CREATE or name in diff.fields:
                result[name] = kube.apply(obj)
        for name in [f for f in diff.fields if f.startswith(REMOVE)]:
            kube.delete(result.pop(name))
        return result

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        return {"namespace": operator_namespace(ctx)} if observed else {}

    def destroy(self, ctx: Context) -> str:
        """Remove raks' objects before the cluster goes. The PVC's volume has reclaimPolicy
        Retain, so its blob data stays in the storage account."""
        from raks.adapters.kube import MANAGED_BY
        from raks.steps.cluster_access import cluster_client

        try:
            kube, _ = cluster_client(ctx, self.in_region)
        except NeedsUnknown:
            return ABSENT
        removed = False
        for obj in [*stale_objects(ctx), *reversed(desired_objects(ctx))]:
            found = kube.get(obj)
            if found is None or (found["metadata"].get("labels") or {}).get(MANAGED_BY[0]) != MANAGED_BY[1]:
                continue  # absent, or not raks' (e.g. a namespace someone else made)
            removed = True
            if not ctx.plan:
                kube.delete(obj)
        return DELETED if removed else ABSENT
