"""The subnet grant in the step graph, the storage roles by Kubernetes version, spot pool update
bodies and the per-VNet create lock (plain values; the behaviour is in
tests/integration/test_real_subscription.py)."""

from __future__ import annotations

import dataclasses

import pytest

from raks.config import RaksConfig
from raks.steps import graph, pools
from raks.steps.aks import AKS_SPOT_LABEL, AKS_SPOT_TAINT, PoolStep, vnet_of
from raks.steps.base import Context
from raks.steps.helm_addons import HelmReleaseStep
from raks.steps.roles import RoleAssignmentStep, key_operator_needed

REGIONS = ["uksouth", "swedencentral"]


def test_every_addon_waits_for_the_subnet_grant_which_waits_for_cluster_and_vnet():
    steps = {s.key: s for s in graph.build(RaksConfig(regions=REGIONS), "sub")}
    for region in REGIONS:
        grant = steps[f"{region}/role-cluster-network"]
        assert isinstance(grant, RoleAssignmentStep)
        assert set(grant.needs) == {f"{region}/vnet", f"{region}/cluster"}
        assert (grant.role, grant.scope_step, grant.scope_output) == (
            "Network Contributor",
            f"{region}/vnet",
            "subnet_id",
        )
        releases = [s for s in steps.values() if isinstance(s, HelmReleaseStep) and s.region == region]
        assert releases and all(grant.key in s.needs for s in releases)
        # Nothing else waits for it: pools and kube objects need not (they create no load balancer).
        assert {k for k, s in steps.items() if grant.key in s.needs} == {s.key for s in releases}


def test_the_grant_s_scope_is_the_node_subnet_and_its_principal_the_cluster_identity():
    step = next(
        s for s in graph.build(RaksConfig(regions=["uksouth"]), "sub") if s.key == "uksouth/role-cluster-network"
    )
    subnet = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/aks-nodes"
    ctx = Context(cfg=RaksConfig(), subscription_id="sub", plan=True)
    ctx.outputs = {"uksouth/vnet": {"subnet_id": subnet}, "uksouth/cluster": {"principal_id": "p-1"}}
    scope, name = step.path(ctx)
    assert scope == subnet
    body = step.desired(ctx)["properties"]
    assert body == {
        "roleDefinitionId": "/subscriptions/sub/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7",
        "principalId": "p-1",
        "principalType": "ServicePrincipal",
    }
    ctx.outputs["uksouth/cluster"] = {"principal_id": "p-2"}
    assert step.path(ctx)[1] != name  # a new cluster identity gets its own assignment


@pytest.mark.parametrize(
    ("version", "needed"), [("1.33.5", True), ("1.33", True), ("1.32.9", True), ("1.34.1", False), ("1.35.0", False)]
)
def test_the_key_operator_role_only_where_aks_s_blob_driver_cannot_mount_token_only(version, needed):
    assert key_operator_needed(version) is needed
    cfg = RaksConfig.model_validate({"kubernetes": {"version": version}})
    keys = {s.key for s in graph.build(cfg, "sub")}
    assert ("global/role-key-operator" in keys) is needed


def spot_step() -> PoolStep:
    spot = next(p for p in RaksConfig().pools if p.spot)
    return PoolStep("rg", "uksouth", spot)


def test_a_spot_pool_update_sends_aks_s_spot_label_and_taint_a_create_does_not_need_to():
    step = spot_step()
    ctx = Context(cfg=RaksConfig(), subscription_id="sub")
    ctx.outputs = {"uksouth/vnet": {"subnet_id": "/x/virtualNetworks/v/subnets/s"}}
    desired = step.desired(ctx)
    created = step.write_body(ctx, desired, None)
    assert AKS_SPOT_LABEL not in created["properties"]["nodeLabels"]  # AKS adds them on create
    observed = {"properties": {**desired["properties"], "count": 2}}
    updated = step.write_body(ctx, desired, observed)["properties"]
    assert updated["nodeLabels"] == {**step.pool.labels, AKS_SPOT_LABEL: "spot"}
    assert updated["nodeTaints"] == [*step.pool.taints, AKS_SPOT_TAINT]
    assert updated["count"] == 2  # the autoscaler's count is kept too
    assert desired["properties"]["nodeLabels"] == dict(step.pool.labels)  # the desired state is untouched
    regular = PoolStep("rg", "uksouth", next(p for p in RaksConfig().pools if not p.spot))
    body = regular.write_body(ctx, regular.desired(ctx), {"properties": regular.desired(ctx)["properties"]})
    assert AKS_SPOT_LABEL not in body["properties"]["nodeLabels"]


def test_a_fallback_pool_is_regular_and_gets_no_spot_label():
    fallback = pools.fallback_pool(next(p for p in RaksConfig().pools if p.spot))
    step = PoolStep("rg", "uksouth", fallback)
    ctx = Context(cfg=RaksConfig(), subscription_id="sub")
    ctx.outputs = {"uksouth/vnet": {"subnet_id": "/x/virtualNetworks/v/subnets/s"}}
    body = step.write_body(ctx, step.desired(ctx), {"properties": {"count": 0}})
    assert AKS_SPOT_LABEL not in body["properties"]["nodeLabels"]


def test_one_create_lock_per_vnet_for_the_whole_command():
    ctx = Context(cfg=RaksConfig(), subscription_id="sub")
    a = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/aks-uksouth-vnet"
    assert vnet_of(a + "/subnets/aks-nodes") == a
    assert ctx.named_lock(f"vnet-join:{a}") is ctx.named_lock(f"vnet-join:{a.upper()}")  # ARM ids ignore case
    assert ctx.named_lock(f"vnet-join:{a}") is dataclasses.replace(ctx, plan=True).named_lock(f"vnet-join:{a}")
    assert ctx.named_lock(f"vnet-join:{a}") is not ctx.named_lock(f"vnet-join:{a}-2")
