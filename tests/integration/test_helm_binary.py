"""The Helm adapter's binary driver, against a recording fake `helm` on PATH (Helm 3 and 4)."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

FAKE_HELM = """#!{python}
import json, os, sys
log = os.environ["FAKE_HELM_LOG"]
args = sys.argv[1:]
if args[:2] == ["version", "--short"]:
    print("{version}")
    sys.exit(0)
entry = {{"argv": args}}
if "--values" in args:
    path = args[args.index("--values") + 1]
    entry["values_mode"] = oct(os.stat(path).st_mode & 0o777)
    entry["values"] = open(path).read()
if "--kubeconfig" in args:
    entry["kubeconfig_mode"] = oct(os.stat(args[args.index("--kubeconfig") + 1]).st_mode & 0o777)
with open(log, "a") as fh:
    fh.write(json.dumps(entry) + "\\n")
"""

SECRET = "sss_do_not_leak_4242"


@pytest.mark.parametrize(
    ("version", "wait_flags"),
    [("v3.17.3", ["--wait", "--atomic"]), ("v4.0.5", ["--wait=watcher", "--rollback-on-failure"])],
)
def test_helm_argv_for_helm_3_and_4_and_no_secret_anywhere(served, capsys, tmp_path, monkeypatch, version, wait_flags):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    helm.write_text(FAKE_HELM.format(python=sys.executable, version=version))
    helm.chmod(helm.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "helm.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_HELM_LOG", str(log))
    monkeypatch.setenv("RAKS_HELM_DRIVER", "binary")
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
