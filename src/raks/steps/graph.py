"""The steps of a deployment: global ones once, the regional ones per region."""

from __future__ import annotations

from raks import names
from raks.config import RaksConfig
from raks.steps import pools
from raks.steps.aks import ClusterStep, PoolStep
from raks.steps.anyscale_cloud import AnyscaleCloudStep, AnyscaleResourceStep
from raks.steps.base import Step
from raks.steps.helm_addons import HelmReleaseStep, addons_for
from raks.steps.identity import IDENTITY, FederatedCredentialStep, IdentityStep
from raks.steps.kube_objects import KubeObjectsStep
from raks.steps.network import NatGatewayStep, NsgStep, PublicIpStep, VnetStep
from raks.steps.resource_group import ResourceGroupStep
from raks.steps.roles import RoleAssignmentStep, key_operator_needed
from raks.steps.service_principal import ServicePrincipalStep
from raks.steps.storage import ContainerStep, CorsStep, StorageAccountStep


def global_steps(cfg: RaksConfig, subscription_id: str) -> list[Step]:
    rg = cfg.resolved_resource_group()
    account = names.storage_account_name(cfg, subscription_id)
    steps: list[Step] = [
        ResourceGroupStep(rg),
        IdentityStep(rg, cfg.resolved_identity_name()),
        StorageAccountStep(rg, account),
        CorsStep(rg, account),
        ContainerStep(rg, account, cfg.resolved_container()),
        RoleAssignmentStep("global/role-blob-data", "Storage Blob Data Contributor", IDENTITY, "principal_id"),
    ]
    if key_operator_needed(cfg.kubernetes.version):
        # Below AKS 1.34 the blob CSI driver cannot mount token-only (steps/roles.py).
        steps.append(
            RoleAssignmentStep(
                "global/role-key-operator", "Storage Account Key Operator Service Role", IDENTITY, "principal_id"
            )
        )
    if cfg.platform == "anyscale":
        steps += [ServicePrincipalStep(cfg.anyscale.operator_app_id), AnyscaleCloudStep(cfg.resolved_cloud_name())]
    return steps


def region_steps(cfg: RaksConfig, region: str) -> list[Step]:
    rg = cfg.resolved_resource_group()
    steps: list[Step] = [
        NsgStep(rg, region),
        PublicIpStep(rg, region),
        NatGatewayStep(rg, region),
        VnetStep(rg, region),
        ClusterStep(rg, region),
    ]
    steps += [PoolStep(rg, region, pool) for pool in pools.expand(cfg.pools)]  # + on-demand fallbacks
    network_role = f"{region}/role-cluster-network"
    steps += [
        FederatedCredentialStep(rg, cfg.resolved_identity_name(), region),
        RoleAssignmentStep(
            f"{region}/role-cluster-storage", "Storage Account Contributor", f"{region}/cluster", "principal_id", region
        ),
        # The cluster identity joins the node subnet (BYO VNet): without it no LoadBalancer
        # Service gets an address (steps/roles.py).
        RoleAssignmentStep(
            network_role,
            "Network Contributor",
            f"{region}/cluster",
            "principal_id",
            region,
            scope_step=f"{region}/vnet",
            scope_output="subnet_id",
            scope_label="node subnet",
        ),
        KubeObjectsStep(region),
    ]
    if cfg.platform == "anyscale":
        steps.append(AnyscaleResourceStep(region))
    for addon in addons_for(cfg):
        release = HelmReleaseStep(region, addon, cfg)
        # No chart may create a LoadBalancer Service before the grant (ingress-nginx does), and
        # `down` uninstalls the releases before the grant goes (the graph runs in reverse).
        release.needs = (*release.needs, network_role)
        steps.append(release)
    return steps


def build(cfg: RaksConfig, subscription_id: str, regions: list[str] | None = None) -> list[Step]:
    steps = global_steps(cfg, subscription_id)
    for region in regions or cfg.regions:
        steps += region_steps(cfg, region)
    return steps
