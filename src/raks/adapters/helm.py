"""Helm releases: installed with the `helm` binary (3 or 4), observed through Helm's own records.

Helm stores each release revision as a Secret `sh.helm.release.v1.<name>.v<revision>` (type
helm.sh/release.v1, labels owner=helm,name,status,version) whose `release` field is
base64(gzip(JSON)). raks reads those records to decide whether a release is already at the
wanted chart version and values, so an unchanged release is never re-run.

Two drivers share that observation code:
- `binary` runs `helm upgrade --install` (values in a 0600 temp file, never on argv; the
  kubeconfig in a 0600 temp file; --wait with a timeout; Helm 4 spells --atomic
  --rollback-on-failure and takes a wait strategy);
- `records` writes the release record itself, the way Helm would, for emulated clusters where
  nothing would run the chart's pods.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import yaml

from raks.adapters.kube import Kube
from raks.adapters.tempfiles import private_file
from raks.errors import CloudError

RELEASE_TYPE = "helm.sh/release.v1"


@dataclass(frozen=True)
class Chart:
    release: str
    chart: str
    repo: str
    version: str
    namespace: str


def decode_release(secret: dict[str, Any]) -> dict[str, Any]:
    raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    result: dict[str, Any] = json.loads(raw)
    return result


def encode_release(release: dict[str, Any]) -> str:
    inner = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return base64.b64encode(inner).decode()


def canonical(values: Any) -> str:
    return json.dumps(values or {}, sort_keys=True, separators=(",", ":"))


class HelmError(CloudError):
    pass


class Helm:
    def __init__(
        self, kube: Kube, kubeconfig: bytes, *, driver: str = "binary", binary: str = "helm", timeout: str = "10m0s"
    ) -> None:
        self.kube, self.kubeconfig, self.driver = kube, kubeconfig, driver
        self.binary, self.timeout = binary, timeout
        self._major: int | None = None
        # Every release record of the cluster, read once (one GET for all add-ons of a region)
        # and forgotten after any change.
        self._records: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()

    # -- observation (both drivers) ----------------------------------------------------------
    def records(self, chart: Chart) -> list[dict[str, Any]]:
        with self._lock:
            if self._records is None:
                probe = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}
                self._records = self.kube.list(probe, label_selector="owner=helm", all_namespaces=True)
            mine = [
                s
                for s in self._records
                if s["metadata"].get("namespace") == chart.namespace
                and (s["metadata"].get("labels") or {}).get("name") == chart.release
            ]
        return sorted(mine, key=lambda s: int((s["metadata"].get("labels") or {}).get("version", "0")))

    def forget(self) -> None:
        with self._lock:
            self._records = None

    def current(self, chart: Chart) -> dict[str, Any] | None:
        """The deployed revision of a release, decoded; None when not installed."""
        for secret in reversed(self.records(chart)):
            if (secret["metadata"].get("labels") or {}).get("status") == "deployed":
                return decode_release(secret)
        return None

    # -- changes ----------------------------------------------------------------------------
    def upgrade_install(self, chart: Chart, values: dict[str, Any]) -> None:
        if self.driver == "records":
            self._write_record(chart, values)
        else:
            self._run_upgrade(chart, values)
        self.forget()

    def uninstall(self, chart: Chart) -> bool:
        records = self.records(chart)
        if not records:
            return False
        if self.driver == "records":
            for secret in records:
                self.kube.delete(secret)
        else:
            with self._kubeconfig_file() as kc:
                self._helm(["uninstall", chart.release, "--namespace", chart.namespace, "--kubeconfig", kc, "--wait"])
        self.forget()
        return True

    def show_crds(self, chart: Chart) -> list[dict[str, Any]]:
        """The chart's CRDs (Helm installs them on first install but never upgrades them)."""
        if self.driver == "records":
            return []  # an emulated cluster serves the KubeRay CRDs already
        out = self._helm(["show", "crds", chart.chart, "--repo", chart.repo, "--version", chart.version])
        return [
            doc
            for doc in yaml.safe_load_all(out)
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
        ]

    # -- binary driver ----------------------------------------------------------------------
    def major_version(self) -> int:
        if self._major is None:
            if shutil.which(self.binary) is None:
                raise HelmError("the helm binary is not on PATH (Helm 3 or 4 is needed)", code="HelmNotFound")
            out = self._helm(["version", "--short"])
            m = re.search(r"v(\d+)\.", out)
            self._major = int(m.group(1)) if m else 3
        return self._major

    def upgrade_argv(self, chart: Chart, values_file: str, kubeconfig_file: str) -> list[str]:
        argv = [
            "upgrade", "--install", chart.release, chart.chart,
            "--repo", chart.repo,
            "--version", chart.version,
            "--namespace", chart.namespace,
            "--create-namespace",
            "--values", values_file,
            "--kubeconfig", kubeconfig_file,
            "--timeout", self.timeout,
        ]  # fmt: skip
        if self.major_version() >= 4:
            argv += ["--wait=watcher", "--rollback-on-failure"]
        else:
            argv += ["--wait", "--atomic"]
        return argv

    def _run_upgrade(self, chart: Chart, values: dict[str, Any]) -> None:
        with self._kubeconfig_file() as kc, private_file("values", yaml.safe_dump(values).encode()) as vf:
            self._helm(self.upgrade_argv(chart, vf, kc))

    def _helm(self, args: list[str]) -> str:
        proc = subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=1800, check=False)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise HelmError(f"helm {args[0]} failed: {last}", code="HelmFailed")
        return proc.stdout

    @contextmanager
    def _kubeconfig_file(self) -> Iterator[str]:
        with private_file("kubeconfig", self.kubeconfig) as path:
            yield path

    # -- records driver ---------------------------------------------------------------------
    def _write_record(self, chart: Chart, values: dict[str, Any]) -> None:
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": chart.namespace}}
        if self.kube.get(ns) is None:
            self.kube.apply(ns)
        records = self.records(chart)
        revision = int((records[-1]["metadata"].get("labels") or {}).get("version", "0")) + 1 if records else 1
        for old in records:
            labels = old["metadata"].get("labels") or {}
            if labels.get("status") == "deployed":
                release = decode_release(old)
                release["info"]["status"] = "superseded"
                old["metadata"]["labels"]["status"] = "superseded"
                old["data"] = {"release": encode_release(release)}
                self.kube.replace(old)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        release = {
            "name": chart.release,
            "namespace": chart.namespace,
            "version": revision,
            "info": {
                "first_deployed": now,
                "last_deployed": now,
                "deleted": "",
                "description": "Install complete" if revision == 1 else "Upgrade complete",
                "status": "deployed",
            },
            "chart": {"metadata": {"apiVersion": "v2", "name": chart.chart, "version": chart.version}, "values": {}},
            "config": values,
            "manifest": "",
        }
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": RELEASE_TYPE,
            "metadata": {
                "name": f"sh.helm.release.v1.{chart.release}.v{revision}",
                "namespace": chart.namespace,
                "labels": {"name": chart.release, "owner": "helm", "status": "deployed", "version": str(revision)},
            },
            "data": {"release": encode_release(release)},
        }
        self.kube.create(secret)
