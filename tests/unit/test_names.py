"""Deterministic names, tags and per-region address ranges."""

from __future__ import annotations

import ipaddress

from raks.config import RaksConfig, RegionNetwork
from raks.names import REGION_SLOTS, region_names, region_ranges, storage_account_name, tags
from raks.regions import AZURE_REGIONS
from raks.validation import STORAGE_ACCOUNT

SUB = "00000000-0000-0000-0000-000000000001"


def test_reference_names_per_region():
    n = region_names(RaksConfig(), "uksouth")
    assert (n.cluster, n.vnet, n.subnet, n.nsg, n.public_ip, n.nat_gateway, n.federated_credential) == (
        "aks-uksouth",
        "aks-uksouth-vnet",
        "aks-nodes",
        "aks-uksouth-vnet-aks-nodes-nsg",
        "aks-uksouth-nat-pip",
        "aks-uksouth-nat-gw",
        "aks-uksouth-operator-fic",
    )
    assert n.anyscale_resource == "k8s-azure-uksouth"


def test_tags_mark_ownership_and_keep_user_tags():
    cfg = RaksConfig(deployment="ml", tags={"team": "ray"})
    assert tags(cfg) == {"team": "ray", "raks-deployment": "ml", "managed-by": "raks"}


def test_storage_account_name_is_valid_stable_and_differs_by_subscription_and_deployment():
    cfg = RaksConfig()
    a = storage_account_name(cfg, SUB)
    assert STORAGE_ACCOUNT.match(a) and len(a) == 24
    assert a == storage_account_name(RaksConfig(), SUB)
    assert a != storage_account_name(cfg, SUB.replace("1", "2"))
    assert a != storage_account_name(RaksConfig(deployment="other"), SUB)
    assert storage_account_name(RaksConfig.model_validate({"storage": {"account": "mine123"}}), SUB) == "mine123"


def test_every_azure_region_has_a_slot_and_slots_are_unique():
    assert len(set(REGION_SLOTS)) == len(REGION_SLOTS)
    assert set(REGION_SLOTS) == set(AZURE_REGIONS)


def test_all_regions_get_disjoint_vnets_outside_pod_and_service_ranges():
    cfg = RaksConfig(regions=list(REGION_SLOTS))
    vnets = [region_ranges(cfg, r).vnet for r in REGION_SLOTS]
    pod = ipaddress.IPv4Network(cfg.network.pod_cidr)
    svc = ipaddress.IPv4Network(cfg.network.service_cidr)
    for i, a in enumerate(vnets):
        assert not a.overlaps(pod) and not a.overlaps(svc)
        for b in vnets[i + 1 :]:
            assert not a.overlaps(b)


def test_a_region_keeps_its_range_whatever_the_other_regions():
    alone = region_ranges(RaksConfig(regions=["swedencentral"]), "swedencentral")
    with_others = region_ranges(RaksConfig(regions=["westus3", "uksouth", "swedencentral"]), "swedencentral")
    assert alone == with_others
    assert str(alone.vnet) == "10.205.0.0/16" and str(alone.subnet) == "10.205.0.0/19"


def test_explicit_region_ranges_win():
    cfg = RaksConfig(
        network={"regions": {"uksouth": RegionNetwork(vnet_cidr="10.192.0.0/15", subnet_cidr="10.192.0.0/19")}}
    )
    r = region_ranges(cfg, "uksouth")
    assert (str(r.vnet), str(r.subnet)) == ("10.192.0.0/15", "10.192.0.0/19")
