"""The Helm adapter's binary driver, against a recording fake `helm` on PATH (Helm 3 and 4)."""

from __future__ import annotations

import json

import pytest

from helpers.fake_helm import install_fake_helm

SECRET = "sss_do_not_leak_4242"


@pytest.mark.parametrize(
    ("version", "wait_flags"),
    [("v3.17.3", ["--wait", "--atomic"]), ("v4.0.5", ["--wait=watcher", "--rollback-on-failure"])],
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
    assert argv[3] == "ingress-nginx"
    assert argv[argv.index("--repo") + 1] == "https://kubernetes.github.io/ingress-nginx"
    assert argv[argv.index("--version") + 1] == "4.12.1"
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
