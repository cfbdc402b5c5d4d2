"""platform: kuberay — `raks submit` runs the example RayJob to SUCCEEDED, runs a finished job again,
and reports a job a real cluster could not run (bad entrypoint, missing service account or claim)."""

from __future__ import annotations

import json
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


def _variant(tmp_path: Path, name: str, change) -> Path:
    job = yaml.safe_load(EXAMPLE.read_text())
    change(job)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(job))
    return path


def _head(job: dict) -> dict:
    return job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]


def test_submitting_a_finished_job_again_runs_it_again(served, capsys, tmp_path):
    cfg = kuberay(tmp_path)
    assert served.raks(capsys, "--config", str(cfg), "up", "--yes")[0] == 0
    code, out, err = served.raks(
        capsys, "--config", str(cfg), "-o", "json", "submit", str(EXAMPLE), "--region", "uksouth"
    )
    assert code == 0, err
    first = json.loads(out)
    code, out, err = served.raks(
        capsys, "--config", str(cfg), "-o", "json", "submit", str(EXAMPLE), "--region", "uksouth"
    )
    assert code == 0, err
    second = json.loads(out)
    assert "tune-sweep: a previous run ended SUCCEEDED" in err and "deleting it to run the job again" in err
    assert second["uid"] != first["uid"] and second["startTime"] >= first["endTime"]
    # The new run was followed from its start, not read back finished.
    statuses = [line for line in err.splitlines() if line.startswith("tune-sweep: ") and " / " in line]
    assert statuses[0] != "tune-sweep: Complete / SUCCEEDED" and "tune-sweep: Running / RUNNING" in statuses
    assert statuses[-1] == "tune-sweep: Complete / SUCCEEDED"


def test_the_old_folded_entrypoint_fails_as_it_would_on_a_cluster(served, capsys, tmp_path):
    cfg = kuberay(tmp_path)
    assert served.raks(capsys, "--config", str(cfg), "up", "--yes")[0] == 0
    folded = EXAMPLE.read_text().replace("entrypoint: |", "entrypoint: >-")
    assert folded != EXAMPLE.read_text()
    path = tmp_path / "folded.yaml"
    path.write_text(folded)
    code, out, err = served.raks(capsys, "--config", str(cfg), "-o", "json", "submit", str(path), "--region", "uksouth")
    assert code == 4  # EXIT_CLOUD
    status = json.loads(out)
    assert (status["jobStatus"], status["jobDeploymentStatus"], status["reason"]) == ("FAILED", "Failed", "AppFailed")
    assert "IndentationError" in status["message"]


def test_a_missing_service_account_stops_the_submit_with_the_api_servers_refusal(served, capsys, tmp_path):
    cfg = kuberay(tmp_path)
    assert served.raks(capsys, "--config", str(cfg), "up", "--yes")[0] == 0
    bad = _variant(tmp_path, "no-sa", lambda job: _head(job).update(serviceAccountName="ray-typo"))
    code, out, err = served.raks(capsys, "--config", str(cfg), "submit", str(bad), "--region", "uksouth")
    assert code == 4 and "SUCCEEDED" not in out
    assert "its RayCluster cannot create pods: FailedCreateHeadPod" in err
    assert 'error looking up service account ray/ray-typo: serviceaccount "ray-typo" not found' in err


def test_a_missing_claim_keeps_the_job_waiting_and_says_why(served, capsys, tmp_path):
    cfg = kuberay(tmp_path)
    assert served.raks(capsys, "--config", str(cfg), "up", "--yes")[0] == 0

    def other_claim(job: dict) -> None:
        _head(job)["volumes"][0]["persistentVolumeClaim"]["claimName"] = "results-typo"

    bad = _variant(tmp_path, "no-pvc", other_claim)
    code, out, err = served.raks(
        capsys, "--config", str(cfg), "submit", str(bad), "--region", "uksouth", "--timeout", "2"
    )
    assert code == 4 and "SUCCEEDED" not in out
    assert "did not finish within 2s (last status: Initializing)" in err
    assert 'Unschedulable: 0/6 nodes are available: persistentvolumeclaim "results-typo" not found.' in err
