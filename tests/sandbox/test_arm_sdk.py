"""The ARM emulator driven by the real azure-mgmt SDKs over HTTPS."""

from __future__ import annotations

import threading

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

RG = "rg1"
LOC = "uksouth"


def make_rg(az, name: str = RG) -> None:
    az.resource.resource_groups.create_or_update(name, {"location": LOC, "tags": {"managed-by": "raks"}})


def test_resource_group_crud_and_errors(az):
    with pytest.raises(ResourceNotFoundError) as info:
        az.resource.resource_groups.get(RG)
    assert info.value.error.code == "ResourceGroupNotFound"
    make_rg(az)
    rg = az.resource.resource_groups.get(RG.upper())  # ids are case-insensitive
    assert rg.name == RG and rg.location == LOC and rg.tags == {"managed-by": "raks"}
    assert az.resource.resource_groups.check_existence(RG) is True
    az.resource.resource_groups.begin_delete(RG).result()
    assert az.resource.resource_groups.check_existence(RG) is False


def test_child_of_missing_group_is_404(az):
    from azure.mgmt.msi.models import Identity

    with pytest.raises(ResourceNotFoundError) as info:
        az.msi.user_assigned_identities.create_or_update("nope", "mi", Identity(location=LOC))
    assert info.value.error.code == "ResourceGroupNotFound"


def test_identity_ids_are_stable_and_fic_rules(az):
    from azure.mgmt.msi.models import FederatedIdentityCredential, Identity

    make_rg(az)
    first = az.msi.user_assigned_identities.create_or_update(RG, "mi", Identity(location=LOC))
    again = az.msi.user_assigned_identities.create_or_update(RG, "mi", Identity(location=LOC, tags={"a": "b"}))
    assert (first.principal_id, first.client_id) == (again.principal_id, again.client_id)
    assert first.tenant_id == az.ep["tenant_id"]

    def fic(i: int) -> FederatedIdentityCredential:
        return FederatedIdentityCredential(
            issuer=f"https://uksouth.oic.prod-aks.azure.com/t/{i}/",
            subject="system:serviceaccount:anyscale-operator:anyscale-operator",
            audiences=["api://AzureADTokenExchange"],
        )

    for i in range(20):
        az.msi.federated_identity_credentials.create_or_update(RG, "mi", f"fic{i}", fic(i))
    with pytest.raises(HttpResponseError) as info:
        az.msi.federated_identity_credentials.create_or_update(RG, "mi", "fic20", fic(20))
    assert info.value.status_code == 400
    with pytest.raises(HttpResponseError) as info:
        az.msi.federated_identity_credentials.create_or_update(RG, "mi", "dup", fic(3))
    assert "Issuer and subject combination already exists" in info.value.message
    names = {f.name for f in az.msi.federated_identity_credentials.list(RG, "mi")}
    assert len(names) == 20


def test_concurrent_fic_writes_on_one_identity_conflict(az):
    from azure.mgmt.msi.models import FederatedIdentityCredential, Identity

    make_rg(az)
    az.msi.user_assigned_identities.create_or_update(RG, "mi", Identity(location=LOC))
    errors: list[Exception] = []
    client = az.msi
    client._config.retry_policy.total_retries = 0  # see the raw conflict, not azure-core's retry

    def write(i: int) -> None:
        body = FederatedIdentityCredential(
            issuer=f"https://x/{i}/", subject=f"system:serviceaccount:a:{i}", audiences=["api://AzureADTokenExchange"]
        )
        try:
            client.federated_identity_credentials.create_or_update(RG, "mi", f"cred{i}", body)
        except HttpResponseError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors, "overlapping writes to one identity must conflict"
    assert all(e.status_code == 409 for e in errors)
    assert {e.error.code for e in errors} == {"ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"}


def _storage(az, name: str = "raksacct01"):
    from azure.mgmt.storage.models import Sku, StorageAccountCreateParameters

    params = StorageAccountCreateParameters(
        sku=Sku(name="Standard_LRS"),
        kind="StorageV2",
        location=LOC,
        enable_https_traffic_only=True,
        minimum_tls_version="TLS1_2",
        allow_blob_public_access=False,
    )
    return az.storage.storage_accounts.begin_create(RG, name, params).result()


def test_storage_account_lro_names_keys_cors_container(az):
    from azure.mgmt.storage.models import BlobContainer, BlobServiceProperties, CorsRule, CorsRules

    make_rg(az)
    avail = az.storage.storage_accounts.check_name_availability(
        {"name": "raksacct01", "type": "Microsoft.Storage/storageAccounts"}
    )
    assert avail.name_available is True
    acct = _storage(az)
    assert acct.provisioning_state == "Succeeded"
    assert acct.primary_endpoints.blob == "https://raksacct01.blob.core.windows.net/"
    assert acct.minimum_tls_version == "TLS1_2" and acct.allow_blob_public_access is False
    taken = az.storage.storage_accounts.check_name_availability(
        {"name": "raksacct01", "type": "Microsoft.Storage/storageAccounts"}
    )
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    keys = az.storage.storage_accounts.list_keys(RG, "raksacct01")["keys"]
    assert [k["keyName"] for k in keys] == ["key1", "key2"]
    rule = CorsRule(
        allowed_origins=["https://console.anyscale.com"],
        allowed_methods=["GET"],
        allowed_headers=["*"],
        exposed_headers=[],
        max_age_in_seconds=600,
    )
    az.storage.blob_services.set_service_properties(
        RG, "raksacct01", BlobServiceProperties(cors=CorsRules(cors_rules=[rule]))
    )
    props = az.storage.blob_services.get_service_properties(RG, "raksacct01")
    assert props.cors.cors_rules[0].allowed_origins == ["https://console.anyscale.com"]
    az.storage.blob_containers.create(RG, "raksacct01", "data", BlobContainer(public_access="None"))
    assert [c.name for c in az.storage.blob_containers.list(RG, "raksacct01")] == ["data"]
    # The name is global: another resource group cannot take it.
    make_rg(az, "rg2")
    from azure.mgmt.storage.models import Sku, StorageAccountCreateParameters

    with pytest.raises(HttpResponseError) as info:
        az.storage.storage_accounts.begin_create(
            "rg2",
            "raksacct01",
            StorageAccountCreateParameters(sku=Sku(name="Standard_LRS"), kind="StorageV2", location=LOC),
        ).result()
    assert info.value.error.code == "StorageAccountAlreadyTaken"


def test_role_assignments(az):
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    make_rg(az)
    acct = _storage(az)
    defs = list(az.auth.role_definitions.list(acct.id, filter="roleName eq 'Storage Blob Data Contributor'"))
    assert [d.role_name for d in defs] == ["Storage Blob Data Contributor"]
    params = RoleAssignmentCreateParameters(
        role_definition_id=defs[0].id,
        principal_id="11111111-1111-1111-1111-111111111111",
        principal_type="ServicePrincipal",
    )
    ra = az.auth.role_assignments.create(acct.id, "22222222-2222-2222-2222-222222222222", params)
    assert ra.scope.lower() == acct.id.lower() and ra.principal_type == "ServicePrincipal"
    with pytest.raises(ResourceExistsError) as info:
        az.auth.role_assignments.create(acct.id, "33333333-3333-3333-3333-333333333333", params)
    assert info.value.error.code == "RoleAssignmentExists"
    listed = list(az.auth.role_assignments.list_for_scope(acct.id, filter="atScope()"))
    assert [r.name for r in listed] == ["22222222-2222-2222-2222-222222222222"]
    az.auth.role_assignments.delete(acct.id, "22222222-2222-2222-2222-222222222222")
    assert list(az.auth.role_assignments.list_for_scope(acct.id)) == []


def _network(az):
    from azure.mgmt.network import models as m

    make_rg(az)
    nsg = az.network.network_security_groups.begin_create_or_update(
        RG,
        "nsg",
        m.NetworkSecurityGroup(
            location=LOC,
            security_rules=[
                m.SecurityRule(
                    name="AllowHttpsInbound",
                    priority=100,
                    direction="Inbound",
                    access="Allow",
                    protocol="Tcp",
                    source_address_prefix="*",
                    source_port_range="*",
                    destination_address_prefix="*",
                    destination_port_range="443",
                )
            ],
        ),
    ).result()
    pip = az.network.public_ip_addresses.begin_create_or_update(
        RG,
        "pip",
        m.PublicIPAddress(
            location=LOC, sku=m.PublicIPAddressSku(name="Standard"), public_ip_allocation_method="Static"
        ),
    ).result()
    nat = az.network.nat_gateways.begin_create_or_update(
        RG,
        "nat",
        m.NatGateway(
            location=LOC,
            sku=m.NatGatewaySku(name="Standard"),
            public_ip_addresses=[m.SubResource(id=pip.id)],
            idle_timeout_in_minutes=10,
        ),
    ).result()
    vnet = az.network.virtual_networks.begin_create_or_update(
        RG,
        "vnet",
        m.VirtualNetwork(
            location=LOC,
            address_space=m.AddressSpace(address_prefixes=["10.201.0.0/16"]),
            subnets=[
                m.Subnet(
                    name="aks-nodes",
                    address_prefix="10.201.0.0/19",
                    network_security_group=m.SubResource(id=nsg.id),
                    nat_gateway=m.SubResource(id=nat.id),
                )
            ],
        ),
    ).result()
    return nsg, pip, nat, vnet


def test_network_resources_and_in_use_rules(az):
    from azure.mgmt.network import models as m

    nsg, pip, nat, _vnet = _network(az)
    assert nsg.security_rules[0].destination_port_range == "443" and nsg.provisioning_state == "Succeeded"
    assert pip.ip_address and nat.idle_timeout_in_minutes == 10
    subnet = az.network.subnets.get(RG, "vnet", "aks-nodes")
    assert subnet.nat_gateway.id.lower() == nat.id.lower()
    assert [s.name for s in az.network.virtual_networks.get(RG, "vnet").subnets] == ["aks-nodes"]
    with pytest.raises(HttpResponseError) as info:
        az.network.nat_gateways.begin_delete(RG, "nat").result()
    assert info.value.error.code == "InUseNatGatewayCannotBeDeleted"
    with pytest.raises(HttpResponseError) as info:
        az.network.subnets.begin_create_or_update(RG, "vnet", "bad", m.Subnet(address_prefix="10.99.0.0/24")).result()
    assert info.value.error.code == "NetcfgSubnetRangeOutsideVnet"
    # A subnet added through its own API shows up in the VNet's body.
    az.network.subnets.begin_create_or_update(RG, "vnet", "extra", m.Subnet(address_prefix="10.201.32.0/19")).result()
    assert sorted(s.name for s in az.network.virtual_networks.get(RG, "vnet").subnets) == ["aks-nodes", "extra"]
    az.network.virtual_networks.begin_delete(RG, "vnet").result()
    az.network.nat_gateways.begin_delete(RG, "nat").result()
    with pytest.raises(ResourceNotFoundError):
        az.network.nat_gateways.get(RG, "nat")


def _cluster(az, subnet_id: str, name: str = "aks-uksouth"):
    from azure.mgmt.containerservice import models as m

    mc = m.ManagedCluster(
        location=LOC,
        dns_prefix=name,
        kubernetes_version="1.34.1",
        sku=m.ManagedClusterSKU(name="Base", tier="Standard"),
        identity=m.ManagedClusterIdentity(type="SystemAssigned"),
        oidc_issuer_profile=m.ManagedClusterOIDCIssuerProfile(enabled=True),
        security_profile=m.ManagedClusterSecurityProfile(
            workload_identity=m.ManagedClusterSecurityProfileWorkloadIdentity(enabled=True)
        ),
        storage_profile=m.ManagedClusterStorageProfile(
            blob_csi_driver=m.ManagedClusterStorageProfileBlobCSIDriver(enabled=True)
        ),
        network_profile=m.ContainerServiceNetworkProfile(
            network_plugin="azure",
            network_plugin_mode="overlay",
            pod_cidr="10.128.0.0/12",
            outbound_type="userAssignedNATGateway",
        ),
        agent_pool_profiles=[
            m.ManagedClusterAgentPoolProfile(
                name="sys", mode="System", vm_size="Standard_D8_v5", count=3, vnet_subnet_id=subnet_id
            )
        ],
    )
    return az.aks.managed_clusters.begin_create_or_update(RG, name, mc).result()


def test_aks_cluster_pools_credentials_and_versions(az):
    from azure.mgmt.containerservice import models as m

    _, _, _, vnet = _network(az)
    subnet_id = vnet.subnets[0].id
    mc = _cluster(az, subnet_id)
    assert mc.provisioning_state == "Succeeded"
    assert mc.oidc_issuer_profile.issuer_url.startswith("https://uksouth.oic.prod-aks.azure.com/")
    assert mc.oidc_issuer_profile.issuer_url.endswith("/")
    assert mc.node_resource_group == f"MC_{RG}_aks-uksouth_{LOC}"
    assert mc.identity.principal_id and mc.identity_profile["kubeletidentity"].client_id
    assert [p.name for p in mc.agent_pool_profiles] == ["sys"]
    node_rg = az.resource.resource_groups.get(mc.node_resource_group)
    assert node_rg.managed_by.lower() == mc.id.lower()
    spot = m.AgentPool(
        vm_size="Standard_ND96asr_v4",
        count=0,
        min_count=0,
        max_count=3,
        enable_auto_scaling=True,
        scale_set_priority="Spot",
        scale_set_eviction_policy="Delete",
        node_taints=["nvidia.com/gpu=present:NoSchedule"],
        vnet_subnet_id=subnet_id,
        mode="User",
    )
    pool = az.aks.agent_pools.begin_create_or_update(RG, "aks-uksouth", "a100", spot).result()
    assert pool.node_labels["kubernetes.azure.com/scalesetpriority"] == "spot"
    assert "kubernetes.azure.com/scalesetpriority=spot:NoSchedule" in pool.node_taints
    assert sorted(p.name for p in az.aks.managed_clusters.get(RG, "aks-uksouth").agent_pool_profiles) == ["a100", "sys"]
    creds = az.aks.managed_clusters.list_cluster_user_credentials(RG, "aks-uksouth")
    assert creds.kubeconfigs[0].name == "clusterUser"
    import yaml

    kubeconfig = yaml.safe_load(creds.kubeconfigs[0].value)
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith(az.ep["arm"] + "/k8s/")
    versions = az.aks.managed_clusters.list_kubernetes_versions(LOC)
    assert any(v["isDefault"] and v["version"] == "1.34" for v in versions["values"] if "isDefault" in v)
    with pytest.raises(HttpResponseError) as info:
        az.aks.agent_pools.begin_create_or_update(
            RG,
            "aks-uksouth",
            "a100",
            m.AgentPool(
                vm_size="Standard_D16_v5",
                count=0,
                min_count=0,
                max_count=3,
                enable_auto_scaling=True,
                scale_set_priority="Spot",
            ),
        ).result()
    assert info.value.error.code == "PropertyChangeNotAllowed"
    az.aks.managed_clusters.begin_delete(RG, "aks-uksouth").result()
    with pytest.raises(ResourceNotFoundError):
        az.aks.managed_clusters.get(RG, "aks-uksouth")
    assert az.resource.resource_groups.check_existence(mc.node_resource_group) is False


def test_aks_one_operation_at_a_time_and_quota(az, sandbox, control):
    from azure.mgmt.containerservice import models as m

    _, _, _, vnet = _network(az)
    subnet_id = vnet.subnets[0].id
    _cluster(az, subnet_id)
    sandbox.world.profile = type(sandbox.world.profile)("azure", 0.001)  # pools take ~0.4 s
    cpu = m.AgentPool(
        vm_size="Standard_D16_v5",
        count=3,
        min_count=3,
        max_count=6,
        enable_auto_scaling=True,
        mode="User",
        vnet_subnet_id=subnet_id,
    )
    poller = az.aks.agent_pools.begin_create_or_update(RG, "aks-uksouth", "cpu", cpu)
    with pytest.raises(ResourceExistsError) as info:
        az.aks.agent_pools.begin_create_or_update(RG, "aks-uksouth", "cpu", cpu)
    assert info.value.error.code == "OperationNotAllowed"
    assert "Another operation (cpu - Creating) is in progress" in info.value.error.message
    poller.result()
    sandbox.world.profile = type(sandbox.world.profile)("instant", 0.0)
    control.set_capacity(LOC, quota={"lowPriorityCores": 0})
    spot = m.AgentPool(
        vm_size="Standard_ND96asr_v4",
        count=1,
        min_count=1,
        max_count=3,
        enable_auto_scaling=True,
        scale_set_priority="Spot",
        vnet_subnet_id=subnet_id,
    )
    with pytest.raises(HttpResponseError) as info:
        az.aks.agent_pools.begin_create_or_update(RG, "aks-uksouth", "a100", spot).result()
    assert info.value.error.code == "ErrCode_InsufficientVCPUQuota"
    usages = {u.name.value: u for u in az.compute.usage.list(LOC)}
    assert usages["cores"].current_value == 3 * 8 + 3 * 16 and usages["lowPriorityCores"].limit == 0
    skus = [s for s in az.compute.resource_skus.list(filter=f"location eq '{LOC}'") if s.name == "Standard_ND96asr_v4"]
    assert skus and {c.name: c.value for c in skus[0].capabilities}["GPUs"] == "8"


def test_faults_reach_the_client_as_azure_delivers_them(az, control):
    from azure.mgmt.network import models as m

    make_rg(az)
    # 429 with Retry-After and 503: azure-core retries, the call succeeds.
    control.add_fault(
        method="PUT",
        path="publicIPAddresses",
        status=429,
        code="SubscriptionRequestsThrottled",
        retry_after=0.05,
        times=1,
    )
    control.add_fault(method="GET", path="resourceGroups/rg1$", status=503, code="ServiceUnavailable", times=1)
    az.network.public_ip_addresses.begin_create_or_update(
        RG, "pip", m.PublicIPAddress(location=LOC, sku=m.PublicIPAddressSku(name="Standard"))
    ).result()
    az.resource.resource_groups.get(RG)
    # A connection reset on a read is retried too.
    control.add_fault(method="GET", path="publicIPAddresses/pip$", reset=True, times=1)
    assert az.network.public_ip_addresses.get(RG, "pip").name == "pip"
    # An LRO that ends Failed raises HttpResponseError carrying Azure's code.
    control.add_fault(
        method="PUT", path="natGateways", lro_failed=True, code="InternalServerError", message="NAT failed"
    )
    with pytest.raises(HttpResponseError) as info:
        az.network.nat_gateways.begin_create_or_update(
            RG, "nat", m.NatGateway(location=LOC, sku=m.NatGatewaySku(name="Standard"))
        ).result()
    assert info.value.error.code == "InternalServerError"
    assert az.network.nat_gateways.get(RG, "nat").provisioning_state == "Failed"
    # Auth failure: 401 is not retried.
    control.add_fault(
        path="resourcegroups",
        status=401,
        code="InvalidAuthenticationToken",
        message="The access token is invalid.",
        times=1,
    )
    with pytest.raises(HttpResponseError) as info:
        az.resource.resource_groups.get(RG)
    assert info.value.status_code == 401
    log = control.requests()
    assert [e["status"] for e in log if e["method"] == "PUT" and "publicIPAddresses" in e["path"]] == [429, 201]


def test_unknown_top_level_keys_are_flagged(az):
    make_rg(az)
    with pytest.raises(HttpResponseError) as info:
        az.network.virtual_networks.begin_create_or_update(
            RG, "v", {"location": LOC, "address_space": {"address_prefixes": ["10.0.0.0/16"]}}
        ).result()
    assert info.value.error.code == "InvalidRequestContent"
