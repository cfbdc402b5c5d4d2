"""Preflight, region advice, spot fallback and capacity errors, through the sandbox and the real SDKs."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import yaml

from raks.config import RaksConfig

RG = "aks-anyscale-rg"
REGIONS = ["uksouth", "swedencentral"]
A100_SPOT = "Standard_ND96asr_v4"  # the reference GPU pool: 3 spot nodes of 96 vCPUs


def clusters(served) -> list[str]:
    return sorted(c.name for c in served.clients().aks.managed_clusters.list())


def rows(out: str) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["region"], r["check"]): r for r in json.loads(out)["checks"]}


def fake_tool(bin_dir: Path, name: str, prints: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\necho '{prints}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_zero_spot_quota_refuses_before_any_write(served, capsys):
    served.control.set_capacity("swedencentral", quota={"lowPriorityCores": 0})
    code, _out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes")
    assert code == 2, err
    assert served.writes() == []
    line = next(x for x in err.splitlines() if x.startswith("error: preflight: swedencentral/"))
    assert "quota lowPriorityCores" in line and "need 288 vCPUs" in line and "0 of 0 free" in line
    assert "a100: 0 of 3 nodes fit" in line
    assert "request a Spot vCPU quota (lowPriorityCores) of at least 288 in swedencentral" in line
    assert "--skip-unavailable" in err


def test_skip_unavailable_deploys_the_other_regions_only(served, capsys):
    served.control.set_capacity("swedencentral", quota={"lowPriorityCores": 0})
    code, _out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes", "--skip-unavailable")
    assert code == 0, err
    assert "leaving out swedencentral (failed preflight); going on with uksouth" in err
    assert clusters(served) == ["aks-uksouth"]
    assert served.clients().aks.agent_pools.get(RG, "aks-uksouth", "a100").scale_set_priority == "Spot"


def test_skip_unavailable_never_drops_the_primary_region(served, capsys):
    served.control.set_capacity("uksouth", quota={"lowPriorityCores": 0})
    code, _out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes", "--skip-unavailable")
    assert code == 2
    assert "the primary region uksouth" in err and "never drops it" in err
    assert served.writes() == []


def test_each_problem_is_one_clear_row_before_any_write(served, capsys, monkeypatch, tmp_path):
    served.control.set_capacity("uksouth", restricted=[A100_SPOT])
    served.control.set_capacity("swedencentral", k8s_versions=["1.33.3", "1.33.5", "1.34.0"])
    served.control.set_provider("Microsoft.Network", False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no helm, no anyscale
    code, out, _err = served.raks(capsys, "-o", "json", "preflight", "--regions", *REGIONS)
    assert code == 2
    found = rows(out)
    restricted = found[("uksouth", "vm size a100")]
    assert restricted["status"] == "fail"
    assert (
        "Standard_ND96asr_v4 is restricted for this subscription in uksouth (NotAvailableForSubscription)"
        in (restricted["figure"])
    )
    version = found[("swedencentral", "kubernetes 1.34.1")]
    assert version["status"] == "fail"
    assert version["figure"] == "AKS does not offer 1.34.1 in swedencentral (1.34 patches: 1.34.0)"
    provider = found[("global", "provider Microsoft.Network")]
    assert (provider["status"], provider["fix"]) == ("fail", "az provider register --namespace Microsoft.Network")
    helm = found[("tools", "helm")]
    # The default driver is Helm's engine in-process: no helm binary is needed.
    assert helm["status"] == "ok" and helm["figure"].startswith("Helm v4.") and "engine" in helm["figure"]
    failing = [k for k, r in found.items() if r["status"] == "fail"]
    assert sorted(failing) == sorted(
        [("uksouth", "vm size a100"), ("swedencentral", "kubernetes 1.34.1"), ("global", "provider Microsoft.Network")]
    )
    # The same rows stop `up` before its first write.
    code, _out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes")
    assert code == 2
    assert [x for x in err.splitlines() if x.startswith("error: preflight:")] == [
        f"error: preflight: {found[k]['region']}/{found[k]['check']}: {found[k]['figure']} (fix: {found[k]['fix']})"
        for k in found
        if k in failing
    ]
    assert served.writes() == []


def test_helm_version_is_read_from_the_binary(served, capsys, monkeypatch, tmp_path):
    bin_dir = tmp_path / "bin"
    fake_tool(bin_dir, "helm", "v3.15.2+g1a500d5")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("RAKS_HELM_DRIVER", "binary")  # the helm CLI instead of the engine
    code, out, _ = served.raks(capsys, "-o", "json", "preflight", "--regions", "uksouth")
    assert code == 0
    helm = rows(out)[("tools", "helm")]
    assert (helm["status"], helm["figure"]) == ("ok", f"v3.15.2+g1a500d5 ({bin_dir / 'helm'})")
    fake_tool(bin_dir, "helm", "v2.17.0+ga690bad")
    code, out, _ = served.raks(capsys, "-o", "json", "preflight", "--regions", "uksouth")
    helm = rows(out)[("tools", "helm")]
    assert helm["status"] == "warn" and "raks needs Helm 3 or 4" in helm["figure"]
    code, out, _ = served.raks(capsys, "-o", "json", "preflight", "--regions", "uksouth", "--skip-tools")
    assert not [k for k in rows(out) if k[0] == "tools"]


def test_storage_name_taken_and_too_many_federated_credentials(served, capsys):
    from azure.mgmt.msi.models import FederatedIdentityCredential, Identity

    from raks.names import storage_account_name

    account = storage_account_name(RaksConfig(), served.endpoints["subscription_id"])
    served.control.take_storage_name(account)
    az = served.clients()
    az.resource.resource_groups.create_or_update(RG, {"location": "uksouth"})
    az.msi.user_assigned_identities.create_or_update(RG, "aks-anyscale-operator-mi", Identity(location="uksouth"))
    for i in range(19):
        az.msi.federated_identity_credentials.create_or_update(
            RG, "aks-anyscale-operator-mi", f"other-{i}",
            FederatedIdentityCredential(issuer=f"https://issuer/{i}", subject="system:serviceaccount:a:b",
                                        audiences=["api://AzureADTokenExchange"]),
        )  # fmt: skip
        time.sleep(0.01)
    code, out, _ = served.raks(capsys, "-o", "json", "preflight", "--regions", *REGIONS)
    assert code == 2
    found = rows(out)
    storage = found[("global", f"storage account {account}")]
    assert storage["status"] == "fail" and f"name {account} is taken" in storage["figure"]
    fic = found[("global", "federated credentials")]
    assert fic["status"] == "fail"
    assert fic["figure"] == "identity aks-anyscale-operator-mi: 19 existing (0 reused) + 2 new = 21 of 20"


def test_regions_without_prices_ranks_by_quota(served, capsys):
    """Prices unavailable: the quota headroom orders the regions, as before raks knew prices; the
    regions that cannot hold the nodes are still listed, marked, after the others."""
    served.control.prices(fail="unreachable")
    served.control.set_capacity("westeurope", quota={"lowPriorityCores": 4800})
    served.control.set_capacity("eastus", quota={"lowPriorityCores": 2400})
    served.control.set_capacity("swedencentral", quota={"lowPriorityCores": 24})  # one node: too few
    served.control.set_capacity("northeurope", restricted=["Standard_NC24ads_A100_v4"])
    served.control.set_capacity("uksouth", unavailable=["Standard_NC24ads_A100_v4"])
    args = ("regions", "--gpu", "Standard_NC24ads_A100_v4", "--spot", "--count", "2")
    code, out, _ = served.raks(capsys, "-o", "json", *args)
    assert code == 0
    ranked = json.loads(out)["regions"]
    assert [(r["region"], r["nodes"], r["quota"]) for r in ranked[:3]] == [
        ("westeurope", 200, "lowPriorityCores"),
        ("eastus", 100, "lowPriorityCores"),
        ("australiacentral", 20, "lowPriorityCores"),  # the default 500 vCPUs, ties by name
    ]
    assert [(r["region"], r["fits"], r["restricted"]) for r in ranked[-2:]] == [
        ("swedencentral", False, False),
        ("northeurope", False, True),
    ]
    assert "uksouth" not in {r["region"] for r in ranked}  # not offered there
    code, out, _ = served.raks(capsys, *args)
    row = out.splitlines()[2].split()
    assert row[:8] + row[9:] == ["westeurope", "yes", "200", "lowPriorityCores", "4800/4800", "-", "-", "-", "1,2,3"]


def test_auto_regions_without_prices_deploys_the_top_two_by_headroom(served, capsys):
    served.control.prices(fail="http500")
    served.control.spot(fail="http500")
    served.control.set_capacity("westeurope", quota={"lowPriorityCores": 4800})
    served.control.set_capacity("eastus", quota={"lowPriorityCores": 2400})
    code, _out, err = served.raks(capsys, "up", "--regions", "auto:2", "--yes")
    assert code == 0, err
    assert "--regions auto:2 chose westeurope, eastus (most GPU quota headroom; prices unavailable: " in err
    assert f"westeurope: a100: 50 spot {A100_SPOT} fit (4800 lowPriorityCores vCPUs free)" in err
    assert clusters(served) == ["aks-eastus", "aks-westeurope"]


def test_a_pool_without_capacity_names_other_regions_and_sizes(served, capsys):
    served.control.set_capacity("uksouth", unavailable=[A100_SPOT])
    served.control.set_capacity("westeurope", quota={"lowPriorityCores": 4800})
    code, _out, err = served.raks(capsys, "up", "--regions", "uksouth", "--yes", "--skip-preflight")
    assert code == 4
    line = next(x for x in err.splitlines() if x.startswith("error: uksouth/pool-a100:"))
    assert f"SkuNotAvailable: spot pool a100 (3 × {A100_SPOT}) cannot get capacity in uksouth" in line
    assert f"regions with spot quota for 3 × {A100_SPOT}: westeurope (50 fit), " in line
    assert "other sizes in uksouth: Standard_ND96amsr_A100_v4 (8 GPUs, 5 spot fit), " in line


def test_spot_fallback_pairs_an_on_demand_pool(served, capsys, tmp_path):
    pools = [p.model_dump() for p in RaksConfig().pools]
    pools[2]["fallback"] = "on-demand"
    config = tmp_path / "raks.yaml"
    config.write_text(yaml.safe_dump({"regions": ["uksouth"], "pools": pools}))
    code, _out, err = served.raks(capsys, "--config", str(config), "up", "--yes")
    assert code == 0, err
    az = served.clients()
    od = az.aks.agent_pools.get(RG, "aks-uksouth", "a100od")
    assert (od.vm_size, od.scale_set_priority, od.enable_auto_scaling, od.min_count, od.max_count, od.count) == (
        A100_SPOT, "Regular", True, 0, 3, 0,
    )  # fmt: skip
    assert od.node_labels["node.anyscale.com/capacity-type"] == "ON_DEMAND"
    assert od.node_labels["nvidia.com/gpu.product"] == "NVIDIA-A100"
    assert sorted(od.node_taints) == sorted(
        [
            "node.anyscale.com/capacity-type=ON_DEMAND:NoSchedule",
            "nvidia.com/gpu=present:NoSchedule",
            "node.anyscale.com/accelerator-type=GPU:NoSchedule",
        ]
    )
    assert az.aks.managed_clusters.get(RG, "aks-uksouth").auto_scaler_profile.expander == "priority"
    code, _out, _ = served.raks(capsys, "--config", str(config), "plan", "--detailed-exitcode")
    assert code == 0


def test_preflight_passes_and_writes_nothing_on_a_fresh_subscription(served, capsys):
    code, out, err = served.raks(capsys, "preflight", "--regions", *REGIONS)
    assert code == 0, err
    assert "uksouth        quota lowPriorityCores" in out
    assert served.writes() == []
    assert os.environ.get("ANYSCALE_CLI_TOKEN") or "anyscale token" in out


def test_the_anyscale_cli_beside_raks_wins_over_an_older_one_on_path(served, capsys, monkeypatch, tmp_path):
    """A user's global anyscale 0.26.50 (no `cloud get --output-format`) earlier on PATH is not
    the one raks runs: the CLI installed with raks is, and preflight shows its version."""
    import sys
    from importlib.metadata import version

    bin_dir = tmp_path / "bin"
    fake_tool(bin_dir, "anyscale", "0.26.50")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    code, out, err = served.raks(capsys, "-o", "json", "preflight", "--regions", "uksouth")
    assert code == 0, err
    cli = rows(out)[("tools", "anyscale cli")]
    beside = Path(sys.executable).parent / "anyscale"
    assert (cli["status"], cli["figure"]) == ("ok", f"{version('anyscale')} ({beside})")


def test_a_too_old_anyscale_cli_fails_preflight_with_the_upgrade(served, capsys, monkeypatch, tmp_path):
    """Without a CLI beside raks, the one on PATH is asked its version; 0.26.50 lacks what raks runs."""
    import sys

    bin_dir = tmp_path / "bin"
    fake_tool(bin_dir, "anyscale", "0.26.50")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "elsewhere" / "python"))  # nothing beside it
    code, out, _err = served.raks(capsys, "-o", "json", "preflight", "--regions", "uksouth")
    assert code == 2
    cli = rows(out)[("tools", "anyscale cli")]
    assert cli["status"] == "fail"
    assert cli["figure"] == (
        f"{bin_dir / 'anyscale'} is anyscale 0.26.50; raks needs 0.26.108 or newer "
        "(cloud get --output-format json, JSON errors)"
    )
    assert cli["fix"] == "pip install 'anyscale>=0.26.108' (into the environment raks runs from)"
    code, _out, err = served.raks(capsys, "up", "--regions", "uksouth", "--yes")
    assert code == 2 and "tools/anyscale cli" in err and "anyscale>=0.26.108" in err
    assert served.writes() == []
