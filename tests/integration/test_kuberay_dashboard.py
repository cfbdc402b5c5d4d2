"""platform: kuberay — the Ray dashboard (and its Jobs API, which runs code) has no public route
unless raks.yaml asks for one with the source ranges allowed; `raks up` says how to reach it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

PORT_FORWARD = "kubectl --kubeconfig kubeconfig-uksouth -n ray port-forward svc/ray-head-svc 8265:8265"
ALLOWLIST = "nginx.ingress.kubernetes.io/allowlist-source-range"


def _config(tmp_path: Path, **dashboard: Any) -> Path:
    path = tmp_path / "raks.yaml"
    doc: dict[str, Any] = {"regions": ["uksouth"], "platform": "kuberay"}
    if dashboard:
        doc["kuberay"] = {"dashboard": dashboard}
    path.write_text(yaml.safe_dump(doc))
    return path


def _ingresses(served, capsys, tmp_path: Path) -> list[Any]:
    path = tmp_path / "kc"
    if not path.exists():
        code, _out, err = served.raks(capsys, "kubeconfig", "uksouth", "--file", str(path))
        assert code == 0, err
    api = client.NetworkingV1Api(config.new_client_from_config(config_file=str(path)))
    return api.list_namespaced_ingress("ray").items


def test_by_default_the_dashboard_has_no_public_route_and_up_prints_the_port_forward(served, capsys, tmp_path):
    cfg = _config(tmp_path)
    code, out, err = served.raks(capsys, "--config", str(cfg), "up", "--yes")
    assert code == 0, err
    assert (
        f"Ray dashboard (uksouth): private (no public route); `raks kubeconfig uksouth`, then `{PORT_FORWARD}`" in out
    )
    assert _ingresses(served, capsys, tmp_path) == []

    code, out, err = served.raks(capsys, "--config", str(cfg), "up", "--yes", "-o", "json")
    assert code == 0, err
    access = json.loads(out)["regions"][0]["ray_dashboard"]
    assert access == {
        "public": False,
        "allowed_cidrs": [],
        "port_forward_command": PORT_FORWARD,
        "local_url": "http://localhost:8265",
    }


def test_a_public_dashboard_without_source_ranges_is_refused_before_any_request(served, capsys, tmp_path):
    cfg = _config(tmp_path, public=True)
    since = time.time()
    code, _out, err = served.raks(capsys, "--config", str(cfg), "up", "--yes")
    assert code == 2
    assert "kuberay.dashboard.allowed_cidrs: a public Ray dashboard" in err
    assert served.writes(since) == [] and served.writes(since, api="kube") == []


def test_a_public_dashboard_admits_only_its_source_ranges_and_goes_when_made_private(served, capsys, tmp_path):
    cfg = _config(tmp_path, public=True, allowed_cidrs=["203.0.113.0/24", "198.51.100.7/32"])
    code, out, err = served.raks(capsys, "--config", str(cfg), "up", "--yes")
    assert code == 0, err
    assert "Ray dashboard (uksouth): public at /ray/ on the ingress-nginx load balancer, from 203.0.113.0/24" in out
    [ingress] = _ingresses(served, capsys, tmp_path)
    assert ingress.metadata.annotations[ALLOWLIST] == "203.0.113.0/24,198.51.100.7/32"
    assert ingress.spec.rules[0].http.paths[0].backend.service.name == "ray-head-svc"
    # The allowlist sees client addresses only if the load balancer does not SNAT them.
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(tmp_path / "kc")))
    [svc] = [s for s in core.list_service_for_all_namespaces().items if s.spec.type == "LoadBalancer"]
    assert svc.spec.external_traffic_policy == "Local"

    cfg = _config(tmp_path)  # public: false again
    code, out, err = served.raks(capsys, "--config", str(cfg), "up", "--yes")
    assert code == 0, err
    assert _ingresses(served, capsys, tmp_path) == []
    code, out, err = served.raks(capsys, "--config", str(cfg), "plan")
    assert code == 0 and "remove Ingress" not in err
