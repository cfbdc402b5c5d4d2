"""A recording fake `helm` on PATH (a process boundary, not a mock): it answers `version
--short` and logs every other call's argv, values file (content and mode) and kubeconfig mode."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

SCRIPT = """#!{python}
import json, os, sys
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
with open(os.environ["FAKE_HELM_LOG"], "a") as fh:
    fh.write(json.dumps(entry) + "\\n")
"""


def install_fake_helm(tmp_path: Path, monkeypatch: Any, version: str = "v3.17.3") -> Path:
    """Put the fake first on PATH, make raks use the helm binary; returns the call log's path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    helm = bin_dir / "helm"
    helm.write_text(SCRIPT.format(python=sys.executable, version=version))
    helm.chmod(helm.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "helm.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_HELM_LOG", str(log))
    monkeypatch.setenv("RAKS_HELM_DRIVER", "binary")
    return log
