"""The Helm adapter's binary driver, against a recording fake `helm` on PATH (Helm 3 and 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import raks.sandbox
from helpers.fake_helm import install_fake_helm

SECRET = "sss_do_not_leak_4242"


@pytest.mark.parametrize(
    ("version", "wait_flags"),
    [("v3.17.3", ["--wait", "--atomic"]), ("v4.1.0", ["--wait=legacy", "--rollback-on-failure"])],
)
def test_helm_argv_for_helm_3_and_4_and_no_secret_anywhere(served, capsys, tmp_path, monkeypatch, version, wait_flags):
    log = install_fake_helm(tmp_path, monkeypatch, version)
    monkeypatch.setenv("ANYSCALE_CLI_TOKEN", SECRET)
    code, out, err = served.raks(capsys, "up", "--regions", "uksouth", "--yes", "-v")
    assert code == 0, err
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    upgrades = [c for c in calls if c["argv"][:2] == ["upgrade", "--install"]]
    assert sorted(c["argv"][2] for c in upgrades) == ["anyscale-operator", "ingress-nginx", "nvdp"]
    nginx = next(c for c in upgrades if c["argv"][2] == "ingress-nginx")
    argv = nginx["argv"]
    # Against the sandbox the chart is its stand-in: a local chart folder, so no --repo.
    assert argv[3] == str(Path(raks.sandbox.__file__).parent / "charts" / "ingress-nginx")
    assert "--repo" not in argv
    assert argv[argv.index("--namespace") + 1] == "ingress-nginx"
    assert argv[-2:] == wait_flags
    assert "--timeout" in argv and "--create-namespace" in argv
    for call in upgrades:
        assert call["values_mode"] == "0o600" and call["kubeconfig_mode"] == "0o600"
        assert "--set" not in call["argv"] and "--set-string" not in call["argv"]
        assert SECRET not in json.dumps(call)
    assert "cloudDeploymentId: cldrsrc_" in next(c for c in upgrades if c["argv"][2] == "anyscale-operator")["values"]
    assert SECRET not in out and SECRET not in err
    log_text = (served.dir / "requests.jsonl").read_text() + (served.dir / "state.json").read_text()
    assert SECRET not in log_text


def test_an_https_chart_repository_is_given_with_repo_and_version(tmp_path, monkeypatch):
    """Against Azure an add-on's chart comes from its https repository at the pinned version."""
    from raks.adapters.helm import Chart, Helm

    install_fake_helm(tmp_path, monkeypatch, "v4.1.0")
    chart = Chart(
        "ingress-nginx", "ingress-nginx", "https://kubernetes.github.io/ingress-nginx", "4.12.1", "ingress-nginx"
    )
    argv = Helm(None, b"", driver="binary").upgrade_argv(chart, "values.yaml", "kubeconfig")  # type: ignore[arg-type]
    assert argv[:4] == ["upgrade", "--install", "ingress-nginx", "ingress-nginx"]
    assert argv[argv.index("--repo") + 1] == "https://kubernetes.github.io/ingress-nginx"
    assert argv[argv.index("--version") + 1] == "4.12.1"


def test_a_pending_release_is_rolled_back_with_the_helm_binary_before_the_upgrade(
    served, capsys, tmp_path, monkeypatch
):
    from integration.test_helm_engine import _config, _kill_while_helm_waits, _records

    cfg = _config(tmp_path / "raks.yaml")
    assert served.raks(capsys, "--config", str(cfg), "up", "--yes")[0] == 0  # the engine
    _kill_while_helm_waits(served, _config(tmp_path / "slow.yaml", slow=True), "pending-upgrade")
    assert [r["status"] for r in _records(served)] == ["deployed", "pending-upgrade"]
    log = install_fake_helm(tmp_path, monkeypatch, "v4.1.0")
    code, out, err = served.raks(capsys, "--config", str(cfg), "up", "--yes")
    assert code == 0, err
    assert "recover pending-upgrade (revision 2) left by an interrupted run: roll back to revision 1" in out + err
    calls = [json.loads(line)["argv"] for line in log.read_text().splitlines()]
    nginx = [c for c in calls if "ingress-nginx" in c]
    assert nginx[0][:5] == ["rollback", "ingress-nginx", "1", "--namespace", "ingress-nginx"]
    assert "--wait" in nginx[0]
    assert nginx[1][:3] == ["upgrade", "--install", "ingress-nginx"]
