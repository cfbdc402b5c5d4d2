"""Helm releases: installed by the real Helm engine, observed through Helm's own records.

Helm stores each release revision as a Secret `sh.helm.release.v1.<name>.v<revision>` (type
helm.sh/release.v1, labels owner=helm,name,status,version) whose `release` field is
base64(gzip(JSON)). raks reads those records to decide whether a release is already at the
wanted chart version and values, so an unchanged release is never re-run.

Two drivers share that observation code:
- `engine` (the default) runs Helm v4's own install/upgrade/rollback/uninstall in-process
  (PyPI helm-python-sdk, which binds Helm's Go SDK: no helm binary needed). Helm's rules hold:
  ownership checks, --wait, pending-* states.
- `binary` runs `helm upgrade --install` (values in a 0600 temp file, never on argv; the
  kubeconfig in a 0600 temp file; --wait with a timeout; Helm 4 spells --atomic
  --rollback-on-failure and takes a wait strategy, `legacy` as with the engine).

A chart's `repo` is an https chart repository, or a local folder holding `<chart>/` (its
Chart.yaml at the pinned version): air-gapped users, and the sandbox's stand-in charts.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from raks.adapters.kube import Kube
from raks.adapters.tempfiles import private_file
from raks.errors import CloudError

RELEASE_TYPE = "helm.sh/release.v1"
DRIVERS = ("engine", "binary")
# Helm's release states (pkg/release/common/status.go): a pending-* revision is an operation
# that never finished; Helm refuses the next upgrade with "another operation
# (install/upgrade/rollback) is in progress" (pkg/action/upgrade.go, errPending).
PENDING = ("pending-install", "pending-upgrade", "pending-rollback")
# A kill during `helm uninstall` leaves the latest revision `uninstalling` (helm
# pkg/release/common/status.go): no revision is deployed any more, and an upgrade then fails with
# "has no deployed releases" (pkg/action/upgrade.go accepts only a failed or superseded last
# revision). It is unstuck by finishing the uninstall.
UNINSTALLING = "uninstalling"
# Helm 4's wait strategies (pkg/cmd/flags.go waitValue; explicit since 4.1, helm/helm#31421):
# `legacy` is Helm 3's --wait (pkg/kube/ready.go), which waits for a LoadBalancer Service's
# address; the kstatus `watcher` counts such a Service ready once it has a clusterIP
# (cli-utils pkg/kstatus/status/core.go serviceConditions), so `raks up` would end before the
# ingress controller is reachable.
WAIT = "legacy"


@dataclass(frozen=True)
class Chart:
    release: str
    chart: str
    repo: str
    version: str
    namespace: str

    @property
    def local(self) -> bool:
        """A local chart folder rather than an https chart repository."""
        return not re.match(r"^[a-z][a-z0-9+.-]*://", self.repo)


@dataclass(frozen=True)
class Pending:
    """A release left pending-* by an interrupted Helm run, and how to get it unstuck."""

    status: str
    revision: int
    deployed: int | None  # the last deployed revision to roll back to; None: never deployed

    def describe(self) -> str:
        if self.status == "uninstalling":
            return f"uninstalling (revision {self.revision}) left by an interrupted run: finish the uninstall, then install"
        if self.deployed is None:
            return f"{self.status} (revision {self.revision}) left by an interrupted run: uninstall, then install"
        return f"{self.status} (revision {self.revision}) left by an interrupted run: roll back to revision {self.deployed}"


def decode_release(secret: dict[str, Any]) -> dict[str, Any]:
    raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    result: dict[str, Any] = json.loads(raw)
    return result


def canonical(values: Any) -> str:
    return json.dumps(values or {}, sort_keys=True, separators=(",", ":"))


def _labels(secret: dict[str, Any]) -> dict[str, str]:
    return secret["metadata"].get("labels") or {}


class HelmError(CloudError):
    pass


class Helm:
    def __init__(
        self,
        kube: Kube,
        kubeconfig: bytes,
        *,
        driver: str = "engine",
        binary: str = "helm",
        timeout_seconds: int = 600,
    ) -> None:
        if driver not in DRIVERS:
            raise ValueError(f"unknown Helm driver {driver!r}")
        self.kube, self.kubeconfig, self.driver = kube, kubeconfig, driver
        self.binary, self.timeout_seconds = binary, timeout_seconds
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
                if s["metadata"].get("namespace") == chart.namespace and _labels(s).get("name") == chart.release
            ]
        return sorted(mine, key=lambda s: int(_labels(s).get("version", "0")))

    def forget(self) -> None:
        with self._lock:
            self._records = None

    def current(self, chart: Chart) -> dict[str, Any] | None:
        """The deployed revision of a release, decoded; None when not installed."""
        for secret in reversed(self.records(chart)):
            if _labels(secret).get("status") == "deployed":
                return decode_release(secret)
        return None

    def pending(self, chart: Chart) -> Pending | None:
        """The release's latest revision when an interrupted run left it pending-* or uninstalling."""
        records = self.records(chart)
        if not records or _labels(records[-1]).get("status") not in (*PENDING, UNINSTALLING):
            return None
        deployed = [int(_labels(s).get("version", "0")) for s in records if _labels(s).get("status") == "deployed"]
        if _labels(records[-1]).get("status") == UNINSTALLING:
            deployed = []  # an interrupted uninstall is finished, never rolled back
        return Pending(
            status=_labels(records[-1])["status"],
            revision=int(_labels(records[-1]).get("version", "0")),
            deployed=deployed[-1] if deployed else None,
        )

    # -- changes ----------------------------------------------------------------------------
    def recover(self, chart: Chart) -> Pending | None:
        """Unstick a release an interrupted run left pending-*: roll back to its last deployed
        revision, or uninstall one that was never deployed (what `helm rollback` / `helm
        uninstall` would do by hand). Returns what was found, None when nothing was pending."""
        stuck = self.pending(chart)
        if stuck is None:
            return None
        if stuck.deployed is None:
            self._uninstall(chart)
        elif self.driver == "engine":
            with self._engine(chart) as cfg:
                self._call(cfg.rollback, chart.release, version=stuck.deployed, wait=WAIT, timeout=self.timeout_seconds)
        else:
            with self._kubeconfig_file() as kc:
                argv = ["rollback", chart.release, str(stuck.deployed), "--namespace", chart.namespace]
                self._helm([*argv, "--kubeconfig", kc, "--wait", "--timeout", f"{self.timeout_seconds}s"])
        self.forget()
        return stuck

    def upgrade_install(self, chart: Chart, values: dict[str, Any]) -> None:
        if self.driver == "engine":
            self._engine_upgrade(chart, values)
        else:
            self._run_upgrade(chart, values)
        self.forget()

    def uninstall(self, chart: Chart) -> bool:
        if not self.records(chart):
            return False
        self._uninstall(chart)
        self.forget()
        return True

    def _uninstall(self, chart: Chart) -> None:
        if self.driver == "engine":
            with self._engine(chart) as cfg:
                self._call(cfg.uninstall, chart.release, wait=WAIT, timeout=self.timeout_seconds)
        else:
            with self._kubeconfig_file() as kc:
                self._helm(["uninstall", chart.release, "--namespace", chart.namespace, "--kubeconfig", kc, "--wait"])

    def show_crds(self, chart: Chart) -> list[dict[str, Any]]:
        """The chart's CRDs (Helm installs them on first install but never upgrades them)."""
        if self.driver == "engine":
            import helm_python

            ref, opts = self._chart_ref(chart)
            out = self._call(
                helm_python.show,
                ref,
                output_format="crds",
                version=opts.get("chart_version"),
                repo_url=opts.get("chart_repo_url"),
            )
        else:
            args = ["show", "crds", self._chart_ref(chart)[0]]
            if not chart.local:
                args += ["--repo", chart.repo, "--version", chart.version]
            out = self._helm(args)
        return [
            doc
            for doc in yaml.safe_load_all(out)
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
        ]

    # -- engine driver ----------------------------------------------------------------------
    def _chart_ref(self, chart: Chart) -> tuple[str, dict[str, Any]]:
        """What Helm is given for a chart: a local folder (checked to hold the pinned version),
        or the chart name with its https repository and version."""
        if not chart.local:
            return chart.chart, {"chart_repo_url": chart.repo, "chart_version": chart.version}
        folder = Path(chart.repo).expanduser() / chart.chart
        meta_file = folder / "Chart.yaml"
        if not meta_file.is_file():
            raise HelmError(
                f"{folder}: no Chart.yaml (the chart folder holds <chart>/Chart.yaml)", code="ChartNotFound"
            )
        found = (yaml.safe_load(meta_file.read_text()) or {}).get("version")
        if str(found) != chart.version:
            raise HelmError(
                f"{meta_file}: chart version {found}, raks.yaml pins {chart.version}", code="ChartVersionMismatch"
            )
        return str(folder), {}

    @contextmanager
    def _engine(self, chart: Chart) -> Iterator[Any]:
        try:
            import helm_python
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise HelmError(
                "the Helm engine (pip package helm-python-sdk) is not installed; "
                "pip install helm-python-sdk, or set RAKS_HELM_DRIVER=binary to use the helm CLI",
                code="HelmNotFound",
            ) from exc
        with helm_python.Config(kubeconfig_content=self.kubeconfig.decode(), namespace=chart.namespace) as cfg:
            yield cfg

    def _engine_upgrade(self, chart: Chart, values: dict[str, Any]) -> None:
        ref, opts = self._chart_ref(chart)
        # `helm upgrade --install`: install when the release has no history, else upgrade; wait
        # for the resources Helm waits for, and undo a failed change.
        common = {"wait": WAIT, "timeout": self.timeout_seconds, "rollback_on_failure": True, **opts}
        with self._engine(chart) as cfg:
            if self.records(chart):
                self._call(cfg.upgrade, ref, chart.release, values, **common)
            else:
                self._call(cfg.install, ref, chart.release, values, create_namespace=True, **common)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import helm_python

        try:
            return fn(*args, **kwargs)
        except helm_python.HelmError as exc:
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            name = getattr(fn, "__name__", "call")
            raise HelmError(f"helm {name} failed: {detail}", code="HelmFailed") from None

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
        argv = ["upgrade", "--install", chart.release, self._chart_ref(chart)[0]]
        if not chart.local:
            argv += ["--repo", chart.repo, "--version", chart.version]
        argv += [
            "--namespace", chart.namespace,
            "--create-namespace",
            "--values", values_file,
            "--kubeconfig", kubeconfig_file,
            "--timeout", f"{self.timeout_seconds}s",
        ]  # fmt: skip
        if self.major_version() >= 4:
            argv += [f"--wait={WAIT}", "--rollback-on-failure"]
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
