"""The fault matrix's data: which request of a step a fault targets, the fault kinds, and
where a kind does not apply (and why). Derived from the step graph, so a new step is covered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from raks.adapters.azure.arm import KINDS
from raks.config import RaksConfig
from raks.steps import graph
from raks.steps.arm_step import ArmStep
from raks.steps.base import Context, Step
from raks.steps.helm_addons import HelmReleaseStep, chart_of
from raks.steps.kube_objects import KubeObjectsStep

SUB = "00000000-0000-0000-0000-000000000000"  # only the storage account's name depends on it
FAULTED_REGION = "uksouth"  # the other region must finish while this one fails

# ARM kind -> the resource-type segment its URL ends with (before the name).
TYPE_SEGMENT = {
    "resource_group": "resourcegroups",
    "identity": "userAssignedIdentities",
    "federated_credential": "federatedIdentityCredentials",
    "storage_account": "storageAccounts",
    "blob_service": "blobServices",
    "container": "containers",
    "role_assignment": "roleAssignments",
    "vnet": "virtualNetworks",
    "nsg": "networkSecurityGroups",
    "public_ip": "publicIPAddresses",
    "nat_gateway": "natGateways",
    "cluster": "managedClusters",
    "agent_pool": "agentPools",
}


@dataclass(frozen=True)
class Fault:
    name: str
    rules: tuple[dict[str, Any], ...]  # FaultRule fields (without path/method)
    transient: bool
    code: str = ""  # the Azure/Kubernetes error code the message must name (permanent kinds)
    exits: tuple[int, ...] = field(default=(4, 5))  # documented exit codes (README, "Exit codes")


TRANSIENT = Fault(
    "transient-429-500-503-reset",
    (
        {"status": 429, "code": "TooManyRequests", "retry_after": 1, "message": "throttled"},
        {"status": 500, "code": "InternalServerError"},
        {"status": 503, "code": "ServiceUnavailable"},
        {"reset": True},
    ),
    transient=True,
)
CONFLICT = Fault(
    "409-conflict",
    ({"status": 409, "code": "OperationNotAllowed", "message": "Another operation is in progress", "times": None},),
    transient=False,
    code="OperationNotAllowed",
)
AUTH = Fault(
    "403-auth",
    (
        {
            "status": 403,
            "code": "AuthorizationFailed",
            "message": "The client does not have authorization",
            "times": None,
        },
    ),
    transient=False,
    code="AuthorizationFailed",
    exits=(3,),
)
KUBE_AUTH = Fault(
    "403-auth",
    ({"status": 403, "code": "Forbidden", "message": "forbidden: User cannot patch", "times": None},),
    transient=False,
    code="Forbidden",
)
LRO_FAILED = Fault(
    "lro-failed",
    ({"lro_failed": True, "code": "InternalOperationError", "message": "operation failed", "times": None},),
    transient=False,
    code="InternalOperationError",
)
QUOTA = Fault(
    "quota-exceeded",
    (
        {
            "status": 400,
            "code": "ErrCode_InsufficientVCPUQuota",
            "message": "Insufficient regional vcpu quota",
            "times": None,
        },
    ),
    transient=False,
    code="ErrCode_InsufficientVCPUQuota",
)
SKU = Fault(
    "sku-not-available",
    ({"status": 400, "code": "SkuNotAvailable", "message": "The requested VM size is not available", "times": None},),
    transient=False,
    code="SkuNotAvailable",
)


def matrix_config() -> RaksConfig:
    return RaksConfig(platform="kuberay", regions=["uksouth", "swedencentral"])


def matrix_steps() -> list[Step]:
    """The global steps and the faulted region's steps (the other region's are the same kinds)."""
    return [s for s in graph.build(matrix_config(), SUB) if s.region in (None, FAULTED_REGION)]


def is_lro(step: Step, verb: str) -> bool:
    if not isinstance(step, ArmStep):
        return False
    return getattr(KINDS[step.kind], verb).startswith("begin_")


def faults_for(step: Step, verb: str) -> list[Fault]:
    """verb: "put" (up) or "delete" (down). Exclusions: see the test module's docstring."""
    if isinstance(step, ArmStep):
        if verb == "delete" and step.kind == "agent_pool":
            return []  # `down` deletes pools with their cluster: no request of their own
        if verb == "put" and step.kind == "agent_pool" and getattr(getattr(step, "pool", None), "mode", "") == "system":
            return []  # created inside the cluster's PUT (agentPoolProfiles), not by its own
        kinds = [TRANSIENT, CONFLICT, AUTH]
        if is_lro(step, verb):
            kinds.append(LRO_FAILED)
        if verb == "put" and step.kind == "agent_pool":
            kinds += [QUOTA, SKU]
        return kinds
    if isinstance(step, KubeObjectsStep | HelmReleaseStep):
        return [TRANSIENT, CONFLICT, KUBE_AUTH]
    return []


def target(step: Step, ctx: Context, verb: str, cluster_key: str | None) -> tuple[str, str]:
    """(method, path regex) of the write the step makes on `verb`, from the step itself."""
    if isinstance(step, ArmStep):
        path = step.path(ctx)
        name = "default" if step.kind == "blob_service" else re.escape(path[-1])
        if step.kind == "agent_pool":  # pools of every cluster share names: include the cluster
            name = f"{re.escape(path[-2])}/agentPools/{name}"
        # A kind without a delete of its own (blob CORS) is removed by writing it again.
        method = "PUT" if verb == "put" or not getattr(KINDS[step.kind], verb) else "DELETE"
        segment = "managedClusters" if step.kind == "agent_pool" else TYPE_SEGMENT[step.kind]
        return method, f"^/subscriptions/[^/]+(/.*)?/{segment}/{name}$"
    assert cluster_key is not None
    kube = f"^kube:/k8s/{cluster_key}"
    if isinstance(step, KubeObjectsStep):
        # The namespace is the first object written and the last one deleted.
        return ("PATCH" if verb == "put" else "DELETE"), f"{kube}/api/v1/namespaces/ray$"
    assert isinstance(step, HelmReleaseStep)
    chart = chart_of(ctx.cfg, step.addon)
    secrets = f"{kube}/api/v1/namespaces/{re.escape(chart.namespace)}/secrets"
    if verb == "put":
        return "POST", f"{secrets}$"  # a release record is created per revision
    return "DELETE", f"{secrets}/sh\\.helm\\.release\\.v1\\.{re.escape(chart.release)}\\.v\\d+$"


def cells(verb: str) -> list[tuple[str, str]]:
    return [(s.key, f.name) for s in matrix_steps() for f in faults_for(s, verb)]


def fault_named(step: Step, verb: str, name: str) -> Fault:
    return next(f for f in faults_for(step, verb) if f.name == name)
