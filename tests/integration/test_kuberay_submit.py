"""platform: kuberay — `raks submit` runs the example RayJob to SUCCEEDED."""

from __future__ import annotations

from pathlib import Path

import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kuberay" / "rayjob-tune.yaml"


def kuberay(tmp_path: Path) -> Path:
    path = tmp_path / "raks.yaml"
    path.write_text(yaml.safe_dump({"regions": ["uksouth"], "platform": "kuberay"}))
    return path


def test_submit_follows_the_example_to_succeeded(served, capsys, tmp_path):
    cfg = kuberay(tmp_path)
    assert served.raks(capsys, "--config", str(cfg), "up", "--yes")[0] == 0
    code, out, err = served.raks(capsys, "--config", str(cfg), "submit", str(EXAMPLE), "--region", "uksouth")
    assert code == 0, err
    assert out.strip() == "tune-sweep: SUCCEEDED (Complete)"
    statuses = [line for line in err.splitlines() if line.startswith("tune-sweep:")]
    assert statuses[-1] == "tune-sweep: Complete / SUCCEEDED"
    assert any("Running" in line for line in statuses)
    assert "port-forward svc/ray-head-svc 8265:8265" in err


def test_a_gpu_request_no_pool_can_satisfy_is_refused_before_it_is_applied(served, capsys, tmp_path):
    cfg = kuberay(tmp_path)
    assert served.raks(capsys, "--config", str(cfg), "up", "--yes")[0] == 0
    job = yaml.safe_load(EXAMPLE.read_text())
    container = job["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
    container["resources"]["limits"]["nvidia.com/gpu"] = "16"
    bad = tmp_path / "big.yaml"
    bad.write_text(yaml.safe_dump(job))
    import time

    since = time.time()
    code, out, err = served.raks(capsys, "--config", str(cfg), "submit", str(bad), "--region", "uksouth")
    assert code == 2
    assert "worker group gpu asks for 16 nvidia.com/gpu per pod, which pool 'a100' cannot provide" in err
    assert served.writes(since) == []  # refused before anything was created, in any API
