"""Reliability suites: the real CLI against sandboxes, some copied from a converged baseline."""

from __future__ import annotations

import shutil
from pathlib import Path

REGIONS = ("uksouth", "swedencentral")
# kuberay: the anyscale CLI (≈1 s a call) is not the subject of the ARM/Kubernetes suites.
KUBERAY_YAML = "platform: kuberay\nregions: [uksouth, swedencentral]\n"
RUNTIME_FILES = ("endpoints.json", "requests.jsonl")  # per run; not part of the emulated cloud


def copy_state(source: Path, target: Path) -> None:
    """A stopped sandbox's cloud (state, CA) in a new folder, without the old run's endpoints/log."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*RUNTIME_FILES))
