"""The Helm engine driver (the default): the real Helm v4 engine in-process, against the
emulated clusters, with the sandbox's stand-in charts.

An interrupted Helm run leaves its release pending-install / pending-upgrade, and Helm refuses any
later operation on it ("another operation (install/upgrade/rollback) is in progress",
helm/helm pkg/action/upgrade.go). These tests interrupt for real: a `raks up` process is killed
(SIGKILL) while Helm waits for the ingress controller's LoadBalancer Service, which the sandbox
gives an address only after `sandbox.raks.dev/address-after-seconds` (an hour here). Nothing
sleeps: the test waits for the pending release record to appear.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

RG = "aks-anyscale-rg"
SLOW_LB = {"controller": {"service": {"annotations": {"sandbox.raks.dev/address-after-seconds": "3600"}}}}
NGINX = {
    "chart": "ingress-nginx",
    "repo": "https://kubernetes.github.io/ingress-nginx",
    "version": "4.12.1",
    "release": "ingress-nginx",
    "namespace": "ingress-nginx",
}


def _config(path: Path, slow: bool = False) -> Path:
    cfg: dict[str, Any] = {"regions": ["uksouth"], "platform": "kuberay"}
    if slow:
        cfg["addons"] = {"ingress_nginx": {**NGINX, "values": SLOW_LB}}
    path.write_text(yaml.safe_dump(cfg))
    return path


def _core(served):
    from kubernetes import client, config

    az = served.clients()
    raw = az.aks.managed_clusters.list_cluster_user_credentials(RG, "aks-uksouth").kubeconfigs[0].value
    return client.CoreV1Api(config.new_client_from_config_dict(yaml.safe_load(raw)))


def _records(served) -> list[dict[str, Any]]:
    """ingress-nginx's release records (revision, status), oldest first; [] before the cluster exists."""
    try:
        core = _core(served)
    except Exception:  # no cluster yet
        return []
    out = []
    for s in core.list_namespaced_secret("ingress-nginx", label_selector="owner=helm,name=ingress-nginx").items:
        out.append({"revision": int(s.metadata.labels["version"]), "status": s.metadata.labels["status"]})
    return sorted(out, key=lambda r: r["revision"])


def _decoded(served, revision: int) -> dict[str, Any]:
    secret = _core(served).read_namespaced_secret(f"sh.helm.release.v1.ingress-nginx.v{revision}", "ingress-nginx")
    result: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret.data["release"]))))
    return result


def _kill_while_helm_waits(served, cfg: Path, wanted: str) -> None:
    """Start `raks up` as a process, wait until ingress-nginx's newest revision is `wanted`
    (Helm is then waiting for the LoadBalancer's address), and SIGKILL it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAKS_")}
    cmd = [
        sys.executable,
        "-m",
        "raks",
        "--config",
        str(cfg),
        "up",
        "--yes",
        "--sandbox",
        "--sandbox-dir",
        str(served.dir),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            records = _records(served)
            if records and records[-1]["status"] == wanted:
                break
            if proc.poll() is not None:
                tail = proc.stderr.read().decode()[-3000:] if proc.stderr else ""
                raise AssertionError(f"raks up ended ({proc.returncode}) before Helm waited: {tail}")
            time.sleep(0.2)  # poll interval while waiting for the record (the event), not a fixed wait
        else:
            raise AssertionError(f"no {wanted} release record appeared: {_records(served)}")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()


def test_a_kill_during_helm_install_leaves_pending_install_and_a_rerun_recovers(served, capsys, tmp_path):
    _kill_while_helm_waits(served, _config(tmp_path / "slow.yaml", slow=True), "pending-install")
    assert _records(served) == [{"revision": 1, "status": "pending-install"}]

    code, out, err = served.raks(capsys, "--config", str(_config(tmp_path / "raks.yaml")), "up", "--yes")
    assert code == 0, err
    assert "recover pending-install (revision 1) left by an interrupted run: uninstall, then install" in out + err
    assert _records(served) == [{"revision": 1, "status": "deployed"}]
    lb = _core(served).read_namespaced_service("ingress-nginx-controller", "ingress-nginx")
    assert lb.status.load_balancer.ingress[0].ip
    code, out, err = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "plan", "--detailed-exitcode")
    assert code == 0, out + err


def test_a_kill_during_helm_upgrade_is_rolled_back_then_upgraded(served, capsys, tmp_path):
    cfg = _config(tmp_path / "raks.yaml")
    assert served.raks(capsys, "--config", str(cfg), "up", "--yes")[0] == 0
    _kill_while_helm_waits(served, _config(tmp_path / "slow.yaml", slow=True), "pending-upgrade")
    assert [r["status"] for r in _records(served)] == ["deployed", "pending-upgrade"]

    code, out, err = served.raks(capsys, "--config", str(cfg), "up", "--yes")
    assert code == 0, err
    assert "recover pending-upgrade (revision 2) left by an interrupted run: roll back to revision 1" in out + err
    # Helm keeps the interrupted revision in the history; revision 3 is the rollback, 4 the upgrade.
    assert [r["status"] for r in _records(served)] == ["superseded", "pending-upgrade", "superseded", "deployed"]
    assert _decoded(served, 3)["info"]["description"] == "Rollback to 1"
    assert _decoded(served, 4)["config"]["controller"]["service"]["annotations"] == {
        "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/healthz"
    }


def test_kubectl_lists_the_ingress_controller_load_balancer_with_its_address(served, capsys, tmp_path):
    code, out, err = served.raks(capsys, "--config", str(_config(tmp_path / "raks.yaml")), "up", "--yes")
    assert code == 0, err
    az = served.clients()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_bytes(
        az.aks.managed_clusters.list_cluster_user_credentials(RG, "aks-uksouth").kubeconfigs[0].value
    )
    kubeconfig.chmod(0o600)
    got = subprocess.run(
        ["/usr/bin/kubectl", "--kubeconfig", str(kubeconfig), "get", "svc", "-A", "-o", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in json.loads(got.stdout)["items"]}
    lb = services[("ingress-nginx", "ingress-nginx-controller")]
    assert lb["spec"]["type"] == "LoadBalancer" and lb["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert lb["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert ("kuberay-system", "kuberay-operator") in services  # the KubeRay chart's Service


def test_charts_from_a_local_folder_and_a_version_that_does_not_match(served, capsys, tmp_path):
    """An add-on's repo may be a local folder holding <chart>/ (air-gapped): used as given, and
    its Chart.yaml must be at the pinned version."""
    import shutil

    import raks.sandbox

    folder = tmp_path / "charts"
    shutil.copytree(Path(raks.sandbox.__file__).parent / "charts" / "ingress-nginx", folder / "ingress-nginx")
    chart_yaml = folder / "ingress-nginx" / "Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("version: 4.12.1", "version: 4.11.0"))
    cfg = {"regions": ["uksouth"], "platform": "kuberay", "addons": {"ingress_nginx": {**NGINX, "repo": str(folder)}}}
    (tmp_path / "raks.yaml").write_text(yaml.safe_dump(cfg))
    code, out, err = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "up", "--yes")
    assert code != 0
    assert f"{chart_yaml}: chart version 4.11.0, raks.yaml pins 4.12.1" in err
    assert _records(served) == []  # Helm was not run
    chart_yaml.write_text(chart_yaml.read_text().replace("version: 4.11.0", "version: 4.12.1"))
    code, out, err = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "up", "--yes")
    assert code == 0, err
    assert _records(served) == [{"revision": 1, "status": "deployed"}]


def test_a_release_an_interrupted_uninstall_left_uninstalling_is_finished_then_installed(served, capsys, tmp_path):
    cfg = _config(tmp_path / "raks.yaml")
    assert served.raks(capsys, "--config", str(cfg), "up", "--yes")[0] == 0
    # What `helm uninstall` writes first (helm pkg/action/uninstall.go: status uninstalling,
    # "Deletion in progress (or silently failed)"), and all a kill right after it leaves.
    core = _core(served)
    secret = core.read_namespaced_secret("sh.helm.release.v1.ingress-nginx.v1", "ingress-nginx")
    release = _decoded(served, 1)
    release["info"].update(status="uninstalling", description="Deletion in progress (or silently failed)")
    inner = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    secret.data["release"] = base64.b64encode(inner).decode()
    secret.metadata.labels["status"] = "uninstalling"
    core.replace_namespaced_secret(secret.metadata.name, "ingress-nginx", secret)

    code, out, err = served.raks(capsys, "--config", str(cfg), "up", "--yes")
    assert code == 0, err  # before: "helm upgrade failed: "ingress-nginx" has no deployed releases"
    assert "recover uninstalling (revision 1) left by an interrupted run: finish the uninstall" in out + err
    assert [r["status"] for r in _records(served)] == ["deployed"]
