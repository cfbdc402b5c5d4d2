"""Installing the KubeRay CRDs on an emulated cluster as the kuberay-operator chart's crds/ would:
only then does the API server serve ray.io kinds (as on a real cluster)."""

from __future__ import annotations

from pathlib import Path

import yaml
from kubernetes import client

KUBERAY_CRDS = Path(__file__).parents[2] / "src/raks/sandbox/charts/kuberay-operator/crds"


def install_kuberay_crds(api: client.ApiClient) -> None:
    ext = client.ApiextensionsV1Api(api)
    for path in sorted(KUBERAY_CRDS.glob("*.yaml")):
        ext.create_custom_resource_definition(yaml.safe_load(path.read_text()))
