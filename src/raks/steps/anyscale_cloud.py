"""The Anyscale cloud (registered once, from the primary region) and each region's cloud
resource, whose id the region's operator release needs.

Everything goes through the real `anyscale` CLI and is verified by reading the cloud back as
JSON; the cloud is read once per command and again after each change.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from raks import names, templating
from raks.errors import CloudError
from raks.steps.base import ABSENT, CREATE, DELETED, KEPT, NOOP, Context, Diff, Step
from raks.steps.identity import IDENTITY
from raks.steps.storage import STORAGE

if TYPE_CHECKING:
    from raks.adapters.anyscale import Anyscale

CLOUD = "global/anyscale-cloud"
_lock = threading.Lock()


def client(ctx: Context) -> Anyscale:
    found = ctx.extra.get("anyscale")
    if found is None:
        raise CloudError("internal: no Anyscale connection in this context")
    return found


def read_cloud(ctx: Context, *, fresh: bool = False) -> dict[str, Any] | None:
    with _lock:  # one read at a time: a prefetch in flight makes the others wait for its answer
        if fresh or "anyscale_cloud" not in ctx.extra:
            ctx.extra["anyscale_cloud"] = client(ctx).get_cloud(ctx.cfg.resolved_cloud_name())
        return ctx.extra["anyscale_cloud"]


def resource_file(ctx: Context, region: str) -> dict[str, Any]:
    cfg = ctx.cfg
    account = ctx.outputs.get(STORAGE, {}).get("name") or names.storage_account_name(cfg, ctx.subscription_id)
    res: dict[str, Any] = templating.load("anyscale/cloud-resource.yaml", cfg.templates_dir)
    res["name"] = names.region_names(cfg, region).anyscale_resource
    res["region"] = region
    templating.set_path(
        res, "object_storage.bucket_name", f"abfss://{cfg.resolved_container()}@{account}.dfs.core.windows.net"
    )
    templating.set_path(res, "file_storage.persistent_volume_claim", cfg.storage.pvc_name)
    templating.set_path(res, "azure_config.tenant_id", ctx.out(IDENTITY, "tenant_id"))
    # Registration wants the identity's principal (object) id; the operator's Helm values
    # want its client id (anchors-pains #3): both come from the same identity.
    templating.set_path(res, "kubernetes_config.anyscale_operator_iam_identity", ctx.out(IDENTITY, "principal_id"))
    return res


def find_resource(cloud: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    from raks.adapters.anyscale import resource_by_name

    return resource_by_name(cloud, name)


class AnyscaleCloudStep(Step):
    key = CLOUD
    needs = (IDENTITY, STORAGE, "global/storage-container")

    def __init__(self, cloud_name: str) -> None:
        self.title = f"Anyscale cloud {cloud_name}"

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        return read_cloud(ctx)

    def desired(self, ctx: Context) -> dict[str, Any]:
        return {"name": ctx.cfg.resolved_cloud_name(), "primary": resource_file(ctx, ctx.cfg.resolved_primary_region())}

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        return Diff(CREATE) if observed is None else Diff(NOOP)

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        client(ctx).register(desired["name"], desired["primary"])
        cloud = read_cloud(ctx, fresh=True)
        if cloud is None:
            raise CloudError(
                f"anyscale cloud register reported success but cloud {desired['name']} is not there",
                code="AnyscaleNotRegistered",
            )
        return cloud

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        return {"cloud_id": (observed or {}).get("id"), "name": ctx.cfg.resolved_cloud_name()} if observed else {}

    def destroy(self, ctx: Context) -> str:
        """The whole cloud goes with the last region (its resources with it)."""
        cloud = read_cloud(ctx)
        if cloud is None:
            return ABSENT
        if not ctx.plan:
            client(ctx).delete_cloud(ctx.cfg.resolved_cloud_name())
            if read_cloud(ctx, fresh=True) is not None:
                raise CloudError(
                    f"anyscale cloud delete left {ctx.cfg.resolved_cloud_name()} in place", code="AnyscaleNotDeleted"
                )
        return DELETED


class AnyscaleResourceStep(Step):
    def __init__(self, region: str) -> None:
        self.region = region
        self.key = f"{region}/anyscale-resource"
        self.needs = (CLOUD,)
        self.title = f"Anyscale cloud resource k8s-azure-{region}"

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        return find_resource(read_cloud(ctx), f"k8s-azure-{self.in_region}")

    def desired(self, ctx: Context) -> dict[str, Any]:
        return resource_file(ctx, self.in_region)

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        return Diff(CREATE) if observed is None else Diff(NOOP)

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        client(ctx).add_resource(ctx.cfg.resolved_cloud_name(), desired)
        found = find_resource(read_cloud(ctx, fresh=True), desired["name"])
        if found is None:  # the CLI exits 0 on some failures: trust only what reads back
            raise CloudError(
                f"anyscale cloud resource {desired['name']} was not created", code="AnyscaleResourceMissing"
            )
        return found

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        if not observed:
            return {}
        return {"cloud_resource_id": observed.get("cloud_resource_id") or observed.get("cloud_deployment_id")}

    def destroy(self, ctx: Context) -> str:
        """Remove this region's resource. The cloud's first resource cannot be removed on its
        own (Anyscale refuses, and its CLI still exits 0): it goes when the cloud goes."""
        cloud = read_cloud(ctx)
        name = f"k8s-azure-{self.in_region}"
        found = find_resource(cloud, name)
        if found is None:
            return ABSENT
        first = ((cloud or {}).get("resources") or [{}])[0].get("name")
        if first == name:
            return f"{KEPT}: the cloud's first resource, removed with the cloud when the last region goes"
        if not ctx.plan:
            client(ctx).delete_resource(ctx.cfg.resolved_cloud_name(), name)
            if find_resource(read_cloud(ctx, fresh=True), name) is not None:
                raise CloudError(
                    f"anyscale cloud resource {name} is still there after delete", code="AnyscaleNotDeleted"
                )
        return DELETED


def cloud_status(ctx: Context) -> dict[str, Any]:
    """`raks status`: the Anyscale cloud (None when the platform is not anyscale)."""
    if ctx.cfg.platform != "anyscale" or ctx.extra.get("anyscale") is None:
        return {"anyscale_cloud": None}
    cloud = read_cloud(ctx)
    if cloud is None:
        return {"anyscale_cloud": {"name": ctx.cfg.resolved_cloud_name(), "exists": False}}
    return {"anyscale_cloud": {"name": cloud.get("name"), "exists": True, "id": cloud.get("id")}}


def resource_status(ctx: Context, region: str) -> dict[str, Any]:
    if ctx.cfg.platform != "anyscale" or ctx.extra.get("anyscale") is None:
        return {"anyscale_cloud_resource_id": None}
    found = find_resource(read_cloud(ctx), f"k8s-azure-{region}")
    return {"anyscale_cloud_resource_id": (found or {}).get("cloud_resource_id") or ""}


def prefetch(ctx: Context) -> None:
    """Start reading the cloud now: the CLI takes about a second to start, which then overlaps
    the Azure reads instead of waiting behind them (read_cloud blocks until it is done)."""
    if ctx.cfg.platform != "anyscale" or ctx.extra.get("anyscale") is None:
        return

    def quietly() -> None:
        # A failure here is not reported: the step's own read (which this only warms) retries
        # and reports it where it belongs, with region and step.
        try:
            read_cloud(ctx)
        except Exception:
            ctx.extra.pop("anyscale_cloud", None)

    threading.Thread(target=quietly, name="raks-anyscale-prefetch", daemon=True).start()
