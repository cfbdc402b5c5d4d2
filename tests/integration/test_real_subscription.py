"""What a real subscription enforces and a lenient emulator would let pass (issue 13): the cluster
identity's right to join its node subnet, node pool creates racing on one VNet, tag-filtered
lists without tags, AKS's spot label on pool updates, and the storage roles of older clusters.
Run against the strict ARM emulator, read back with the real SDKs and the kubernetes client."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
import yaml

from raks.config import RaksConfig

REGIONS = ["uksouth", "swedencentral"]
RG = "aks-anyscale-rg"
IDENTITY = "aks-anyscale-operator-mi"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
KEY_OPERATOR = "81a9662b-bebf-436f-a333-f67b29880f12"
SPOT_LABEL = ("kubernetes.azure.com/scalesetpriority", "spot")
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"


def up(served, capsys, *argv: str, config: str | None = None) -> None:
    code, _out, err = served.raks(capsys, *(("--config", config) if config else ()), "up", *argv, "--yes")
    assert code == 0, err


def write_config(path: Path, **fields) -> str:
    path.write_text(yaml.safe_dump(fields))
    return str(path)


def kube(az, region: str):
    from kubernetes import client, config

    raw = az.aks.managed_clusters.list_cluster_user_credentials(RG, f"aks-{region}").kubeconfigs[0].value
    return client.CoreV1Api(config.new_client_from_config_dict(yaml.safe_load(raw)))


def subnet_grants(az, region: str) -> list:
    subnet = az.network.subnets.get(RG, f"aks-{region}-vnet", "aks-nodes")
    return [
        a
        for a in az.auth.role_assignments.list_for_scope(subnet.id, filter="atScope()")
        if a.scope.lower() == subnet.id.lower()
    ]


def wait_for_address(core, name: str, namespace: str = "default", timeout: float = 10.0) -> list:
    """The Service's load balancer ingress, once cloud-provider has one (an event, not a sleep:
    the kubernetes watch returns when the Service changes)."""
    from kubernetes import watch

    svc = core.read_namespaced_service(name, namespace)
    if svc.status.load_balancer and svc.status.load_balancer.ingress:
        return svc.status.load_balancer.ingress
    w = watch.Watch()
    for event in w.stream(
        core.list_namespaced_service, namespace, field_selector=f"metadata.name={name}", timeout_seconds=int(timeout)
    ):
        lb = event["object"].status.load_balancer
        if lb and lb.ingress:
            w.stop()
            return lb.ingress
    return []


# -- item 1: Network Contributor on the node subnet --------------------------------------------
def test_the_cluster_identity_may_join_its_subnet_so_load_balancers_get_an_address(served, capsys):
    up(served, capsys, "--regions", *REGIONS)
    az = served.clients()
    for region in REGIONS:
        mc = az.aks.managed_clusters.get(RG, f"aks-{region}")
        grants = subnet_grants(az, region)
        assert [(a.principal_id, a.role_definition_id.split("/")[-1], a.principal_type) for a in grants] == [
            (mc.identity.principal_id, NETWORK_CONTRIBUTOR, "ServicePrincipal")
        ]
        # What ingress-nginx's controller Service needs: cloud-provider-azure can put the
        # cluster's load balancer in front of the nodes' subnet.
        from kubernetes import client

        core = kube(az, region)
        core.create_namespaced_service(
            "default",
            client.V1Service(
                metadata=client.V1ObjectMeta(name="probe"),
                spec=client.V1ServiceSpec(type="LoadBalancer", ports=[client.V1ServicePort(port=443)]),
            ),
        )
        assert wait_for_address(core, "probe"), f"{region}: the LoadBalancer Service got no address"

    # A converged re-run and plan see the grant; `plan --destroy` lists it; `down` removes it.
    code, out, _ = served.raks(capsys, "plan", "--regions", *REGIONS, "--detailed-exitcode")
    assert code == 0, out
    code, out, _ = served.raks(capsys, "plan", "--destroy", "--regions", *REGIONS)
    lines = [line.strip() for line in out.splitlines()]
    assert lines.count("- delete    cluster identity → Network Contributor on node subnet") == 2, out
    code, _out, err = served.raks(capsys, "down", "--regions", *REGIONS, "--yes")
    assert code == 0, err
    left = [
        a
        for a in az.auth.role_assignments.list_for_scope(f"/subscriptions/{served.endpoints['subscription_id']}")
        if a.role_definition_id.lower().endswith(NETWORK_CONTRIBUTOR)
    ]
    assert left == []


def test_no_addon_release_is_written_before_its_region_s_subnet_grant(served, capsys):
    up(served, capsys, "--regions", "uksouth")
    log = served.control.requests()
    grant = [
        e for e in log if e["method"] == "PUT" and "/subnets/aks-nodes/providers/Microsoft.Authorization/" in e["path"]
    ]
    assert len(grant) == 1
    ingress = [
        e
        for e in log
        if e["api"] == "kube" and e["method"] in ("POST", "PUT", "PATCH") and "/namespaces/ingress-nginx/" in e["path"]
    ]
    assert ingress, "ingress-nginx was not installed"
    assert min(e["start"] for e in ingress) >= grant[0]["end"]


# -- item 2: node pool creates on one VNet ------------------------------------------------------
def pool_puts(log: list[dict], region: str) -> list[dict]:
    return [
        e
        for e in log
        if e["api"] == "arm" and e["method"] == "PUT" and f"/managedClusters/aks-{region}/agentPools/" in e["path"]
    ]


def finished_at(log: list[dict], put: dict) -> float:
    """When the pool's create was over: the poller's final GET of the pool after its PUT."""
    gets = [e["end"] for e in log if e["method"] == "GET" and e["path"] == put["path"] and e["start"] >= put["end"]]
    return min(gets) if gets else float("inf")


@pytest.fixture
def slow_pools(tmp_path):
    """A sandbox whose operations take time (Azure's durations × 0.002: a pool create ~0.8 s), so
    two creates running at once would overlap in the request log."""
    from helpers.served import Served
    from raks.sandbox.client import SandboxControl
    from raks.sandbox.runner import Sandbox

    s = Served.__new__(Served)
    s.dir = tmp_path / "sandbox"
    s.sandbox = Sandbox(s.dir, "azure:0.002")
    s.endpoints = s.sandbox.start()
    s.sandbox.write_endpoints()
    s.control = SandboxControl(s.endpoints)
    try:
        yield s
    finally:
        s.stop()


def test_pool_creates_on_one_vnet_run_one_at_a_time_and_regions_stay_parallel(slow_pools, capsys):
    up(slow_pools, capsys, "--regions", *REGIONS)
    log = slow_pools.control.requests()
    spans = {}
    for region in REGIONS:
        puts = sorted(pool_puts(log, region), key=lambda e: e["start"])
        assert [p["path"].rsplit("/", 1)[-1] for p in puts].count("cpu") == 1  # no retry was needed
        assert len(puts) == 2  # cpu and a100 (sys comes with the cluster)
        for first, second in itertools.pairwise(puts):
            assert second["start"] >= finished_at(log, first), f"{region}: two pool creates overlapped"
        spans[region] = (puts[0]["start"], finished_at(log, puts[-1]))
    (a0, a1), (b0, b1) = spans.values()
    assert a0 < b1 and b0 < a1, "the two regions' pool creates did not run at the same time"


def test_a_vnet_ownership_race_is_retried_and_converges(served, capsys):
    served.control.add_fault(
        method="PUT", path="managedClusters/aks-uksouth/agentPools/cpu", lro_failed=True,
        code="SetVNetOwnershipFailed", times=1,
        message="Set virtual network ownership failed. Virtual network aks-uksouth-vnet is in Updating state.",
    )  # fmt: skip
    up(served, capsys, "--regions", "uksouth")
    az = served.clients()
    assert az.aks.agent_pools.get(RG, "aks-uksouth", "cpu").provisioning_state == "Succeeded"
    assert [p["path"].rsplit("/", 1)[-1] for p in pool_puts(served.control.requests(), "uksouth")].count("cpu") == 2
    code, out, _ = served.raks(capsys, "plan", "--regions", "uksouth", "--detailed-exitcode")
    assert code == 0, out


# -- item 4: tag-filtered lists carry no tags ---------------------------------------------------
def test_down_finds_every_region_though_filtered_lists_carry_no_tags(served, capsys, tmp_path):
    up(served, capsys, "--regions", *REGIONS)
    az = served.clients()
    listed = list(az.resource.resources.list(filter="tagName eq 'managed-by' and tagValue eq 'raks'"))
    assert listed and all(not r.tags for r in listed)  # as ARM documents it

    only_uk = write_config(tmp_path / "raks.yaml", regions=["uksouth"])
    code, out, _ = served.raks(capsys, "--config", only_uk, "plan", "--destroy", "--regions", "uksouth")
    assert code == 0, out
    lines = [line.strip() for line in out.splitlines()]
    assert any(line.startswith("= kept") and f"identity {IDENTITY}" in line for line in lines), out
    assert any(line.startswith("= kept") and "storage account" in line for line in lines), out
    assert not any(line.startswith("- delete") and f"identity {IDENTITY}" in line for line in lines), out

    code, _out, err = served.raks(capsys, "--config", only_uk, "down", "--yes")
    assert code == 0, err
    assert list(az.aks.managed_clusters.list_by_resource_group(RG)) == []
    assert list(az.network.virtual_networks.list(RG)) == []


# -- item 9: AKS's spot label on pool updates ---------------------------------------------------
def test_changing_a_spot_pool_s_labels_keeps_aks_s_spot_label_and_taint(served, capsys, tmp_path):
    up(served, capsys, "--regions", "uksouth")
    pools = [p.model_dump() for p in RaksConfig().pools]
    spot = next(p for p in pools if p["spot"])
    spot["labels"] = {**spot["labels"], "team": "ml"}
    cfg = write_config(tmp_path / "raks.yaml", regions=["uksouth"], pools=pools)
    since = time.time()
    up(served, capsys, config=cfg)
    assert [w["path"].rsplit("/", 1)[-1] for w in served.writes(since)] == [spot["name"]]
    pool = served.clients().aks.agent_pools.get(RG, "aks-uksouth", spot["name"])
    assert pool.node_labels[SPOT_LABEL[0]] == SPOT_LABEL[1]
    assert pool.node_labels["team"] == "ml"
    assert SPOT_TAINT in pool.node_taints
    code, out, _ = served.raks(capsys, "--config", cfg, "plan", "--detailed-exitcode")
    assert code == 0, out  # AKS's own label and taint are not drift


# -- item 8: storage roles by the cluster's blob CSI driver -------------------------------------
@pytest.mark.parametrize(("version", "key_operator"), [("1.34.1", False), ("1.33.5", True)])
def test_the_key_operator_role_is_granted_only_where_the_driver_cannot_mount_token_only(
    served, capsys, tmp_path, version, key_operator
):
    cfg = write_config(tmp_path / "raks.yaml", regions=["uksouth"], kubernetes={"version": version})
    up(served, capsys, config=cfg)
    az = served.clients()
    identity = az.msi.user_assigned_identities.get(RG, IDENTITY)
    account = next(iter(az.storage.storage_accounts.list_by_resource_group(RG)))
    roles = {
        a.role_definition_id.split("/")[-1]
        for a in az.auth.role_assignments.list_for_scope(account.id, filter="atScope()")
        if a.principal_id == identity.principal_id
    }
    assert (KEY_OPERATOR in roles) is key_operator
    assert "ba92f5b4-2d11-453d-a403-e96b0029c9fe" in roles  # Storage Blob Data Contributor either way
