"""The JSON documents `--output json` prints, as pydantic models: the one definition of the
public schema. Every command passes its document through `document()`, so output that does
not match the model fails (in the tests) instead of drifting from the published schema.

`python -m raks.cli.schemas --write schemas/` writes the JSON Schema files checked into the
repository; a test regenerates them and compares, so they are always current.

Compatibility: adding an optional field keeps `schema_version`; renaming, removing or retyping
a field, or changing what it means, bumps it (per document: VERSIONS).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
Version = Literal[1]
# Documents whose version moved on. regions 2: `regions` lists every region offering the size
# (restricted and short-of-quota ones too, marked), ranked by cost and eviction band, no longer
# only the fitting ones by headroom.
VERSIONS: dict[str, int] = {"regions": 2}


class _Model(BaseModel):
    # Unknown keys are an error: a field the CLI adds must be added here (and to the schema).
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ErrorInfo(_Model):
    code: str | None = None
    message: str


class StepDoc(_Model):
    """One step of a plan or run (`key` is `<region or global>/<step>`)."""

    key: str
    region: str | None
    title: str
    action: str | None = Field(description="create, update, no change, delete, or null when unknown")
    fields: list[str] = Field(description="dotted paths an update changes")
    state: str = Field(description="pending, done, failed, skipped ...")
    seconds: float
    outcome: str | None = Field(None, description="destroy: deleted, absent, kept: ..., not ours: ...")
    error: ErrorInfo | None = None


# -- cost (plan, status) -----------------------------------------------------------------------
class HourlyDoc(_Model):
    """One hour of the pools at one node-count basis, in the cost's currency."""

    spot: float
    on_demand: float
    total: float


class PoolPriceDoc(_Model):
    pool: str
    vm_size: str
    spot: bool
    hourly_price: float | None = Field(description="one node for one hour; null: Azure lists no price for it")
    min: int
    max: int
    nodes: int | None = Field(None, description="status: nodes running now")


class RegionCostDoc(_Model):
    region: str
    min: HourlyDoc = Field(description="every pool at its min count")
    max: HourlyDoc = Field(description="every pool at its max count")
    current: HourlyDoc | None = Field(None, description="status: the nodes running now")
    pools: list[PoolPriceDoc]
    unpriced: list[str] = Field(description="pools without a price, left out of the figures")


class CostTotalDoc(_Model):
    min: HourlyDoc
    max: HourlyDoc
    current: HourlyDoc | None = None


class CostDoc(_Model):
    """What the node pools cost per hour (Azure Retail Prices API). `available: false` with an
    `error` when the prices could not be read; the rest of the document is unaffected."""

    currency: str = Field(description="ISO 4217 code of every figure (Retail Prices API currencyCode)")
    source: str
    fetched_at: str = Field(description="ISO-8601 UTC time the prices were read")
    scope: str = Field(description="what is counted (the pools' VMs) and what is not")
    available: bool
    error: str | None = None
    regions: list[RegionCostDoc] | None = None
    total: CostTotalDoc | None = None


# -- plan --------------------------------------------------------------------------------------
class PlanDoc(_Model):
    """`raks plan -o json` (and `raks plan --destroy -o json`, with `destroy: true`)."""

    schema_version: Version
    command: Literal["plan"]
    destroy: bool = False
    deployment: str
    regions: list[str]
    remaining: list[str] | None = Field(None, description="destroy: regions that stay (the shared resources stay)")
    delete_data: bool | None = None
    changes: bool = Field(description="true when `raks up` (or `raks down`) would change something")
    steps: list[StepDoc]
    cost: CostDoc | None = Field(None, description="plan (not --destroy): the pools' hourly cost at min and max")


# -- up ----------------------------------------------------------------------------------------
class GlobalOutputs(_Model):
    """What users need next from the shared resources (null: not created / not known)."""

    resource_group: str
    resource_group_id: str | None
    identity_id: str | None
    identity_client_id: str | None
    identity_principal_id: str | None
    tenant_id: str | None
    storage_account: str | None
    storage_account_id: str | None
    storage_container: str
    anyscale_cloud_id: str | None
    anyscale_cloud_name: str | None


class RayDashboardAccess(_Model):
    """How to reach the Ray dashboard (platform kuberay)."""

    public: bool = Field(description="behind the ingress-nginx load balancer at /ray/ (kuberay.dashboard.public)")
    allowed_cidrs: list[str] = Field(description="source ranges the public route admits (empty: private)")
    port_forward_command: str = Field(
        description="e.g. `kubectl --kubeconfig kubeconfig-uksouth -n ray port-forward svc/ray-head-svc 8265:8265`"
    )
    local_url: str = Field(description="where the port-forwarded dashboard answers")


class RegionOutputs(_Model):
    region: str
    cluster: str | None
    cluster_id: str | None
    oidc_issuer_url: str | None
    kubeconfig_command: str = Field(description="writes the cluster's kubeconfig, e.g. `raks kubeconfig uksouth`")
    subnet_id: str | None
    anyscale_cloud_resource_id: str | None
    ray_dashboard: RayDashboardAccess | None = Field(description="platform kuberay: how to reach the Ray dashboard")
    resource_ids: list[str] = Field(description="every Azure resource id raks manages in this region")


class UpDoc(_Model):
    """`raks up -o json`."""

    schema_version: Version
    command: Literal["up"]
    deployment: str
    result: str = Field(description="ok, partial (failed: ...) or failed")
    global_: GlobalOutputs = Field(alias="global")
    regions: list[RegionOutputs]
    resource_ids: list[str] = Field(description="every Azure resource id raks manages, shared and per region")
    steps: list[StepDoc]
    outputs: dict[str, dict[str, Any]] = Field(description="raw step outputs by step key")


# -- down --------------------------------------------------------------------------------------
class Leftover(_Model):
    id: str | None
    type: str | None
    name: str | None


class DownDoc(_Model):
    """`raks down -o json`."""

    schema_version: Version
    command: Literal["down"]
    deployment: str
    result: str
    regions: list[str]
    remaining: list[str]
    delete_data: bool
    steps: list[StepDoc]
    leftovers: list[Leftover] = Field(description="resources still tagged with the deployment")


# -- preflight ---------------------------------------------------------------------------------
class Check(_Model):
    region: str = Field(description='an Azure region, "global" or "tools"')
    check: str
    status: Literal["ok", "warn", "fail"]
    figure: str
    fix: str


class PreflightDoc(_Model):
    """`raks preflight -o json`."""

    schema_version: Version
    command: Literal["preflight"]
    deployment: str
    regions: list[str]
    result: Literal["ok", "warn", "fail"]
    seconds: float
    credential: str = Field(description="which credential authenticated (never the secret)")
    subscription: str
    checks: list[Check]


# -- status ------------------------------------------------------------------------------------
class Resource(_Model):
    name: str
    exists: bool
    managed_by_raks: bool | None = None


class IdentityStatus(Resource):
    client_id: str | None = None
    principal_id: str | None = None


class GlobalStatus(_Model):
    resource_group: Resource | None = None
    identity: IdentityStatus | None = None
    storage_account: Resource | None = None
    container: Resource | None = None
    anyscale_cloud: dict[str, Any] | None = None
    error: ErrorInfo | None = None


class ClusterStatus(Resource):
    provisioning_state: str | None = None
    power_state: str | None = None
    kubernetes_version: str | None = None
    fqdn: str | None = None


class PoolStatus(_Model):
    name: str | None
    mode: str | None
    vm_size: str | None
    spot: bool
    gpu: bool
    nodes: int
    min: int
    max: int
    autoscale: bool
    taints: list[str]
    provisioning_state: str | None
    quota: str | None


class QuotaStatus(_Model):
    name: str
    kind: Literal["gpu", "spot"]
    # vCPU counts: Compute "Usage - List" returns currentValue int32 and limit int64.
    used: int | None
    limit: int | None
    unit: str


class RegionStatus(_Model):
    region: str
    cluster: ClusterStatus | None = None
    pools: list[PoolStatus] | None = None
    quota: list[QuotaStatus] | None = None
    helm_releases: list[dict[str, Any]] | None = None
    anyscale_cloud_resource_id: str | None = None
    error: ErrorInfo | None = None


class DriftStep(_Model):
    key: str
    region: str | None
    title: str
    action: str | None
    fields: list[str]
    error: ErrorInfo | None = None


class Drift(_Model):
    changes: int | None = None
    create: int | None = None
    update: int | None = None
    failed: int | None = None
    steps: list[DriftStep] | None = None
    error: ErrorInfo | None = None


class StatusDoc(_Model):
    """`raks status -o json` (README, "status JSON")."""

    schema_version: Version
    command: Literal["status"]
    deployment: str
    resource_group: str
    global_: GlobalStatus = Field(alias="global")
    regions: list[RegionStatus]
    drift: Drift
    cost: CostDoc | None = Field(None, description="the pools Azure reports, at min, max and current counts")


# -- regions -----------------------------------------------------------------------------------
class RegionAdvice(_Model):
    region: str
    rank: int = Field(description="1 = best by the ranking rule (README, Region advice)")
    fits: bool = Field(description="offered, unrestricted, and the free quota holds `count` nodes")
    restricted: bool = Field(description="the size is restricted for this subscription in the region")
    nodes: int = Field(description="nodes of the size the free quota holds")
    quota: str | None = Field(description="the limiting quota (null: not reported)")
    free_vcpus: int | None
    limit_vcpus: int | None
    zones: list[str] = Field(description="zones where the size is usable")
    on_demand_hourly: float | None = Field(description="one on-demand node, one hour (null: no price)")
    spot_hourly: float | None = Field(description="one spot node, one hour (null: no price)")
    cost_hourly: float | None = Field(description="`count` nodes of the asked kind, one hour (null: no price)")
    eviction_band: str | None = Field(description='spot eviction rate band in percent, e.g. "0-5", "20+"')


class PricesInfo(_Model):
    source: str
    fetched_at: str
    currency: str
    error: str | None = Field(description="why prices are missing (null: they were read)")


class EvictionInfo(_Model):
    source: str
    error: str | None


class RegionsDoc(_Model):
    """`raks regions --gpu SIZE -o json` (version 2: every region offering the size, ranked)."""

    schema_version: Literal[2]
    command: Literal["regions"]
    size: str
    spot: bool
    count: int
    currency: str
    ranking: str = Field(description="the rule the order follows")
    prices: PricesInfo
    eviction: EvictionInfo
    regions: list[RegionAdvice]


MODELS: dict[str, type[_Model]] = {
    "plan": PlanDoc,
    "up": UpDoc,
    "down": DownDoc,
    "status": StatusDoc,
    "preflight": PreflightDoc,
    "regions": RegionsDoc,
}


def document(command: str, data: dict[str, Any]) -> dict[str, Any]:
    """`data` checked against the command's model; the keys it set, in the model's order.

    exclude_unset keeps a document's shape (an entry that failed carries `error` and nothing
    it could not read) while every key present is one the schema defines, with its type."""
    model = MODELS[command].model_validate(data)
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def schema(command: str) -> dict[str, Any]:
    out = MODELS[command].model_json_schema(by_alias=True)
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = f"https://raks.dev/schemas/v{VERSIONS.get(command, SCHEMA_VERSION)}/{command}.schema.json"
    return out


def schema_text(command: str) -> str:
    return json.dumps(schema(command), indent=2, sort_keys=True) + "\n"


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for command in MODELS:
        path = directory / f"{command}.schema.json"
        path.write_text(schema_text(command))
        written.append(path)
    return written


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m raks.cli.schemas", description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, required=True, metavar="DIR", help="where to write *.schema.json")
    args = parser.parse_args(argv)
    for path in write(args.write):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
