"""The sandbox outlives the command that started it (README's quick start): `raks up --sandbox`,
`raks kubeconfig --sandbox`, then kubectl and the kubernetes client reach the cluster after raks
exited; `raks sandbox stop` leaves no process; a restart keeps the port, so the kubeconfig stays
valid; a stale pid file is cleaned; a remembered port someone else took is named."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

KUBECTL = "/usr/bin/kubectl"


def raks(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAKS_")}
    env["RAKS_SANDBOX_PROFILE"] = "instant"
    return subprocess.run(
        [sys.executable, "-m", "raks", *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def node_names(kubeconfig: Path) -> list[str]:
    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    try:
        return sorted(n.metadata.name for n in api.list_node().items)
    finally:
        api.api_client.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for every purpose that matters here.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def test_kubectl_reaches_the_sandbox_after_raks_exited_and_stop_leaves_no_process(tmp_path):
    (tmp_path / "raks.yaml").write_text("platform: kuberay\nregions: [uksouth]\n")
    up = raks(tmp_path, "up", "--sandbox", "--yes")
    assert up.returncode == 0, up.stderr
    assert "started the raks sandbox in the background" in up.stderr
    kc = raks(tmp_path, "kubeconfig", "uksouth", "--sandbox")
    assert kc.returncode == 0, kc.stderr
    kubeconfig = tmp_path / "kubeconfig-uksouth"

    # Both raks processes have exited: what the kubeconfig points at still answers.
    nodes = node_names(kubeconfig)
    assert nodes and all(n.startswith("aks-") for n in nodes)
    out = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert sorted(i["metadata"]["name"] for i in json.loads(out.stdout)["items"]) == nodes

    folder = tmp_path / ".raks" / "sandbox"
    pid = int((folder / "sandbox.pid").read_text())
    port = json.loads((folder / "ports.json").read_text())["arm"]
    stopped = raks(tmp_path, "sandbox", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not alive(pid)
    assert not (folder / "sandbox.pid").exists() and not (folder / "endpoints.json").exists()

    # A restart listens on the same port: the kubeconfig written before is still valid.
    started = raks(tmp_path, "sandbox", "start")
    assert started.returncode == 0, started.stderr
    assert json.loads((folder / "endpoints.json").read_text())["arm"] == f"https://127.0.0.1:{port}"
    assert node_names(kubeconfig) == nodes
    again = int((folder / "sandbox.pid").read_text())
    assert raks(tmp_path, "sandbox", "stop").returncode == 0
    assert not alive(again)


def test_a_stale_pid_file_is_cleaned_and_status_says_not_running(tmp_path):
    folder = tmp_path / ".raks" / "sandbox"
    folder.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (folder / "sandbox.pid").write_text(f"{dead.pid}\n")
    st = raks(tmp_path, "-o", "json", "sandbox", "status")
    assert st.returncode == 0, st.stderr
    assert json.loads(st.stdout)["running"] is False
    assert not (folder / "sandbox.pid").exists()
    stopped = raks(tmp_path, "sandbox", "stop")
    assert stopped.returncode == 0 and "no raks sandbox is running" in stopped.stderr


def test_a_remembered_port_taken_by_another_program_is_named(tmp_path):
    folder = tmp_path / ".raks" / "sandbox"
    folder.mkdir(parents=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (folder / "ports.json").write_text(json.dumps({"arm": port, "anyscale": 0, "folder": str(folder.resolve())}))
        res = raks(tmp_path, "sandbox", "start")
    assert res.returncode == 2, res.stderr
    assert f"port {port}" in res.stderr and "ports.json" in res.stderr
    assert not (folder / "sandbox.pid").exists()


@pytest.mark.parametrize("command", [("status",)])
def test_commands_share_one_background_server(tmp_path, command):
    (tmp_path / "raks.yaml").write_text("platform: kuberay\nregions: [uksouth]\n")
    first = raks(tmp_path, *command, "--sandbox")
    assert first.returncode in (0, 10), first.stderr
    pid = int((tmp_path / ".raks" / "sandbox" / "sandbox.pid").read_text())
    second = raks(tmp_path, *command, "--sandbox")
    assert second.returncode in (0, 10), second.stderr
    assert "started the raks sandbox" not in second.stderr
    assert int((tmp_path / ".raks" / "sandbox" / "sandbox.pid").read_text()) == pid
    assert raks(tmp_path, "sandbox", "stop").returncode == 0
    assert not alive(pid)
