"""Shared by rerun.py and requests.py: a served sandbox, raks run in-process, the request log
classified by region, API and method."""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from raks.cli.main import main
from raks.sandbox.client import SandboxControl
from raks.sandbox.runner import Sandbox

REGIONS = ["uksouth", "swedencentral"]


class Bench:
    def __init__(self, profile: str = "instant") -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="raks-bench-"))
        self.config = self.tmp / "raks.yaml"
        self.config.write_text(f"regions: [{', '.join(REGIONS)}]\n")
        self.sandbox = Sandbox(self.tmp / "sandbox", profile)
        self.endpoints = self.sandbox.start()
        self.sandbox.write_endpoints()
        self.control = SandboxControl(self.endpoints)

    def raks(self, *argv: str) -> tuple[int, float, list[dict[str, Any]]]:
        """Exit code, wall seconds and the requests of one command."""
        since = time.time()
        t0 = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            code = main([*argv, "--config", str(self.config), "--sandbox", "--sandbox-dir", str(self.tmp / "sandbox")])
        wall = time.perf_counter() - t0
        return code, wall, self.control.requests(since)

    def region_of(self, entry: dict[str, Any], kube_keys: dict[str, str]) -> str:
        path = entry["path"].lower()
        for region in REGIONS:
            if region in path or (kube_keys.get(region) and kube_keys[region] in path):
                return region
        return "global"

    def kube_keys(self) -> dict[str, str]:
        from raks.sandbox.arm.t_aks import _kube_key

        state = self.control.state()
        keys = {}
        for rid in state.get("arm", {}).get("resources", {}) if isinstance(state.get("arm"), dict) else []:
            for region in REGIONS:
                if rid.lower().endswith(f"/managedclusters/aks-{region}"):
                    keys[region] = _kube_key(rid)
        if not keys:  # the state's layout is the emulator's business: fall back to the ids raks uses
            sub = self.endpoints["subscription_id"]
            for region in REGIONS:
                rid = (
                    f"/subscriptions/{sub}/resourceGroups/aks-anyscale-rg/providers/"
                    f"Microsoft.ContainerService/managedClusters/aks-{region}"
                )
                keys[region] = _kube_key(rid)
        return keys

    def stop(self) -> None:
        self.sandbox.stop()


WRITE_METHODS = ("PUT", "PATCH", "DELETE", "POST")


def is_write(entry: dict[str, Any]) -> bool:
    """ARM's list* and checkNameAvailability POSTs, Resource Graph queries and Anyscale's
    find_by_name are reads."""
    if entry["method"] not in WRITE_METHODS:
        return False
    if entry["path"].rstrip("/").lower() == "/providers/microsoft.resourcegraph/resources":
        return False
    last = entry["path"].rsplit("/", 1)[-1].lower()
    if entry["api"] == "anyscale":
        return not last.startswith("find_by_name")
    return not (entry["api"] == "arm" and last.startswith(("list", "checknameavailability")))


def table(entries: list[dict[str, Any]], bench: Bench) -> Counter[tuple[str, str, str]]:
    keys = bench.kube_keys()
    return Counter((bench.region_of(e, keys), e["api"], e["method"]) for e in entries)
