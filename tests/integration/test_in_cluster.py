"""Inside each cluster after `raks up`: storage objects, Helm releases (installed by the real Helm
engine from the sandbox's stand-in charts), Anyscale registration."""

from __future__ import annotations

import base64
import gzip
import json

import yaml

REGIONS = ["uksouth", "swedencentral"]
RG = "aks-anyscale-rg"


def kube_for(az, region):
    from kubernetes import client, config

    raw = az.aks.managed_clusters.list_cluster_user_credentials(RG, f"aks-{region}").kubeconfigs[0].value
    api = config.new_client_from_config_dict(yaml.safe_load(raw))
    return client.CoreV1Api(api), client.StorageV1Api(api)


def kubeconfig_of(az, region):
    return az.aks.managed_clusters.list_cluster_user_credentials(RG, f"aks-{region}").kubeconfigs[0].value


def releases(core, namespace):
    out = {}
    for s in core.list_namespaced_secret(namespace, label_selector="owner=helm").items:
        if s.metadata.labels.get("status") != "deployed":
            continue
        raw = base64.b64decode(base64.b64decode(s.data["release"]))
        rel = json.loads(gzip.decompress(raw))
        out[rel["name"]] = rel
    return out


def test_objects_releases_and_anyscale_registration(served, capsys):
    code, out, err = served.raks(capsys, "up", "--regions", *REGIONS, "--yes")
    assert code == 0, err
    az = served.clients()
    identity = az.msi.user_assigned_identities.get(RG, "aks-anyscale-operator-mi")
    account = next(iter(az.storage.storage_accounts.list_by_resource_group(RG))).name
    clouds = served.control.call("GET", "/anyscale/clouds")["value"]
    assert [c["name"] for c in clouds] == ["aks-anyscale"]
    resources = {r["name"]: r for r in clouds[0]["resources"]}
    assert sorted(resources) == ["k8s-azure-swedencentral", "k8s-azure-uksouth"]
    uk = resources["k8s-azure-uksouth"]
    assert uk["object_storage"]["bucket_name"] == f"abfss://aks-anyscale-blob@{account}.dfs.core.windows.net"
    assert uk["file_storage"]["persistent_volume_claim"] == "blob-fuse2"
    assert uk["kubernetes_config"]["anyscale_operator_iam_identity"] == identity.principal_id
    ids = set()
    for region in REGIONS:
        core, storage = kube_for(az, region)
        # The operator's ServiceAccount is the chart's (templates/service_account.yaml), not raks':
        # raks passes the client id through global.auth.iamIdentity.
        sa = core.read_namespaced_service_account("anyscale-operator", "anyscale-operator")
        assert sa.metadata.annotations["azure.workload.identity/client-id"] == identity.client_id
        assert sa.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
        assert sa.metadata.labels["helm.sh/chart"] == "anyscale-operator-1.2.1"
        assert sa.metadata.annotations["meta.helm.sh/release-name"] == "anyscale-operator"
        sc = storage.read_storage_class("blob-fuse2")
        assert sc.provisioner == "blob.csi.azure.com"
        assert sc.parameters == {
            "protocol": "fuse2",
            "mountWithWorkloadIdentityToken": "true",
            "storageAccount": account,
            "resourceGroup": RG,
            "clientID": identity.client_id,
        }
        assert sc.mount_options == [
            "-o allow_other", "--file-cache-timeout-in-seconds=120", "--use-attr-cache=true",
            "--cancel-list-on-mount-seconds=10", "-o attr_timeout=120", "-o entry_timeout=120",
            "-o negative_timeout=120", "--log-level=LOG_WARNING", "--cache-size-mb=1000",
        ]  # fmt: skip
        assert (sc.reclaim_policy, sc.volume_binding_mode, sc.allow_volume_expansion) == ("Retain", "Immediate", True)
        pvc = core.read_namespaced_persistent_volume_claim("blob-fuse2", "anyscale-operator")
        assert pvc.spec.access_modes == ["ReadWriteMany"] and pvc.spec.resources.requests["storage"] == "100Gi"
        assert pvc.status.phase == "Bound"
        found = {}
        for ns in ("ingress-nginx", "nvidia-device-plugin", "anyscale-operator"):
            found.update(releases(core, ns))
        assert {n: r["chart"]["metadata"]["version"] for n, r in found.items()} == {
            "ingress-nginx": "4.12.1", "nvdp": "0.17.1", "anyscale-operator": "1.2.1",
        }  # fmt: skip
        # Installed by Helm itself: each release carries the manifest Helm rendered and applied.
        assert "kind: Deployment" in found["anyscale-operator"]["manifest"]
        assert "kind: DaemonSet" in found["nvdp"]["manifest"]
        lb = core.read_namespaced_service("ingress-nginx-controller", "ingress-nginx")
        assert lb.spec.type == "LoadBalancer" and lb.status.load_balancer.ingress[0].ip
        assert lb.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
        op = found["anyscale-operator"]["config"]
        assert op["global"]["cloudDeploymentId"] == resources[f"k8s-azure-{region}"]["cloud_resource_id"]
        assert op["global"]["auth"]["iamIdentity"] == identity.client_id
        assert op["global"]["auth"]["audience"] == "api://086bc555-6989-4362-ba30-fded273e432b/.default"
        assert op["global"]["cloudProvider"] == "azure" and "anyscaleCliToken" not in op["global"]["auth"]
        assert op["workloads"]["instanceTypes"]["additional"] == {
            "8xA100": {"resources": {"CPU": 92, "GPU": 8, "memory": "864Gi", "accelerators": ["A100-40G"]}}
        }
        ids.add(op["global"]["cloudDeploymentId"])
        tolerations = {t["key"] for t in found["nvdp"]["config"]["tolerations"]}
        assert "kubernetes.azure.com/scalesetpriority" in tolerations and "nvidia.com/gpu" in tolerations
        nginx = found["ingress-nginx"]["config"]["controller"]
        assert nginx["config"]["annotations-risk-level"] == "Critical"
    assert len(ids) == 2


def test_a_storage_class_parameter_change_is_explained_not_a_raw_422(served, capsys, tmp_path):
    assert served.raks(capsys, "up", "--regions", "uksouth", "--yes")[0] == 0
    (tmp_path / "raks.yaml").write_text(yaml.safe_dump({"regions": ["uksouth"], "storage": {"account": "otheracct1"}}))
    code, out, err = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "plan")
    assert code == 4
    assert "uksouth/kube-objects: ImmutableField: StorageClass blob-fuse2: its parameters differ" in err
    assert "kubectl delete storageclass blob-fuse2" in err


def test_kuberay_platform_installs_the_kuberay_operator_instead(served, capsys, tmp_path):
    (tmp_path / "raks.yaml").write_text(yaml.safe_dump({"regions": ["uksouth"], "platform": "kuberay"}))
    code, out, err = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "up", "--yes")
    assert code == 0, err
    core, _ = kube_for(served.clients(), "uksouth")
    found = {}
    for ns in ("ingress-nginx", "nvidia-device-plugin", "kuberay-system", "anyscale-operator"):
        found.update(releases(core, ns))
    assert sorted(found) == ["ingress-nginx", "kuberay-operator", "nvdp"]
    assert served.control.call("GET", "/anyscale/clouds")["value"] == []
    assert core.read_namespaced_persistent_volume_claim("blob-fuse2", "ray").status.phase == "Bound"


def test_a_service_account_an_earlier_raks_made_is_handed_over_to_the_chart(served, capsys, tmp_path):
    """raks used to apply the operator's ServiceAccount itself; the chart renders the same one, and
    real Helm refuses to install over an object without its ownership metadata."""
    from raks.adapters.kube import Kube

    operator = {
        "enabled": False, "chart": "anyscale-operator", "repo": "https://anyscale.github.io/helm-charts",
        "version": "1.2.1", "release": "anyscale-operator", "namespace": "anyscale-operator",
    }  # fmt: skip
    (tmp_path / "old.yaml").write_text(
        yaml.safe_dump({"regions": ["uksouth"], "addons": {"anyscale_operator": operator}})
    )
    assert served.raks(capsys, "--config", str(tmp_path / "old.yaml"), "up", "--yes")[0] == 0
    az = served.clients()
    client_id = az.msi.user_assigned_identities.get(RG, "aks-anyscale-operator-mi").client_id
    # What an earlier raks applied (kube-objects, as raks' field manager, labelled managed-by raks).
    Kube(kubeconfig_of(az, "uksouth")).apply(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": "anyscale-operator",
                "namespace": "anyscale-operator",
                "annotations": {"azure.workload.identity/client-id": client_id},
            },
        }
    )
    (tmp_path / "raks.yaml").write_text(yaml.safe_dump({"regions": ["uksouth"]}))
    code, out, err = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "up", "--yes")
    assert code == 0, err
    assert "hand ServiceAccount anyscale-operator/anyscale-operator (made by an earlier raks) over to Helm" in out + err
    core, _ = kube_for(az, "uksouth")
    assert releases(core, "anyscale-operator")["anyscale-operator"]["info"]["status"] == "deployed"
    sa = core.read_namespaced_service_account("anyscale-operator", "anyscale-operator")
    assert sa.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
    assert sa.metadata.annotations["meta.helm.sh/release-name"] == "anyscale-operator"
    assert sa.metadata.annotations["azure.workload.identity/client-id"] == client_id
    # Converged: a re-run changes nothing.
    code, out, err = served.raks(capsys, "--config", str(tmp_path / "raks.yaml"), "plan", "--detailed-exitcode")
    assert code == 0, out + err
