"""The real kubectl (/usr/bin/kubectl) against an emulated AKS cluster, with the kubeconfig the ARM
emulator hands out (`listClusterUserCredential`), as a user would after `az aks get-credentials`."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

RG = "rg-kubectl"
LOC = "uksouth"


@pytest.fixture
def kubeconfig(az: Any, tmp_path: Path) -> Path:
    from azure.mgmt.containerservice import models as m

    az.resource.resource_groups.create_or_update(RG, {"location": LOC})
    mc = m.ManagedCluster(
        location=LOC,
        dns_prefix="kubectl",
        kubernetes_version="1.34.1",
        identity=m.ManagedClusterIdentity(type="SystemAssigned"),
        agent_pool_profiles=[
            m.ManagedClusterAgentPoolProfile(name="system", mode="System", vm_size="Standard_D4s_v5", count=2)
        ],
    )
    az.aks.managed_clusters.begin_create_or_update(RG, "aks-kubectl", mc).result()
    raw = az.aks.managed_clusters.list_cluster_user_credentials(RG, "aks-kubectl").kubeconfigs[0].value
    path = tmp_path / "kubeconfig"
    path.write_bytes(raw if isinstance(raw, bytes) else base64.b64decode(raw))
    path.chmod(0o600)
    return path


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args], input=stdin, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


def test_get_nodes_prints_what_aks_prints(kubeconfig: Path) -> None:
    rows = _rows(kubectl(kubeconfig, "get", "nodes"))
    # printers.go nodeColumnDefinitions; AKS agent nodes carry no node-role label: ROLES <none>.
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(rows) == 3
    assert all(r[0].startswith("aks-system-") and r[1:3] == ["Ready", "<none>"] and r[4] == "v1.34.1" for r in rows[1:])
    wide = _rows(kubectl(kubeconfig, "get", "nodes", "-o", "wide"))
    assert wide[0][:9] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION"]  # fmt: skip


MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Service
metadata:
  name: front
  namespace: shop
spec:
  type: LoadBalancer
  selector: {app: front}
  ports:
    - {port: 80, targetPort: 8080}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data: {mode: fast}
"""


def test_apply_get_services_and_delete(kubeconfig: Path) -> None:
    applied = kubectl(kubeconfig, "apply", "-f", "-", stdin=MANIFEST)
    assert "namespace/shop created" in applied and "service/front created" in applied
    # Applying again changes nothing (client-side apply's last-applied annotation, a patch).
    assert "service/front unchanged" in kubectl(kubeconfig, "apply", "-f", "-", stdin=MANIFEST)

    rows = _rows(kubectl(kubeconfig, "get", "svc", "-A"))
    assert rows[0] == ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["kubernetes"][:6] == ["default", "kubernetes", "ClusterIP", "10.0.0.1", "<none>", "443/TCP"]
    front = by_name["front"]
    assert front[2] == "LoadBalancer" and front[4].count(".") == 3
    assert front[5].startswith("80:") and front[5].endswith("/TCP")

    pods = kubectl(kubeconfig, "get", "pods", "-A")
    assert pods.strip() == "" or pods.split()[:6] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert _rows(kubectl(kubeconfig, "get", "cm", "-n", "shop", "settings"))[1][:2] == ["settings", "1"]

    # (Objects first: the emulator removes a namespace's objects at once, with no Terminating phase.)
    assert 'service "front" deleted' in kubectl(kubeconfig, "delete", "svc", "front", "-n", "shop")
    gone = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), "get", "svc", "front", "-n", "shop"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert gone.returncode == 1 and "NotFound" in gone.stderr
    assert 'namespace "shop" deleted' in kubectl(kubeconfig, "delete", "namespace", "shop")


def test_explain_reads_the_openapi_v3_schema(kubeconfig: Path) -> None:
    out = kubectl(kubeconfig, "explain", "configmap")
    assert "KIND:       ConfigMap" in out and "data\t<map[string]string>" in out


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      additionalPrinterColumns:
        - {name: Size, type: integer, jsonPath: .spec.size}
        - {name: Color, type: string, jsonPath: .spec.color}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              description: What the widget should be.
              properties:
                size: {type: integer, description: How big.}
                color: {type: string}
"""
WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {size: 3, color: blue}
"""


def test_a_crd_brings_its_printer_columns_and_schema(kubeconfig: Path) -> None:
    kubectl(kubeconfig, "apply", "-f", "-", stdin=CRD)
    kubectl(kubeconfig, "apply", "-f", "-", stdin=WIDGET)
    rows = _rows(kubectl(kubeconfig, "get", "widgets"))
    assert rows == [["NAME", "SIZE", "COLOR"], ["w1", "3", "blue"]]
    explained = kubectl(kubeconfig, "explain", "widget.spec")
    assert "What the widget should be." in explained and "size\t<integer>" in explained
    # Validation uses the CRD's schema too: a typo'd field is refused (client-side here, see kube/__init__.py).
    typo = WIDGET.replace("spec: {size: 3, color: blue}", "spec: {size: 3, colour: blue}")
    done = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), "apply", "-f", "-"], input=typo,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0 and 'unknown field "colour"' in done.stderr
