"""Preflight rules over plain data: quota arithmetic, versions, tools, permissions, fallback pools."""

from __future__ import annotations

from raks.adapters.azure.compute import Sku, Usage, _parse
from raks.adapters.azure.providers import Permission
from raks.adapters.tools import Tool
from raks.config import Pool, RaksConfig
from raks.engine.preflight.account import REQUIRED_ACTIONS, allowed
from raks.engine.preflight.region import kubernetes_row, quota_rows, size_row
from raks.engine.preflight.tools import anyscale_rows, helm_row
from raks.steps.pools import expand, priority_expander

A100 = Sku("Standard_ND96asr_v4", "uksouth", "standardNDASv4_A100Family", 96, 8, 900, ("1", "2", "3"), False, ())
D16 = Sku("Standard_D16_v5", "uksouth", "standardDv5Family", 16, 0, 64, ("1", "2", "3"), False, ())


def spot_pool(min_count: int = 0, max_count: int = 3) -> Pool:
    return Pool(name="a100", vm_size=A100.name, min_count=min_count, max_count=max_count, spot=True)


def test_spot_quota_counts_only_low_priority_cores_and_says_how_many_nodes_fit():
    quotas = {"lowprioritycores": Usage("lowPriorityCores", 0, 200)}
    (row,) = quota_rows("uksouth", [(spot_pool(), A100)], quotas, {})
    assert row.check == "quota lowPriorityCores"
    assert row.status == "warn"  # 2 of 3 fit: the autoscaler stops short of max
    assert "need 288 vCPUs at max (a100 3×96); 200 of 200 free (0 in use) → a100: 2 of 3 nodes fit" in row.figure
    assert "at least 288 in uksouth" in row.fix


def test_quota_fails_when_min_count_or_a_single_node_does_not_fit():
    quotas = {"lowprioritycores": Usage("lowPriorityCores", 0, 95)}
    assert quota_rows("uksouth", [(spot_pool(), A100)], quotas, {})[0].status == "fail"
    cpu = Pool(name="cpu", vm_size=D16.name, min_count=3, max_count=6)
    quotas = {"cores": Usage("cores", 0, 40), "standarddv5family": Usage("standardDv5Family", 0, 500)}
    by_check = {r.check: r.status for r in quota_rows("uksouth", [(cpu, D16)], quotas, {})}
    assert by_check == {"quota cores": "fail", "quota standardDv5Family": "ok"}


def test_nodes_raks_already_runs_are_not_counted_twice():
    # 3 spot nodes run now (288 vCPUs in use): a re-run needs no more quota.
    quotas = {"lowprioritycores": Usage("lowPriorityCores", 288, 288)}
    (row,) = quota_rows("uksouth", [(spot_pool(), A100)], quotas, {"a100": (A100.name, 3, True)})
    assert row.status == "ok" and "a100: 3 of 3 nodes fit" in row.figure


def test_quota_names_match_ignoring_case_and_spaces():
    t4 = Sku("Standard_NC16as_T4_v3", "westus", "Standard NCASv3_T4 Family", 16, 1, 110, (), False, ())
    pool = Pool(name="t4", vm_size=t4.name, min_count=0, max_count=2)
    quotas = {"cores": Usage("cores", 0, 100), "standardncasv3_t4family": Usage("standardNCASv3_T4Family", 0, 16)}
    by_check = {r.check: r.status for r in quota_rows("westus", [(pool, t4)], quotas, {})}
    assert by_check == {"quota cores": "ok", "quota standardNCASv3_T4Family": "warn"}


def test_zone_restrictions_are_parsed_from_the_sku_shape():
    raw = {
        "resourceType": "virtualMachines", "name": "Standard_NC24ads_A100_v4", "family": "StandardNCADSA100v4Family",
        "locations": ["eastus"],
        "locationInfo": [{"location": "eastus", "zones": ["1", "2", "3"]}],
        "capabilities": [{"name": "vCPUs", "value": "24"}, {"name": "GPUs", "value": "1"},
                         {"name": "MemoryGB", "value": "220"}],
        "restrictions": [{"type": "Zone", "values": ["eastus"], "reasonCode": "NotAvailableForSubscription",
                          "restrictionInfo": {"locations": ["eastus"], "zones": ["2"]}}],
    }  # fmt: skip
    (sku,) = _parse(raw)
    assert (sku.region, sku.vcpus, sku.gpus, sku.restricted, sku.usable_zones) == ("eastus", 24, 1, False, ("1", "3"))
    pool = Pool(name="gpu", vm_size=sku.name, min_count=0, max_count=1)
    row = size_row("eastus", pool, sku)
    assert row.status == "warn" and "restricted in zones 2, usable in 1,3" in row.figure


def test_kubernetes_version_support_plans():
    offered = [
        {"version": "1.32", "capabilities": {"supportPlan": ["AKSLongTermSupport"]}, "patchVersions": {"1.32.7": {}}},
        {"version": "1.35", "isPreview": True, "capabilities": {"supportPlan": ["KubernetesOfficial"]},
         "patchVersions": {"1.35.0": {}}},
    ]  # fmt: skip
    assert kubernetes_row("x", "1.35", "Standard", offered).status == "warn"
    lts = kubernetes_row("x", "1.32.7", "Standard", offered)
    assert lts.status == "fail" and "Premium" in lts.fix
    assert kubernetes_row("x", "1.32.7", "Premium", offered).status == "ok"
    missing = kubernetes_row("x", "1.30", "Standard", offered)
    assert missing.figure == "AKS does not offer 1.30 in x (offered: 1.32, 1.35 (preview))"


def test_tools_fail_on_azure_and_warn_against_the_sandbox():
    absent = Tool("helm", None)
    assert helm_row(absent, strict=True).status == "fail"
    assert helm_row(absent, strict=False).status == "warn"
    assert helm_row(Tool("helm", "/x/helm", "v4.0.1", 4), strict=True).status == "ok"
    cli, token = anyscale_rows(Tool("anyscale", "/x/anyscale", "0.26.108"), {}, strict=True)
    assert (cli.status, cli.figure, token.status) == ("ok", "0.26.108 (/x/anyscale)", "fail")
    # Too old is a failure on any target: the sandbox runs the same CLI.
    old, _ = anyscale_rows(Tool("anyscale", "/x/anyscale", "0.26.107"), {}, strict=False)
    assert (old.status, old.fix) == ("fail", "pip install 'anyscale>=0.26.108' (into the environment raks runs from)")
    unread, _ = anyscale_rows(Tool("anyscale", "/x/anyscale", error="exit status 1"), {}, strict=True)
    assert unread.status == "fail" and "could not read its version" in unread.figure
    assert anyscale_rows(Tool("anyscale", None), {"ANYSCALE_CLI_TOKEN": "t"}, strict=False)[1].status == "ok"


def test_contributor_alone_cannot_assign_roles():
    contributor = Permission(("*",), ("Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write"))
    missing = [a for a in REQUIRED_ACTIONS if not allowed(a, [contributor])]
    assert missing == ["Microsoft.Authorization/roleAssignments/write"]
    uaa = Permission(("*/read", "Microsoft.Authorization/*"), ())
    assert all(allowed(a, [contributor, uaa]) for a in REQUIRED_ACTIONS)


def test_spot_fallback_pool_and_autoscaler_priorities():
    pools = [p.model_copy(update={"fallback": "on-demand"}) if p.spot else p for p in RaksConfig().pools]
    expanded = expand(pools)
    assert [p.name for p in expanded] == ["sys", "cpu", "a100", "a100od"]
    od = expanded[-1]
    assert (od.spot, od.min_count, od.max_count, od.autoscale) == (False, 0, 3, True)
    assert od.labels["node.anyscale.com/capacity-type"] == "ON_DEMAND"
    assert "node.anyscale.com/capacity-type=ON_DEMAND:NoSchedule" in od.taints
    assert priority_expander(pools) == {"priorities": "20:\n  - .*-a100-.*\n10:\n  - .*-a100od-.*\n1:\n  - .*\n"}
