"""Rules between fields of raks.yaml, checked before any cloud call.

Each problem names its field path and says what is allowed, in one line. Warnings (e.g. a spot
pool that keeps nodes running) are reported but do not stop a command.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from raks.config import RaksConfig
from raks.names import AllocationError, region_names, region_ranges
from raks.regions import AZURE_REGIONS, closest_region

POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
CONTAINER = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
# Resource group: 1-90 of letters (Unicode too), digits, _ - . ( ), not ending in '.'.
RESOURCE_GROUP = re.compile(r"^[\w\-.()]{0,89}[\w\-()]$")
DEPLOYMENT = re.compile(r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$")
CLUSTER_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
K8S_VERSION = re.compile(r"^[1-9][0-9]*\.[0-9]+(\.[0-9]+)?$")
VM_SIZE = re.compile(r"^Standard_[A-Za-z0-9_]+$")
TAINT = re.compile(
    r"^(?P<key>[A-Za-z0-9][-A-Za-z0-9_./]*)(=(?P<value>[A-Za-z0-9][-A-Za-z0-9_.]*)?)?"
    r":(?P<effect>NoSchedule|PreferNoSchedule|NoExecute)$"
)
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
# Kubernetes object names (https://kubernetes.io/docs/concepts/overview/working-with-objects/names/):
# a namespace is an RFC 1123 label (<= 63); a PVC and a StorageClass are RFC 1123 subdomains (<= 253).
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Helm's release names: the subdomain pattern, at most 53 characters (helm/helm
# pkg/chartutil/validate_name.go, ValidateReleaseName: maxReleaseNameLen = 53).
HELM_RELEASE_MAX = 53
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
TAG_KEY_FORBIDDEN = re.compile(r"[<>%&\\?/]")


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def line(self) -> str:
        return f"{self.field}: {self.message}"


def _cidr(field: str, text: str, problems: list[Problem]) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        problems.append(Problem(field, f"'{text}' is not an IPv4 CIDR range (e.g. 10.192.0.0/16)"))
        return None
    problems.append(Problem(field, f"'{text}' has host bits set; did you mean {loose}?"))
    return None


def _regions(cfg: RaksConfig, problems: list[Problem]) -> None:
    if not cfg.regions:
        problems.append(Problem("regions", "at least one region is required (e.g. [uksouth])"))
    seen: set[str] = set()
    for i, region in enumerate(cfg.regions):
        if region not in AZURE_REGIONS:
            near = closest_region(region)
            hint = f" (did you mean '{near}'?)" if near else " (see `az account list-locations`)"
            problems.append(Problem(f"regions[{i}]", f"'{region}' is not an Azure region name{hint}"))
        elif region in seen:
            problems.append(Problem("regions", f"'{region}' is listed twice; each region may appear once"))
        seen.add(region)
    if cfg.primary_region is not None and cfg.primary_region not in cfg.regions:
        problems.append(
            Problem(
                "primary_region",
                f"'{cfg.primary_region}' is not among regions ({', '.join(cfg.regions)})",
            )
        )
    for region in cfg.network.regions:
        if region not in cfg.regions and region not in AZURE_REGIONS:
            problems.append(Problem(f"network.regions.{region}", "is not an Azure region name"))


def _network(cfg: RaksConfig, problems: list[Problem]) -> None:
    net = cfg.network
    before = len(problems)
    supernet = _cidr("network.supernet", net.supernet, problems)
    pod = _cidr("network.pod_cidr", net.pod_cidr, problems)
    service = _cidr("network.service_cidr", net.service_cidr, problems)
    if net.subnet_prefix < net.vnet_prefix:
        problems.append(
            Problem(
                "network.subnet_prefix",
                f"/{net.subnet_prefix} is larger than the VNet (/{net.vnet_prefix}); it must be "
                f"{net.vnet_prefix} or more",
            )
        )
    for region, explicit in net.regions.items():
        field = f"network.regions.{region}"
        vnet = _cidr(f"{field}.vnet_cidr", explicit.vnet_cidr, problems)
        subnet = _cidr(f"{field}.subnet_cidr", explicit.subnet_cidr, problems)
        if vnet and subnet and not subnet.subnet_of(vnet):
            problems.append(Problem(f"{field}.subnet_cidr", f"{subnet} is not inside the VNet {vnet}"))
    if service is not None:
        try:
            dns = ipaddress.IPv4Address(net.dns_service_ip)
        except ValueError:
            problems.append(Problem("network.dns_service_ip", f"'{net.dns_service_ip}' is not an IPv4 address"))
        else:
            if dns not in service:
                problems.append(
                    Problem("network.dns_service_ip", f"{dns} is not inside network.service_cidr {service}")
                )
    if len(problems) > before or supernet is None:
        return
    # Allocated or explicit ranges of every region, then pairwise and against pod/service ranges.
    ranges: dict[str, ipaddress.IPv4Network] = {}
    for region in cfg.regions:
        if region not in AZURE_REGIONS:
            continue
        try:
            ranges[region] = region_ranges(cfg, region).vnet
        except AllocationError as exc:
            problems.append(Problem("network", str(exc)))
    items = list(ranges.items())
    for i, (r1, v1) in enumerate(items):
        for r2, v2 in items[i + 1 :]:
            if v1.overlaps(v2):
                problems.append(
                    Problem(
                        f"network.regions.{r2}",
                        f"VNet {v2} overlaps {r1}'s VNet {v1}; regional VNets must not overlap",
                    )
                )
    for name, rng in (("pod_cidr", pod), ("service_cidr", service)):
        if rng is None:
            continue
        for region, vnet in items:
            if rng.overlaps(vnet):
                problems.append(
                    Problem(
                        f"network.{name}",
                        f"{rng} overlaps {region}'s VNet {vnet}; it must lie outside every VNet",
                    )
                )
    if pod is not None and service is not None and pod.overlaps(service):
        problems.append(Problem("network.service_cidr", f"{service} overlaps network.pod_cidr {pod}"))


def _pools(cfg: RaksConfig, problems: list[Problem]) -> None:
    if not any(p.mode == "system" for p in cfg.pools):
        problems.append(Problem("pools", "at least one pool must have mode: system"))
    names: set[str] = set()
    for i, pool in enumerate(cfg.pools):
        field = f"pools[{i}]"
        if not POOL_NAME.match(pool.name):
            problems.append(
                Problem(
                    f"{field}.name",
                    f"'{pool.name}' must be 1-12 lowercase letters and digits, starting with a letter",
                )
            )
        # A paired on-demand pool gets the suffix "od"; it must fit in 12 characters too.
        elif pool.fallback == "on-demand" and len(pool.name) > 10:
            problems.append(
                Problem(f"{field}.name", f"'{pool.name}' leaves no room for the fallback pool's 'od' suffix (max 10)")
            )
        if pool.name in names:
            problems.append(Problem(f"{field}.name", f"'{pool.name}' is used by another pool; names must be unique"))
        names.add(pool.name)
        if not VM_SIZE.match(pool.vm_size):
            problems.append(
                Problem(f"{field}.vm_size", f"'{pool.vm_size}' is not an Azure VM size (e.g. Standard_D16_v5)")
            )
        if pool.min_count > pool.max_count:
            problems.append(
                Problem(f"{field}.min_count", f"{pool.min_count} is greater than max_count {pool.max_count}")
            )
        if pool.mode == "system":
            if pool.spot:
                problems.append(Problem(f"{field}.spot", "a system pool cannot be spot; set spot: false"))
            if pool.min_count < 1:
                problems.append(Problem(f"{field}.min_count", "a system pool needs at least 1 node"))
        if pool.spot and pool.min_count > 0:
            problems.append(
                Problem(
                    f"{field}.min_count",
                    f"spot pool '{pool.name}' keeps {pool.min_count} node(s) running; spot nodes can be "
                    "evicted at any time, 0 is recommended",
                    "warning",
                )
            )
        if pool.fallback == "on-demand" and not pool.spot:
            problems.append(Problem(f"{field}.fallback", "on-demand fallback applies only to spot pools"))
        for key, value in pool.labels.items():
            if not LABEL_KEY.match(key):
                problems.append(Problem(f"{field}.labels", f"'{key}' is not a valid Kubernetes label key"))
            if not LABEL_VALUE.match(value):
                problems.append(Problem(f"{field}.labels.{key}", f"'{value}' is not a valid Kubernetes label value"))
        for j, taint in enumerate(pool.taints):
            if not TAINT.match(taint):
                problems.append(
                    Problem(
                        f"{field}.taints[{j}]",
                        f"'{taint}' must be key[=value]:effect with effect NoSchedule, PreferNoSchedule or NoExecute",
                    )
                )


def _names(cfg: RaksConfig, problems: list[Problem]) -> None:
    if not DEPLOYMENT.match(cfg.deployment):
        problems.append(
            Problem(
                "deployment",
                f"'{cfg.deployment}' must be 2-24 lowercase letters, digits and '-', starting with a "
                "letter and not ending with '-'",
            )
        )
    rg = cfg.resolved_resource_group()
    if not RESOURCE_GROUP.match(rg):
        problems.append(
            Problem(
                "resource_group",
                f"'{rg}' must be 1-90 characters of letters, digits, '_', '-', '.', '(' or ')', not ending with '.'",
            )
        )
    if cfg.storage.account is not None and not STORAGE_ACCOUNT.match(cfg.storage.account):
        problems.append(
            Problem("storage.account", f"'{cfg.storage.account}' must be 3-24 lowercase letters and digits")
        )
    container = cfg.resolved_container()
    if not CONTAINER.match(container):
        problems.append(
            Problem(
                "storage.container",
                f"'{container}' must be 3-63 lowercase letters, digits and single '-', starting and "
                "ending with a letter or digit",
            )
        )
    identity = cfg.resolved_identity_name()
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$", identity):
        problems.append(
            Problem(
                "identity.name",
                f"'{identity}' must be 3-128 letters, digits, '-' and '_', starting with a letter or digit",
            )
        )
    if not CLUSTER_PREFIX.match(cfg.cluster_prefix):
        problems.append(
            Problem("cluster_prefix", f"'{cfg.cluster_prefix}' must be 1-31 lowercase letters, digits and '-'")
        )
    else:
        for region in cfg.regions:
            if len(region_names(cfg, region).cluster) > 63:
                problems.append(Problem("cluster_prefix", "makes a cluster name longer than 63 characters"))
                break
    if cfg.subscription_id is not None and not GUID.match(cfg.subscription_id):
        problems.append(Problem("subscription_id", f"'{cfg.subscription_id}' is not a subscription id (a GUID)"))
    cloud = cfg.resolved_cloud_name()
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", cloud):
        problems.append(
            Problem(
                "anyscale.cloud_name",
                f"'{cloud}' must be 1-63 letters, digits, '-' and '_', starting with a letter or digit",
            )
        )
    if cfg.templates_dir is not None and not Path(cfg.templates_dir).expanduser().is_dir():
        problems.append(
            Problem("templates_dir", f"'{cfg.templates_dir}' is not a folder (it holds your copies of raks' templates)")
        )
    if not GUID.match(cfg.anyscale.operator_app_id):
        problems.append(Problem("anyscale.operator_app_id", "must be a GUID"))
    for key in cfg.tags:
        if not key or len(key) > 512 or TAG_KEY_FORBIDDEN.search(key):
            problems.append(Problem(f"tags.{key}", "tag names are 1-512 characters without < > % & \\ ? /"))


def _kubernetes(cfg: RaksConfig, problems: list[Problem]) -> None:
    if not K8S_VERSION.match(cfg.kubernetes.version):
        problems.append(
            Problem(
                "kubernetes.version",
                f"'{cfg.kubernetes.version}' must be MAJOR.MINOR or MAJOR.MINOR.PATCH (e.g. 1.34.1)",
            )
        )
    for name, addon in cfg.addons:
        if not re.match(r"^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$", addon.version):
            problems.append(Problem(f"addons.{name}.version", f"'{addon.version}' must be a chart version like 1.2.3"))


def _kuberay(cfg: RaksConfig, problems: list[Problem]) -> None:
    dashboard = cfg.kuberay.dashboard
    for i, cidr in enumerate(dashboard.allowed_cidrs):
        _cidr(f"kuberay.dashboard.allowed_cidrs[{i}]", cidr, problems)
    if dashboard.public and not dashboard.allowed_cidrs:
        problems.append(
            Problem(
                "kuberay.dashboard.allowed_cidrs",
                "a public Ray dashboard (and its Jobs API, which runs code) needs the source ranges allowed "
                "to reach it, e.g. [203.0.113.0/24]; or set public: false and use kubectl port-forward",
            )
        )


def _kubernetes_names(cfg: RaksConfig, problems: list[Problem]) -> None:
    """Names raks sends to each cluster's API server and to Helm: refused here, before Azure writes
    anything, rather than by the API server after the clusters exist."""
    pvc = cfg.storage.pvc_name
    if len(pvc) > 253 or not DNS_SUBDOMAIN.match(pvc):
        problems.append(
            Problem(
                "storage.pvc_name",
                f"'{pvc}' must be 1-253 lowercase letters, digits, '-' and '.', starting and ending with a "
                "letter or digit (a Kubernetes object name)",
            )
        )
    for name, addon in cfg.addons:
        if len(addon.namespace) > 63 or not DNS_LABEL.match(addon.namespace):
            problems.append(
                Problem(
                    f"addons.{name}.namespace",
                    f"'{addon.namespace}' must be 1-63 lowercase letters, digits and '-', starting and ending "
                    "with a letter or digit (a Kubernetes namespace name)",
                )
            )
        if len(addon.release) > HELM_RELEASE_MAX or not DNS_SUBDOMAIN.match(addon.release):
            problems.append(
                Problem(
                    f"addons.{name}.release",
                    f"'{addon.release}' must be 1-53 lowercase letters, digits, '-' and '.', starting and "
                    "ending with a letter or digit (a Helm release name)",
                )
            )


def validate(cfg: RaksConfig) -> list[Problem]:
    """Every problem of a parsed config, errors and warnings, in a stable order."""
    problems: list[Problem] = []
    _names(cfg, problems)
    _regions(cfg, problems)
    _kubernetes(cfg, problems)
    _kubernetes_names(cfg, problems)
    _pools(cfg, problems)
    _network(cfg, problems)
    _kuberay(cfg, problems)
    _currency(cfg, problems)
    return problems


def _currency(cfg: RaksConfig, problems: list[Problem]) -> None:
    from raks.adapters.azure.prices import CURRENCIES  # a constant: no SDK is loaded

    if cfg.currency not in CURRENCIES:
        problems.append(
            Problem(
                "currency",
                f"'{cfg.currency}' is not a currency the Azure Retail Prices API offers (use one of {', '.join(CURRENCIES)})",
            )
        )


def warnings(cfg: RaksConfig) -> list[Problem]:
    return [p for p in validate(cfg) if p.severity == "warning"]
