"""`raks up` / `raks plan` through the sandbox, read back with the real SDKs."""

from __future__ import annotations

import time

import yaml

REGIONS = ["uksouth", "swedencentral"]
RG = "aks-anyscale-rg"


def test_up_creates_every_resource_with_the_reference_values(served, capsys):
    code, _out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes")
    assert code == 0, err
    az = served.clients()
    identity = az.msi.user_assigned_identities.get(RG, "aks-anyscale-operator-mi")
    assert identity.tags["managed-by"] == "raks" and identity.tags["raks-deployment"] == "aks-anyscale"
    accounts = list(az.storage.storage_accounts.list_by_resource_group(RG))
    assert len(accounts) == 1
    acct = accounts[0]
    assert (acct.sku.name, acct.kind, acct.enable_https_traffic_only, acct.minimum_tls_version, acct.allow_blob_public_access) == (
        "Standard_LRS", "StorageV2", True, "TLS1_2", False,
    )  # fmt: skip
    cors = az.storage.blob_services.get_service_properties(RG, acct.name).cors.cors_rules
    assert [(r.allowed_origins, r.allowed_methods, r.allowed_headers, r.max_age_in_seconds) for r in cors] == [
        (["https://console.anyscale.com"], ["GET"], ["*"], 600)
    ]
    assert az.storage.blob_containers.get(RG, acct.name, "aks-anyscale-blob").public_access == "None"
    assignments = list(az.auth.role_assignments.list_for_scope(acct.id, filter="atScope()"))
    by_principal = {a.principal_id: a.role_definition_id.split("/")[-1] for a in assignments}
    assert by_principal[identity.principal_id] == "ba92f5b4-2d11-453d-a403-e96b0029c9fe"  # Blob Data Contributor
    assert all(a.principal_type == "ServicePrincipal" for a in assignments)
    ranges = {}
    for region in REGIONS:
        nsg = az.network.network_security_groups.get(RG, f"aks-{region}-vnet-aks-nodes-nsg")
        rule = nsg.security_rules[0]
        assert (rule.name, rule.priority, rule.direction, rule.access, rule.protocol, rule.destination_port_range) == (
            "AllowHttpsInbound", 100, "Inbound", "Allow", "Tcp", "443",
        )  # fmt: skip
        pip = az.network.public_ip_addresses.get(RG, f"aks-{region}-nat-pip")
        assert (pip.sku.name, pip.public_ip_allocation_method) == ("Standard", "Static")
        nat = az.network.nat_gateways.get(RG, f"aks-{region}-nat-gw")
        assert nat.idle_timeout_in_minutes == 10 and nat.public_ip_addresses[0].id.lower() == pip.id.lower()
        subnet = az.network.subnets.get(RG, f"aks-{region}-vnet", "aks-nodes")
        assert subnet.network_security_group.id.lower() == nsg.id.lower()
        assert subnet.nat_gateway.id.lower() == nat.id.lower()
        ranges[region] = az.network.virtual_networks.get(RG, f"aks-{region}-vnet").address_space.address_prefixes[0]
        mc = az.aks.managed_clusters.get(RG, f"aks-{region}")
        assert (mc.kubernetes_version, mc.sku.tier) == ("1.34.1", "Standard")
        assert mc.oidc_issuer_profile.enabled and mc.security_profile.workload_identity.enabled
        assert mc.storage_profile.blob_csi_driver.enabled
        npf = mc.network_profile
        assert (npf.network_plugin, npf.network_plugin_mode, npf.pod_cidr, npf.outbound_type) == (
            "azure", "overlay", "10.128.0.0/12", "userAssignedNATGateway",
        )  # fmt: skip
        pools = {p.name: p for p in az.aks.agent_pools.list(RG, f"aks-{region}")}
        assert (pools["sys"].mode, pools["sys"].vm_size, pools["sys"].count) == ("System", "Standard_D8_v5", 3)
        cpu = pools["cpu"]
        assert (cpu.vm_size, cpu.enable_auto_scaling, cpu.min_count, cpu.max_count) == ("Standard_D16_v5", True, 3, 6)
        assert cpu.node_taints == ["node.anyscale.com/capacity-type=ON_DEMAND:NoSchedule"]
        gpu = pools["a100"]
        assert (gpu.vm_size, gpu.scale_set_priority, gpu.scale_set_eviction_policy, gpu.min_count, gpu.max_count, gpu.count) == (
            "Standard_ND96asr_v4", "Spot", "Delete", 0, 3, 0,
        )  # fmt: skip
        assert gpu.node_labels["nvidia.com/gpu.product"] == "NVIDIA-A100"
        fic = az.msi.federated_identity_credentials.get(RG, "aks-anyscale-operator-mi", f"aks-{region}-operator-fic")
        assert fic.issuer == mc.oidc_issuer_profile.issuer_url
        assert fic.subject == "system:serviceaccount:anyscale-operator:anyscale-operator"
        assert fic.audiences == ["api://AzureADTokenExchange"]
        assert by_principal[mc.identity.principal_id] == "17d1049b-9a84-46fb-8f53-869881c3d3ab"  # Account Contributor
    assert ranges["uksouth"] != ranges["swedencentral"]


def test_rerun_writes_nothing_and_plan_shows_no_changes(served, capsys):
    assert served.raks(capsys, "up", "--regions", *REGIONS, "--yes")[0] == 0
    since = time.time()
    code, out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes")
    assert code == 0 and "Nothing to change" in err
    assert served.writes(since) == []
    assert served.writes(since, api="kube") == []  # no Kubernetes object or Helm release rewritten
    assert served.writes(since, api="graph") == []  # the operator app's service principal exists already
    code, out, _ = served.raks(capsys, "plan", "--regions", *REGIONS, "--detailed-exitcode")
    assert code == 0
    # 2 regions x 16 steps + 7 global Azure/Anyscale steps + the operator app's service principal (Graph).
    assert "Plan: 0 to create, 0 to update, 40 unchanged." in out


def test_changing_a_pool_bound_updates_only_that_pool(served, capsys, tmp_path):
    assert served.raks(capsys, "up", "--regions", *REGIONS, "--yes")[0] == 0
    from raks.config import RaksConfig

    pools = [p.model_dump() for p in RaksConfig().pools]
    pools[1]["max_count"] = 8
    (tmp_path / "raks.yaml").write_text(yaml.safe_dump({"regions": REGIONS, "pools": pools}))
    code, out, _ = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "plan", "--detailed-exitcode")
    assert code == 10
    changed = [line.strip() for line in out.splitlines() if line.strip().startswith(("+", "~"))]
    assert changed == ["~ update    pool cpu (Standard_D16_v5, 3-8) (properties.maxCount)"] * 2
    since = time.time()
    code, _, err = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "up", "--yes")
    assert code == 0, err
    writes = served.writes(since)
    assert [(w["method"], w["path"].split("/")[-1]) for w in writes] == [("PUT", "cpu"), ("PUT", "cpu")]
    az = served.clients()
    assert az.aks.agent_pools.get(RG, "aks-uksouth", "cpu").max_count == 8


def test_a_failure_in_one_region_lets_the_other_finish_and_a_rerun_converges(served, capsys):
    served.control.add_fault(
        method="PUT", path="natGateways/aks-swedencentral-nat-gw", lro_failed=True, code="InternalServerError",
        message="NAT gateway provisioning failed.", times=1,
    )  # fmt: skip
    code, out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes")
    assert code == 5
    assert "error: swedencentral/nat-gateway: InternalServerError: " in err
    az = served.clients()
    assert az.aks.managed_clusters.get(RG, "aks-uksouth").provisioning_state == "Succeeded"
    assert [c.name for c in az.aks.managed_clusters.list_by_resource_group(RG)] == ["aks-uksouth"]
    code, _out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes")
    assert code == 0, err
    assert sorted(c.name for c in az.aks.managed_clusters.list_by_resource_group(RG)) == [
        "aks-swedencentral",
        "aks-uksouth",
    ]
    assert len(list(az.network.nat_gateways.list(RG))) == 2
    assert served.raks(capsys, "plan", "--regions", *REGIONS, "--detailed-exitcode")[0] == 0


def test_a_foreign_resource_with_our_name_is_not_taken_over(served, capsys):
    az = served.clients()
    az.resource.resource_groups.create_or_update(RG, {"location": "uksouth"})
    from azure.mgmt.msi.models import Identity

    az.msi.user_assigned_identities.create_or_update(RG, "aks-anyscale-operator-mi", Identity(location="uksouth"))
    since = time.time()
    code, _out, err = served.raks(capsys, "up", "--regions", "uksouth", "--yes")
    assert code == 4
    assert "global/identity: NotOwnedByRaks: identity aks-anyscale-operator-mi already exists and is not managed" in err
    assert served.writes(since) == []  # the plan found the collision before any write
    assert az.msi.user_assigned_identities.get(RG, "aks-anyscale-operator-mi").tags in ({}, None)


def test_up_without_yes_and_no_terminal_refuses(served, capsys):
    code, _out, err = served.raks(capsys, "up", "--regions", "uksouth")
    assert code == 2
    assert "pass --yes" in err
    assert served.writes() == []
