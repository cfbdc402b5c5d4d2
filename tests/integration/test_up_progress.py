"""A 15-minute `up` says what to expect and what to do next (issue 15, item 4)."""

from __future__ import annotations

import re

from raks.sandbox import profiles
from raks.steps import durations
from raks.steps.base import Step


def test_one_source_of_azure_durations_for_progress_and_the_sandbox():
    assert profiles.AZURE_SECONDS is durations.AZURE_SECONDS
    assert durations.typical_seconds("uksouth/cluster", "AKS cluster", "create") == 300.0
    gpu = durations.typical_seconds("uksouth/pool-a100", "spot pool a100 (Standard_ND96asr_v4, 0-3)", "create")
    cpu = durations.typical_seconds("uksouth/pool-cpu", "pool cpu (Standard_D16_v5, 3-6)", "create")
    assert (gpu, cpu) == (480.0, 430.0)
    assert durations.typical_seconds("global/identity", "identity x", "create") is None


def test_the_estimate_is_the_longest_chain_not_the_sum():
    def step(key: str, *needs: str) -> Step:
        s = Step()
        s.key, s.needs = key, needs
        return s

    steps = [step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c")]
    assert durations.critical_path(steps, {"a": 10, "b": 300, "c": 430, "d": 5}) == 445


def test_up_says_what_to_expect_and_what_to_do_next(served, capsys, tmp_path):
    (tmp_path / "raks.yaml").write_text("platform: kuberay\n")
    code, out, err = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "up", "--regions", "uksouth", "--yes")
    assert code == 0, err
    # vnet 12 s -> cluster 300 s -> GPU pool 480 s: ~13 min on Azure, though the sandbox is instant.
    assert re.search(r"Expected time against Azure.*: ~13 min", err), err
    assert "AKS cluster: create started (Azure: typically ~5 min)" in err
    tail = err[err.index("raks up: ok.") :]
    assert "Ready: cluster aks-uksouth (uksouth)" in tail
    assert "raks kubeconfig uksouth --sandbox" in tail
    assert "Ray dashboard: the port-forward command" in tail  # kuberay: the dashboard, whose command is a result
    assert "port-forward svc/ray-head-svc 8265:8265" in out
    assert "raks sandbox stop" in tail
