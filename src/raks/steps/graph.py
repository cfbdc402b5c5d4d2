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
from raks.steps.roles import RoleAssignmentStep
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
    steps += [
        FederatedCredentialStep(rg, cfg.resolved_identity_name(), region),
        RoleAssignmentStep(
            f"{region}/role-cluster-storage", "Storage Account Contributor", f"{region}/cluster", "principal_id", region
        ),
        KubeObjectsStep(region),
    ]
    if cfg.platform == "anyscale":
        steps.append(AnyscaleResourceStep(region))
    steps += [HelmReleaseStep(region, addon, cfg) for addon in addons_for(cfg)]
    return steps


def build(cfg: RaksConfig, subscription_id: str, regions: list[str] | None = None) -> list[Step]:
    steps = global_steps(cfg, subscription_id)
    for region in regions or cfg.regions:
        steps += region_steps(cfg, region)
    return steps
