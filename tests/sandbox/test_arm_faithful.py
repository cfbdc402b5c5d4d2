"""The ARM emulator refuses what Azure refuses (issue 14): each test drives one rule with the real
azure-mgmt clients (and the kubernetes client for the cluster side)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

RG = "rg1"
LOC = "uksouth"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
SPOT_LABEL = "kubernetes.azure.com/scalesetpriority"
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"


def make_rg(az, name: str = RG, tags: dict[str, str] | None = None) -> None:
    az.resource.resource_groups.create_or_update(name, {"location": LOC, "tags": tags or {"managed-by": "raks"}})


def make_vnet(az, tags: dict[str, str] | None = None) -> Any:
    from azure.mgmt.network import models as m

    make_rg(az)
    return az.network.virtual_networks.begin_create_or_update(
        RG,
        "vnet",
        m.VirtualNetwork(
            location=LOC,
            tags=tags,
            address_space=m.AddressSpace(address_prefixes=["10.201.0.0/16"]),
            subnets=[m.Subnet(name="aks-nodes", address_prefix="10.201.0.0/19")],
        ),
    ).result()


def make_cluster(az, subnet_id: str, name: str = "aks") -> Any:
    from azure.mgmt.containerservice import models as m

    mc = m.ManagedCluster(
        location=LOC,
        dns_prefix=name,
        kubernetes_version="1.34.1",
        identity=m.ManagedClusterIdentity(type="SystemAssigned"),
        network_profile=m.ContainerServiceNetworkProfile(network_plugin="azure", network_plugin_mode="overlay"),
        agent_pool_profiles=[
            m.ManagedClusterAgentPoolProfile(
                name="sys", mode="System", vm_size="Standard_D8_v5", count=1, vnet_subnet_id=subnet_id
            )
        ],
    )
    return az.aks.managed_clusters.begin_create_or_update(RG, name, mc).result()


def kube_core(az, cluster: str = "aks") -> Any:
    import yaml
    from kubernetes import client, config

    creds = az.aks.managed_clusters.list_cluster_user_credentials(RG, cluster)
    api = config.new_client_from_config_dict(yaml.safe_load(creds.kubeconfigs[0].value))
    return client.CoreV1Api(api)


def assign(az, scope: str, principal: str, role: str) -> None:
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    sub = az.sub
    params = RoleAssignmentCreateParameters(
        role_definition_id=f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}",
        principal_id=principal,
        principal_type="ServicePrincipal",
    )
    az.auth.role_assignments.create(scope, str(uuid.uuid4()), params)


# -- 1. linked authorization ---------------------------------------------------------------------


def test_load_balancer_waits_for_subnet_join_permission(az):
    from kubernetes import client

    vnet = make_vnet(az)
    subnet_id = vnet.subnets[0].id
    mc = make_cluster(az, subnet_id)
    core = kube_core(az)
    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name="ingress"),
        spec=client.V1ServiceSpec(type="LoadBalancer", ports=[client.V1ServicePort(port=443)]),
    )
    core.create_namespaced_service("default", svc)
    pending = core.read_namespaced_service("ingress", "default")
    assert not pending.status.load_balancer.ingress
    condition = pending.status.conditions[0]
    assert condition.reason == "SyncLoadBalancerFailed" and "LinkedAuthorizationFailed" in condition.message
    assert subnet_id in condition.message and mc.identity.principal_id in condition.message
    # A role without the join action (Reader) changes nothing.
    assign(az, subnet_id, mc.identity.principal_id, READER)
    assert not core.read_namespaced_service("ingress", "default").status.load_balancer.ingress
    # Network Contributor on a parent scope (the VNet) is enough, and is picked up on the next read.
    assign(az, vnet.id, mc.identity.principal_id, NETWORK_CONTRIBUTOR)
    ready = core.read_namespaced_service("ingress", "default")
    assert ready.status.load_balancer.ingress[0].ip
    assert not ready.status.conditions


# -- 5. role definitions ---------------------------------------------------------------------------


def test_role_definitions_at_every_scope_with_permissions(az):
    vnet = make_vnet(az)
    sub_level = f"/subscriptions/{az.sub}/providers/Microsoft.Authorization/roleDefinitions/{NETWORK_CONTRIBUTOR}"
    for scope in (f"/subscriptions/{az.sub}", f"/subscriptions/{az.sub}/resourceGroups/{RG}", vnet.subnets[0].id):
        found = list(az.auth.role_definitions.list(scope, filter="roleName eq 'Network Contributor'"))
        assert [d.id for d in found] == [sub_level]
        assert "Microsoft.Network/*" in found[0].permissions[0].actions
        got = az.auth.role_definitions.get(scope, NETWORK_CONTRIBUTOR)
        assert got.id == sub_level
    contributor = az.auth.role_definitions.get(vnet.id, "b24988ac-6180-42a0-ab88-20f7382dd24c")
    assert contributor.permissions[0].actions == ["*"]
    assert "Microsoft.Authorization/*/Write" in contributor.permissions[0].not_actions
    key_operator = list(
        az.auth.role_definitions.list(vnet.id, filter="roleName eq 'Storage Account Key Operator Service Role'")
    )
    assert key_operator[0].name == "81a9662b-bebf-436f-a333-f67b29880f12"
    blob = az.auth.role_definitions.get(vnet.id, "ba92f5b4-2d11-453d-a403-e96b0029c9fe")
    assert "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read" in blob.permissions[0].data_actions


# -- 2. concurrent pool creation on one subnet ---------------------------------------------------


def _pool(subnet_id: str, **kw: Any) -> Any:
    from azure.mgmt.containerservice import models as m

    return m.AgentPool(vm_size="Standard_D16_v5", count=1, mode="User", vnet_subnet_id=subnet_id, **kw)


def test_second_pool_created_on_a_busy_subnet_fails_set_vnet_ownership(az, sandbox):
    subnet_id = make_vnet(az).subnets[0].id
    make_cluster(az, subnet_id)
    sandbox.world.profile = type(sandbox.world.profile)("azure", 0.001)  # a pool create takes ~0.4 s
    first = az.aks.agent_pools.begin_create_or_update(RG, "aks", "cpu1", _pool(subnet_id))
    second = az.aks.agent_pools.begin_create_or_update(RG, "aks", "cpu2", _pool(subnet_id))  # accepted (201)
    with pytest.raises(HttpResponseError) as info:
        second.result()
    assert info.value.error.code == "SetVNetOwnershipFailed"
    assert "VirtualNetworkNotInSucceededState" in info.value.error.message
    assert first.result().provisioning_state == "Succeeded"
    assert az.aks.agent_pools.get(RG, "aks", "cpu2").provisioning_state == "Failed"
    # One at a time per subnet works.
    assert az.aks.agent_pools.begin_create_or_update(RG, "aks", "cpu3", _pool(subnet_id)).result()


# -- 3. the spot label on pool updates -----------------------------------------------------------


def test_pool_update_without_spot_label_drops_it(az):
    subnet_id = make_vnet(az).subnets[0].id
    make_cluster(az, subnet_id)
    spot = _pool(subnet_id, scale_set_priority="Spot", node_labels={"team": "ml"})
    created = az.aks.agent_pools.begin_create_or_update(RG, "aks", "spot", spot).result()
    assert created.node_labels == {"team": "ml", SPOT_LABEL: "spot"} and SPOT_TAINT in created.node_taints
    # An update that sends only the user's labels (as `az aks nodepool update --labels` did) loses it.
    update = _pool(subnet_id, scale_set_priority="Spot", node_labels={"team": "ml"}, node_taints=[SPOT_TAINT])
    updated = az.aks.agent_pools.begin_create_or_update(RG, "aks", "spot", update).result()
    assert updated.node_labels == {"team": "ml"} and SPOT_TAINT in updated.node_taints
    nodes = [n for n in kube_core(az).list_node().items if n.metadata.labels.get("agentpool") == "spot"]
    assert nodes and all(SPOT_LABEL not in n.metadata.labels for n in nodes)
    # A client that keeps the label in its update body keeps it.
    keep = _pool(subnet_id, scale_set_priority="Spot", node_labels={"team": "ml", SPOT_LABEL: "spot"})
    kept = az.aks.agent_pools.begin_create_or_update(RG, "aks", "spot", keep).result()
    assert kept.node_labels[SPOT_LABEL] == "spot"


# -- 4. resource lists -----------------------------------------------------------------------------


def test_resource_lists_filter_as_arm_does(az):
    from azure.mgmt.msi.models import FederatedIdentityCredential, Identity

    make_rg(az)
    make_rg(az, "rg2", tags={"managed-by": "someone-else"})
    mi = az.msi.user_assigned_identities.create_or_update(RG, "mi", Identity(location=LOC, tags={"managed-by": "raks"}))
    az.msi.user_assigned_identities.create_or_update("rg2", "other", Identity(location=LOC, tags={"team": "x"}))
    az.msi.federated_identity_credentials.create_or_update(
        RG,
        "mi",
        "fic",
        FederatedIdentityCredential(issuer="https://x/", subject="system:serviceaccount:a:b", audiences=["api://x"]),
    )
    assign(az, f"/subscriptions/{az.sub}/resourceGroups/{RG}", mi.principal_id, READER)
    everything = list(az.resource.resources.list())
    # Child and extension resources (credentials, role assignments) are not in the generic list.
    assert sorted(r.name for r in everything) == ["mi", "other"]
    # A tag filter (keywords in any case) finds by name and value and leaves the tags out.
    tagged = list(az.resource.resources.list(filter="TagName eq 'managed-by' and TAGVALUE eq 'raks'"))
    assert [(r.name, r.tags) for r in tagged] == [("mi", None)]
    assert [r.name for r in az.resource.resources.list(filter="resourceGroup eq 'RG2'")] == ["other"]
    assert [r.name for r in az.resource.resources.list_by_resource_group(RG, filter="tagname eq 'managed-by'")] == [
        "mi"
    ]
    # Resource groups accept only tag filters, and keep their tags.
    groups = list(az.resource.resource_groups.list(filter="tagName eq 'managed-by' and tagValue eq 'raks'"))
    assert [(g.name, g.tags) for g in groups] == [(RG, {"managed-by": "raks"})]
    for call in (
        lambda: list(az.resource.resources.list(filter="tags eq 'raks'")),
        lambda: list(az.resource.resources.list(filter="tagValue eq 'raks'")),
        lambda: list(az.resource.resource_groups.list(filter="location eq 'uksouth'")),
    ):
        with pytest.raises(HttpResponseError) as info:
            call()
        assert (info.value.status_code, info.value.error.code) == (400, "InvalidFilterInQueryString")


def test_node_resource_group_contents_are_listed_like_arm(az):
    """ARM lists what AKS put in the node resource group (tagged like the cluster) with the rest."""
    subnet_id = make_vnet(az).subnets[0].id
    az.aks.managed_clusters.begin_create_or_update(
        RG, "aks", _tagged_cluster(subnet_id, {"managed-by": "raks"})
    ).result()
    found = list(az.resource.resources.list(filter="tagName eq 'managed-by' and tagValue eq 'raks'"))
    assert any("/resourcegroups/mc_" in r.id.lower() for r in found)
    node_rg = next(g for g in az.resource.resource_groups.list() if g.name.startswith("MC_"))
    assert node_rg.managed_by and node_rg.tags == {"managed-by": "raks"}


def _tagged_cluster(subnet_id: str, tags: dict[str, str]) -> Any:
    from azure.mgmt.containerservice import models as m

    return m.ManagedCluster(
        location=LOC,
        tags=tags,
        dns_prefix="aks",
        identity=m.ManagedClusterIdentity(type="SystemAssigned"),
        agent_pool_profiles=[
            m.ManagedClusterAgentPoolProfile(
                name="sys", mode="System", vm_size="Standard_D8_v5", count=1, vnet_subnet_id=subnet_id
            )
        ],
    )


# -- 6. the API surface clients use ------------------------------------------------------------------


def test_cloud_metadata_is_served_without_a_token(az):
    import requests

    base = az.ep["arm"]
    one = requests.get(f"{base}/metadata/endpoints?api-version=2022-09-01", verify=az.ep["ca_bundle"], timeout=10)
    assert one.status_code == 200
    doc = one.json()
    assert doc["resourceManager"] == base + "/" and doc["authentication"]["audiences"]
    assert doc["name"] and doc["suffixes"]["storage"] == "core.windows.net"
    many = requests.get(f"{base}/metadata/endpoints?api-version=2019-05-01", verify=az.ep["ca_bundle"], timeout=10)
    assert [c["resourceManager"] for c in many.json()] == [base + "/"]


def test_nsg_rules_are_child_resources_in_sync_with_the_nsg(az):
    from azure.mgmt.network import models as m

    make_rg(az)

    def rule(name: str, priority: int, port: str) -> m.SecurityRule:
        return m.SecurityRule(
            name=name,
            priority=priority,
            direction="Inbound",
            access="Allow",
            protocol="Tcp",
            source_address_prefix="*",
            source_port_range="*",
            destination_address_prefix="*",
            destination_port_range=port,
        )

    nsg = m.NetworkSecurityGroup(location=LOC, security_rules=[rule("https", 100, "443")])
    az.network.network_security_groups.begin_create_or_update(RG, "nsg", nsg).result()
    assert az.network.security_rules.get(RG, "nsg", "https").destination_port_range == "443"
    az.network.security_rules.begin_create_or_update(RG, "nsg", "ssh", rule("ssh", 110, "22")).result()
    inline = az.network.network_security_groups.get(RG, "nsg").security_rules
    assert sorted(r.name for r in inline) == ["https", "ssh"]
    assert sorted(r.name for r in az.network.security_rules.list(RG, "nsg")) == ["https", "ssh"]
    with pytest.raises(HttpResponseError) as info:
        az.network.security_rules.begin_create_or_update(RG, "nsg", "dup", rule("dup", 110, "80")).result()
    assert info.value.error.code == "SecurityRulesConflictingPriority"
    az.network.security_rules.begin_delete(RG, "nsg", "https").result()
    assert [r.name for r in az.network.network_security_groups.get(RG, "nsg").security_rules] == ["ssh"]
    with pytest.raises(ResourceNotFoundError):
        az.network.security_rules.get(RG, "nsg", "https")


def test_aks_fills_its_defaults(az):
    subnet_id = make_vnet(az).subnets[0].id
    mc = make_cluster(az, subnet_id)
    net = mc.network_profile
    assert (net.service_cidr, net.dns_service_ip, net.network_dataplane) == ("10.0.0.0/16", "10.0.0.10", "azure")
    assert net.ip_families == ["IPv4"] and net.load_balancer_sku == "standard" and net.pod_cidr == "10.244.0.0/16"
    pool = az.aks.agent_pools.get(RG, "aks", "sys")
    assert pool.current_orchestrator_version == "1.34.1" and pool.node_image_version.startswith("AKSUbuntu-")
    assert (pool.os_disk_size_gb, pool.os_sku, pool.max_pods) == (128, "Ubuntu", 250)


def test_network_back_links(az):
    from azure.mgmt.network import models as m

    make_rg(az)
    nsg = az.network.network_security_groups.begin_create_or_update(
        RG, "nsg", m.NetworkSecurityGroup(location=LOC)
    ).result()
    pip = az.network.public_ip_addresses.begin_create_or_update(
        RG, "pip", m.PublicIPAddress(location=LOC, sku=m.PublicIPAddressSku(name="Standard"))
    ).result()
    nat = az.network.nat_gateways.begin_create_or_update(
        RG,
        "nat",
        m.NatGateway(
            location=LOC, sku=m.NatGatewaySku(name="Standard"), public_ip_addresses=[m.SubResource(id=pip.id)]
        ),
    ).result()
    vnet = az.network.virtual_networks.begin_create_or_update(
        RG,
        "vnet",
        m.VirtualNetwork(
            location=LOC,
            address_space=m.AddressSpace(address_prefixes=["10.1.0.0/16"]),
            subnets=[
                m.Subnet(
                    name="nodes",
                    address_prefix="10.1.0.0/20",
                    network_security_group=m.SubResource(id=nsg.id),
                    nat_gateway=m.SubResource(id=nat.id),
                )
            ],
        ),
    ).result()
    subnet_id = vnet.subnets[0].id.lower()
    assert [s.id.lower() for s in az.network.network_security_groups.get(RG, "nsg").subnets] == [subnet_id]
    assert [s.id.lower() for s in az.network.nat_gateways.get(RG, "nat").subnets] == [subnet_id]
    assert az.network.public_ip_addresses.get(RG, "pip").nat_gateway.id.lower() == nat.id.lower()


def test_not_found_names_the_child_type(az):
    subnet_id = make_vnet(az).subnets[0].id
    make_cluster(az, subnet_id)
    with pytest.raises(ResourceNotFoundError) as info:
        az.aks.agent_pools.get(RG, "aks", "nope")
    assert "'Microsoft.ContainerService/managedClusters/aks/agentPools/nope' under resource group 'rg1'" in str(
        info.value
    )


def test_operation_urls_are_in_the_parent_region(az):
    subnet_id = make_vnet(az).subnets[0].id
    make_cluster(az, subnet_id)
    seen: list[str] = []

    def hook(response: Any) -> None:
        url = response.http_response.headers.get("Azure-AsyncOperation")
        if url:
            seen.append(url)

    az.aks.agent_pools.begin_create_or_update(RG, "aks", "cpu", _pool(subnet_id), raw_response_hook=hook).result()
    assert seen and all(f"/providers/Microsoft.ContainerService/locations/{LOC}/operations/" in u for u in seen)


def test_unknown_api_versions_are_refused(az):
    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from helpers.azure_clients import StaticToken

    make_rg(az)
    aks = ContainerServiceClient(StaticToken(), az.sub, api_version="2099-01-01", **az.kw())
    with pytest.raises(HttpResponseError) as info:
        list(aks.managed_clusters.list_by_resource_group(RG))
    assert (info.value.status_code, info.value.error.code) == (400, "NoRegisteredProviderFound")
    assert "'2099-01-01' for type 'managedClusters'" in info.value.error.message
    assert "2026-08-01" in info.value.error.message  # the version the installed SDK sends is listed
    arm = ResourceManagementClient(StaticToken(), az.sub, api_version="2099-01-01", **az.kw())
    with pytest.raises(HttpResponseError) as info:
        arm.resource_groups.get(RG)
    assert (info.value.status_code, info.value.error.code) == (400, "InvalidApiVersionParameter")
