"""`raks down`, `raks plan --destroy`, `raks status` and `raks kubeconfig` through the sandbox,
read back with the real SDKs (and the kubernetes client)."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest
import yaml

from raks import names
from raks.config import RaksConfig

REGIONS = ["uksouth", "swedencentral"]
RG = "aks-anyscale-rg"
CONTAINER = "aks-anyscale-blob"
IDENTITY = "aks-anyscale-operator-mi"


def account_name(served) -> str:
    return names.storage_account_name(RaksConfig(), served.endpoints["subscription_id"])


def up(served, capsys, *regions: str) -> None:
    code, _out, err = served.raks(capsys, "up", "--regions", *regions, "--yes")
    assert code == 0, err


def resources_in_group(az) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in az.resource.resources.list_by_resource_group(RG)}


def plant_foreign(az) -> None:
    """A VNet and a storage account someone else made in raks' resource group (no raks tags)."""
    from azure.mgmt.network.models import AddressSpace, VirtualNetwork
    from azure.mgmt.storage.models import Sku, StorageAccountCreateParameters

    az.network.virtual_networks.begin_create_or_update(
        RG,
        "their-vnet",
        VirtualNetwork(location="uksouth", address_space=AddressSpace(address_prefixes=["10.50.0.0/16"])),
    ).result()
    az.storage.storage_accounts.begin_create(
        RG,
        "theirdata0001",
        StorageAccountCreateParameters(sku=Sku(name="Standard_LRS"), kind="StorageV2", location="uksouth"),
    ).result()


def test_down_removes_what_raks_created_and_keeps_the_data_and_foreign_resources(served, capsys):
    up(served, capsys, *REGIONS)
    az = served.clients()
    account = account_name(served)
    served.control.put_blob(account, CONTAINER, "results/run-1.json", b'{"loss": 0.1}')
    plant_foreign(az)
    cluster_rgs = {az.aks.managed_clusters.get(RG, f"aks-{r}").node_resource_group for r in REGIONS}

    code, out, err = served.raks(capsys, "down", "--yes")
    assert code == 0, err
    # Only the data and the foreign resources are left; the group stays because it is not empty.
    assert resources_in_group(az) == {
        ("Microsoft.Storage/storageAccounts", account),
        ("Microsoft.Storage/storageAccounts", "theirdata0001"),
        ("Microsoft.Network/virtualNetworks", "their-vnet"),
    }
    assert az.storage.blob_containers.get(RG, account, CONTAINER).public_access == "None"
    assert served.control.get_blob(account, CONTAINER, "results/run-1.json") == b'{"loss": 0.1}'
    groups = {g.name for g in az.resource.resource_groups.list()}
    assert RG in groups and not (cluster_rgs & groups)  # AKS's node groups went with the clusters
    assert az.network.virtual_networks.get(RG, "their-vnet").address_space.address_prefixes == ["10.50.0.0/16"]
    acct = az.storage.storage_accounts.get_properties(RG, account)
    assert list(az.auth.role_assignments.list_for_scope(acct.id, filter="atScope()")) == []
    assert az.storage.blob_services.get_service_properties(RG, account).cors.cors_rules == []
    assert f"Kept storage account {account} and container {CONTAINER}, and the data in them" in out
    assert "raks down --delete-data" in out
    assert f"Kept resource group {RG}: not empty, it still holds" in out
    assert "virtual network their-vnet" in out and "storage account theirdata0001" in out

    code, out, err = served.raks(capsys, "down", "--delete-data", "--yes")
    assert code == 0, err
    assert resources_in_group(az) == {
        ("Microsoft.Storage/storageAccounts", "theirdata0001"),
        ("Microsoft.Network/virtualNetworks", "their-vnet"),
    }
    with pytest.raises(RuntimeError, match="StorageAccountNotFound"):
        served.control.get_blob(account, CONTAINER, "results/run-1.json")
    assert az.resource.resource_groups.check_existence(RG)


def test_plan_destroy_changes_nothing_and_down_asks_before_deleting(served, capsys):
    up(served, capsys, "uksouth")
    since = time.time()
    code, out, _ = served.raks(capsys, "plan", "--destroy", "--detailed-exitcode")
    assert code == 10
    lines = [line.strip() for line in out.splitlines()]
    assert "- delete    AKS cluster" in lines
    assert any(line.startswith("= kept      storage account") for line in lines)
    code, out, _ = served.raks(capsys, "-o", "json", "plan", "--destroy", "--delete-data")
    doc = json.loads(out)
    by_key = {s["key"]: s for s in doc["steps"]}
    assert doc["destroy"] and by_key["global/storage-account"]["action"] == "delete"
    code, _out, err = served.raks(capsys, "down")
    assert code == 2 and "pass --yes" in err
    assert served.writes(since) == []  # previews and the refused down wrote nothing

    code, _out, err = served.raks(capsys, "down", "--delete-data", "--yes")
    assert code == 0, err
    az = served.clients()
    assert not az.resource.resource_groups.check_existence(RG)  # empty and raks' own: it went too
    code, out, _ = served.raks(capsys, "plan", "--destroy", "--detailed-exitcode")
    assert code == 0, out


def test_resources_raks_did_not_create_are_left_alone_even_under_its_names(served, capsys):
    az = served.clients()
    az.resource.resource_groups.create_or_update(RG, {"location": "uksouth"})  # the user's own group
    from azure.mgmt.network.models import NetworkSecurityGroup

    nsg = "aks-swedencentral-vnet-aks-nodes-nsg"  # the name raks would give swedencentral's NSG
    az.network.network_security_groups.begin_create_or_update(
        RG, nsg, NetworkSecurityGroup(location="swedencentral")
    ).result()
    up(served, capsys, "uksouth")
    code, out, err = served.raks(capsys, "down", "--regions", *REGIONS, "--delete-data", "--yes")
    assert code == 0, err
    assert resources_in_group(az) == {("Microsoft.Network/networkSecurityGroups", nsg)}
    assert az.resource.resource_groups.check_existence(RG)
    assert f"Left alone resource group {RG}: created outside raks." in out
    assert "Left alone network security group in swedencentral: it lacks the raks-deployment/managed-by tags." in out


def test_partial_down_leaves_the_other_region_and_shared_resources_working(served, capsys):
    up(served, capsys, *REGIONS)
    code, out, err = served.raks(capsys, "down", "--regions", "swedencentral", "--yes")
    assert code == 0, err
    az = served.clients()
    assert [c.name for c in az.aks.managed_clusters.list_by_resource_group(RG)] == ["aks-uksouth"]
    assert {v.name for v in az.network.virtual_networks.list(RG)} == {"aks-uksouth-vnet"}
    fics = {f.name for f in az.msi.federated_identity_credentials.list(RG, IDENTITY)}
    assert fics == {"aks-uksouth-operator-fic"}
    assert "uksouth" in out and "they go with the last region" in out
    code, out, _ = served.raks(capsys, "plan", "--regions", "uksouth", "--detailed-exitcode")
    assert code == 0, out


def test_a_failed_delete_is_reported_by_region_and_step_and_a_rerun_finishes(served, capsys):
    up(served, capsys, *REGIONS)
    served.control.add_fault(
        method="DELETE", path="natGateways/aks-swedencentral-nat-gw", lro_failed=True, code="InternalServerError",
        message="NAT gateway deletion failed.", times=1,
    )  # fmt: skip
    code, _out, err = served.raks(capsys, "down", "--yes")
    assert code == 5, err
    assert "error: swedencentral/nat-gateway: InternalServerError: " in err
    az = served.clients()
    assert {n.name for n in az.network.nat_gateways.list(RG)} == {"aks-swedencentral-nat-gw"}
    assert [c.name for c in az.aks.managed_clusters.list_by_resource_group(RG)] == []
    code, _out, err = served.raks(capsys, "down", "--yes")
    assert code == 0, err
    assert {r.name for r in az.resource.resources.list_by_resource_group(RG)} == {account_name(served)}


def test_a_conflict_on_the_cluster_delete_fails_the_region_and_a_rerun_finishes(served, capsys):
    up(served, capsys, "uksouth")
    served.control.add_fault(
        method="DELETE", path="managedClusters/aks-uksouth$", status=409, code="OperationNotAllowed",
        message="Operation is not allowed: Another operation (Updating) is in progress.", times=1,
    )  # fmt: skip
    code, _out, err = served.raks(capsys, "down", "--yes")
    assert code == 4, err
    assert "error: uksouth/cluster: OperationNotAllowed: " in err
    az = served.clients()
    assert az.aks.managed_clusters.get(RG, "aks-uksouth").provisioning_state == "Succeeded"
    assert az.network.virtual_networks.get(RG, "aks-uksouth-vnet")  # what the cluster needs stayed
    code, _out, err = served.raks(capsys, "down", "--yes")
    assert code == 0, err
    assert list(az.aks.managed_clusters.list_by_resource_group(RG)) == []


def test_down_on_nothing_is_a_no_op(served, capsys):
    code, out, err = served.raks(capsys, "down")
    assert code == 0, err
    assert "Nothing to delete." in err
    assert served.writes() == []


def test_status_json_shows_regions_pools_nodes_quota_and_drift(served, capsys):
    served.control.set_capacity("uksouth", quota={"standardNDASv4_A100Family": 192, "lowPriorityCores": 288})
    served.control.set_capacity("swedencentral", quota={"standardNDASv4_A100Family": 96, "lowPriorityCores": 384})
    up(served, capsys, *REGIONS)
    az = served.clients()
    served.control.scale_pool(az.aks.agent_pools.get(RG, "aks-uksouth", "a100").id, 1)  # the autoscaler adds a node

    code, out, err = served.raks(capsys, "-o", "json", "status", "--regions", *REGIONS)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and doc["drift"]["changes"] == 0
    identity = az.msi.user_assigned_identities.get(RG, IDENTITY)
    assert doc["global"]["identity"] == {
        "name": IDENTITY, "exists": True, "managed_by_raks": True,
        "client_id": identity.client_id, "principal_id": identity.principal_id,
    }  # fmt: skip
    assert doc["global"]["storage_account"]["exists"] and doc["global"]["container"]["exists"]
    regions = {r["region"]: r for r in doc["regions"]}
    assert list(regions) == REGIONS
    uk = regions["uksouth"]
    assert (uk["cluster"]["provisioning_state"], uk["cluster"]["power_state"], uk["cluster"]["kubernetes_version"]) == (
        "Succeeded", "Running", "1.34.1",
    )  # fmt: skip
    pools = {p["name"]: (p["vm_size"], p["spot"], p["nodes"], p["min"], p["max"]) for p in uk["pools"]}
    assert pools == {
        "sys": ("Standard_D8_v5", False, 3, 3, 3),
        "cpu": ("Standard_D16_v5", False, 3, 3, 6),
        "a100": ("Standard_ND96asr_v4", True, 1, 0, 3),
    }
    a100 = next(p for p in uk["pools"] if p["name"] == "a100")
    assert "nvidia.com/gpu=present:NoSchedule" in a100["taints"] and a100["quota"] == "lowPriorityCores"
    quota = {q["kind"]: (q["name"], q["used"], q["limit"]) for q in uk["quota"]}
    assert quota == {"gpu": ("standardNDASv4_A100Family", 0, 192), "spot": ("lowPriorityCores", 96, 288)}
    quota = {q["kind"]: (q["name"], q["used"], q["limit"]) for q in regions["swedencentral"]["quota"]}
    assert quota == {"gpu": ("standardNDASv4_A100Family", 0, 96), "spot": ("lowPriorityCores", 0, 384)}
    assert "helm_releases" in uk and "anyscale_cloud_resource_id" in uk  # filled by in-cluster providers

    code, out, _ = served.raks(capsys, "status", "--regions", *REGIONS)
    assert code == 0
    assert "a100  Standard_ND96asr_v4  yes   1      0    3" in out
    assert "lowPriorityCores (spot): 96 of 288 vCPUs used" in out
    assert "drift: none" in out


def test_kubeconfig_works_with_the_kubernetes_client_and_merges_only_when_asked(served, capsys, tmp_path):
    from kubernetes import client, config

    up(served, capsys, "uksouth")
    path = tmp_path / "kc"
    code, out, err = served.raks(capsys, "kubeconfig", "uksouth", "--file", str(path))
    assert code == 0, err
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    nodes = client.CoreV1Api(config.new_client_from_config(config_file=str(path))).list_node().items
    assert len(nodes) == 6  # sys 3 + cpu 3 (the spot GPU pool is at 0)

    code, _out, err = served.raks(capsys, "kubeconfig", "uksouth", "--file", str(path))
    assert code == 2 and "--merge" in err

    other = tmp_path / "config"
    other.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dev",
        "clusters": [{"name": "dev", "cluster": {"server": "https://dev.example"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": "dev"}}],
        "users": [{"name": "dev", "user": {"token": "x"}}],
    }))  # fmt: skip
    os.chmod(other, 0o644)
    for _ in range(2):  # merging twice replaces the entries, never duplicates them
        code, _out, err = served.raks(capsys, "kubeconfig", "uksouth", "--file", str(other), "--merge")
        assert code == 0, err
    merged = yaml.safe_load(other.read_text())
    assert sorted(c["name"] for c in merged["contexts"]) == ["aks-uksouth", "dev"]
    assert merged["current-context"] == "aks-uksouth"
    assert stat.S_IMODE(os.stat(other).st_mode) == 0o600
    api = config.new_client_from_config(config_file=str(other), context="aks-uksouth")
    assert len(client.CoreV1Api(api).list_node().items) == 6


def test_kubeconfig_for_a_region_without_a_cluster_says_what_to_do(served, capsys, tmp_path):
    code, _out, err = served.raks(capsys, "kubeconfig", "swedencentral", "--file", str(tmp_path / "kc"))
    assert code == 4
    assert "swedencentral/cluster: ResourceNotFound: AKS cluster aks-swedencentral not found" in err
    assert "raks up --regions swedencentral" in err
    assert not (tmp_path / "kc").exists()
