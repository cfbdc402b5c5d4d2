"""The example RayJob's entrypoint is a Python program that runs: executed here under real Ray Tune
(CPU, from PyPI: the `ray` extra), with a tiny search space and a temporary results folder."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kuberay" / "rayjob-tune.yaml"


def _program() -> str:
    """The PROGRAM of the entrypoint `python -c PROGRAM`, split as the shell Ray runs it with."""
    argv = shlex.split(yaml.safe_load(EXAMPLE.read_text())["spec"]["entrypoint"])
    assert argv[:2] == ["python", "-c"] and len(argv) == 3, argv
    return argv[2]


def test_the_example_entrypoint_compiles() -> None:
    compile(_program(), "<string>", "exec")


def test_the_example_entrypoint_runs_a_tune_sweep(tmp_path: Path) -> None:
    pytest.importorskip("ray.tune", reason="Ray Tune is not importable (pip install 'raks[ray]')", exc_type=ImportError)
    env = {
        **os.environ,
        "RESULTS_DIR": str(tmp_path / "results"),
        "TUNE_SAMPLES": "2",
        "RAY_DEDUP_LOGS": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", _program()], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    best = next(line for line in done.stdout.splitlines() if line.startswith("best config:"))
    assert "'lr':" in best and "'momentum':" in best
    trials = [p for p in (tmp_path / "results" / "tune-sweep").iterdir() if p.is_dir()]
    assert len(trials) == 2
