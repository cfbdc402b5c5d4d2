"""Every resource name and tag of a deployment, derived deterministically from the config.

Per-region address ranges come from a fixed slot per region (REGION_SLOTS, append-only), not
from the order of `regions`, so a region keeps its VNet range whatever subset of regions a
command names and in whatever order: adding or removing a region never moves another one.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass

from raks.config import RaksConfig

TAG_DEPLOYMENT = "raks-deployment"
TAG_MANAGED_BY = "managed-by"
MANAGED_BY = "raks"
K8S_MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
SUBNET_NAME = "aks-nodes"
OPERATOR_NAMESPACE = "anyscale-operator"
OPERATOR_SERVICE_ACCOUNT = "anyscale-operator"
KUBERAY_NAMESPACE = "ray"
KUBERAY_SERVICE_ACCOUNT = "ray-workloads"

# Append-only: a region's index is its VNet slot. Never reorder or remove an entry, that would
# move existing deployments' ranges. Frequently used regions come first so that they fit even
# in a small supernet.
REGION_SLOTS: tuple[str, ...] = (
    "eastus", "eastus2", "westus2", "westus3", "centralus", "southcentralus", "northcentralus",
    "westcentralus", "westus", "uksouth", "ukwest", "westeurope", "northeurope", "swedencentral",
    "francecentral", "germanywestcentral", "switzerlandnorth", "norwayeast", "italynorth",
    "polandcentral", "spaincentral", "japaneast", "japanwest", "koreacentral", "southeastasia",
    "eastasia", "australiaeast", "australiasoutheast", "centralindia", "southindia",
    "canadacentral", "canadaeast", "brazilsouth", "southafricanorth", "uaenorth", "qatarcentral",
    "israelcentral", "mexicocentral", "newzealandnorth", "indonesiacentral", "malaysiawest",
    "chilecentral", "austriaeast", "belgiumcentral", "denmarkeast", "australiacentral",
    "australiacentral2", "westindia", "jioindiawest", "jioindiacentral", "koreasouth",
    "francesouth", "germanynorth", "norwaywest", "switzerlandwest", "uaecentral",
    "brazilsoutheast", "southafricawest", "swedensouth", "centraluseuap", "eastus2euap",
)  # fmt: skip


def tags(cfg: RaksConfig) -> dict[str, str]:
    """Tags on every Azure resource raks creates; observe/down act only on what carries them."""
    return {**cfg.tags, TAG_DEPLOYMENT: cfg.deployment, TAG_MANAGED_BY: MANAGED_BY}


def is_ours(resource_tags: dict[str, str] | None, cfg: RaksConfig) -> bool:
    t = resource_tags or {}
    return t.get(TAG_DEPLOYMENT) == cfg.deployment and t.get(TAG_MANAGED_BY) == MANAGED_BY


def storage_account_name(cfg: RaksConfig, subscription_id: str) -> str:
    """cfg.storage.account, or a globally unique 3-24 lowercase-alphanumeric name."""
    if cfg.storage.account:
        return cfg.storage.account
    prefix = re.sub(r"[^a-z0-9]", "", cfg.deployment.lower())[:11] or "raks"
    digest = hashlib.sha256(f"{subscription_id.lower()}:{cfg.deployment}".encode()).hexdigest()
    return prefix + digest[: 24 - len(prefix)]


def workload_identity(cfg: RaksConfig) -> tuple[str, str]:
    """(namespace, service account) federated to the shared identity: the Anyscale operator's,
    or with platform kuberay the one Ray pods run as."""
    if cfg.platform == "kuberay":
        return KUBERAY_NAMESPACE, KUBERAY_SERVICE_ACCOUNT
    return OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT


def cluster_name(cfg: RaksConfig, region: str) -> str:
    return f"{cfg.cluster_prefix}-{region}"


@dataclass(frozen=True)
class RegionNames:
    region: str
    cluster: str
    vnet: str
    subnet: str
    nsg: str
    public_ip: str
    nat_gateway: str
    federated_credential: str
    anyscale_resource: str


def region_names(cfg: RaksConfig, region: str) -> RegionNames:
    cluster = cluster_name(cfg, region)
    vnet = f"{cluster}-vnet"
    return RegionNames(
        region=region,
        cluster=cluster,
        vnet=vnet,
        subnet=SUBNET_NAME,
        nsg=f"{vnet}-{SUBNET_NAME}-nsg",
        public_ip=f"{cluster}-nat-pip",
        nat_gateway=f"{cluster}-nat-gw",
        federated_credential=f"{cluster}-operator-fic",
        anyscale_resource=f"k8s-azure-{region}",
    )


@dataclass(frozen=True)
class RegionRanges:
    vnet: ipaddress.IPv4Network
    subnet: ipaddress.IPv4Network


class AllocationError(ValueError):
    """The supernet has no slot for a region; the message says what to set."""


def slot_of(region: str) -> int:
    try:
        return REGION_SLOTS.index(region)
    except ValueError:
        raise AllocationError(f"region '{region}' has no address slot") from None


def region_ranges(cfg: RaksConfig, region: str) -> RegionRanges:
    """The VNet and node subnet of one region: explicit in network.regions, else its slot."""
    net = cfg.network
    explicit = net.regions.get(region)
    if explicit is not None:
        return RegionRanges(ipaddress.IPv4Network(explicit.vnet_cidr), ipaddress.IPv4Network(explicit.subnet_cidr))
    supernet = ipaddress.IPv4Network(net.supernet)
    if net.vnet_prefix < supernet.prefixlen:
        raise AllocationError(f"network.vnet_prefix: /{net.vnet_prefix} is larger than the supernet {supernet}")
    capacity = 2 ** (net.vnet_prefix - supernet.prefixlen)
    slot = slot_of(region)
    if slot >= capacity:
        raise AllocationError(
            f"network.supernet: {supernet} holds {capacity} /{net.vnet_prefix} VNets but region "
            f"'{region}' uses slot {slot}; use a larger supernet, a longer vnet_prefix, or set "
            f"network.regions.{region}"
        )
    vnet = ipaddress.IPv4Network((int(supernet.network_address) + slot * 2 ** (32 - net.vnet_prefix), net.vnet_prefix))
    subnet = ipaddress.IPv4Network((int(vnet.network_address), max(net.subnet_prefix, net.vnet_prefix)))
    return RegionRanges(vnet, subnet)
