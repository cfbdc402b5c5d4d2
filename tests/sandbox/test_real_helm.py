"""The real Helm v4 engine (PyPI `helm-python-sdk`, in-process) against an emulated cluster.

Helm's defaults throughout: Secret release storage, OpenAPI schema validation, server-side apply,
`--create-namespace`, and the kstatus watcher wait (which opens watches on every kind it waits for).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from helpers.emulator import emulator
from raks.sandbox.world import World

helm = pytest.importorskip("helm_python")

CHART = Path(__file__).parent / "charts" / "demo"
VERSION = "1.34.1"
TIMEOUT = 30  # seconds; every wait here ends in well under a second unless it is broken
ADDRESS_AFTER = "sandbox.raks.dev/address-after-seconds"


@dataclass
class Cluster:
    world: World
    key: str
    kubeconfig: str
    api: client.ApiClient

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    def helm(self, namespace: str) -> Any:
        return helm.Config(kubeconfig_content=self.kubeconfig, namespace=namespace)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str, Path]]:
    with emulator(tmp_path_factory.mktemp("real-helm")) as running:
        yield running


def kubeconfig(server: str, ca: Path, token: str) -> str:
    ca_data = base64.b64encode(ca.read_bytes()).decode()
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: sandbox\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca_data}\n"
        f"users:\n- name: admin\n  user:\n    token: {token}\n"
        "contexts:\n- name: sandbox\n  context: {cluster: sandbox, user: admin}\ncurrent-context: sandbox\n"
    )


@pytest.fixture
def cluster(served: tuple[World, str, Path]) -> Iterator[Cluster]:
    world, url, ca = served
    key = "c" + uuid.uuid4().hex[:12]
    with world.lock:
        token = world.kube.create_cluster(key, VERSION)
    config = client.Configuration()
    config.host = f"{url}/k8s/{key}"
    config.ssl_ca_cert = str(ca)
    config.api_key = {"authorization": f"Bearer {token}"}
    api = client.ApiClient(config)
    try:
        yield Cluster(world, key, kubeconfig(config.host, ca, token), api)
    finally:
        api.close()


def _missing(call: Any) -> bool:
    try:
        call()
    except ApiException as e:
        return e.status == 404
    return False


def test_install_upgrade_rollback_and_uninstall(cluster: Cluster) -> None:
    cfg = cluster.helm("web")
    release = cfg.install(CHART, "shop", {}, wait="watcher", timeout=TIMEOUT, create_namespace=True)
    assert release["status"] == "deployed" and release["revision"] == 1

    # The release record: a Secret with Helm's labels (pkg/storage/driver/secrets.go).
    secret = cluster.core.read_namespaced_secret("sh.helm.release.v1.shop.v1", "web")
    assert secret.type == "helm.sh/release.v1"
    assert {
        "name": "shop",
        "owner": "helm",
        "status": "deployed",
        "version": "1",
    }.items() <= secret.metadata.labels.items()
    # The objects carry Helm's ownership metadata (pkg/action/validate.go).
    config_map = cluster.core.read_namespaced_config_map("shop-config", "web")
    assert config_map.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
    assert config_map.metadata.annotations["meta.helm.sh/release-name"] == "shop"
    assert config_map.metadata.annotations["meta.helm.sh/release-namespace"] == "web"
    assert config_map.data == {"message": "hello"}
    assert cluster.apps.read_namespaced_deployment("shop-web", "web").status.ready_replicas == 1
    cluster.core.read_namespaced_service_account("shop-sa", "web")

    upgraded = cfg.upgrade(CHART, "shop", {"message": "bye"}, wait="watcher", timeout=TIMEOUT)
    assert upgraded["revision"] == 2
    assert cluster.core.read_namespaced_config_map("shop-config", "web").data == {"message": "bye"}
    assert cluster.core.read_namespaced_secret("sh.helm.release.v1.shop.v1", "web").metadata.labels["status"] == (
        "superseded"
    )

    cfg.rollback("shop", version=1, wait="watcher", timeout=TIMEOUT)
    assert cluster.core.read_namespaced_config_map("shop-config", "web").data == {"message": "hello"}
    history = cfg.history("shop")
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "superseded"), (3, "deployed")]
    assert [r["name"] for r in cfg.list()] == ["shop"]

    cfg.uninstall("shop", wait="watcher", timeout=TIMEOUT)
    assert _missing(lambda: cluster.core.read_namespaced_config_map("shop-config", "web"))
    assert _missing(lambda: cluster.apps.read_namespaced_deployment("shop-web", "web"))
    assert cluster.core.list_namespaced_secret("web", label_selector="owner=helm").items == []
    assert cfg.list(all_states=True) == []


def test_install_refuses_an_object_the_release_does_not_own(cluster: Cluster) -> None:
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="taken")))
    cluster.core.create_namespaced_config_map(
        "taken", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="mine-config"), data={"k": "v"})
    )
    with pytest.raises(helm.HelmError) as info:
        cluster.helm("taken").install(CHART, "mine", {}, wait="watcher", timeout=TIMEOUT)
    assert "invalid ownership metadata" in str(info.value)
    assert 'ConfigMap "mine-config" in namespace "taken" exists and cannot be imported' in str(info.value)
    assert cluster.core.read_namespaced_config_map("mine-config", "taken").data == {"k": "v"}


def test_openapi_validation_refuses_an_unknown_field(cluster: Cluster) -> None:
    with pytest.raises(helm.HelmError) as info:
        cluster.helm("checked").install(
            CHART, "typed", {"extra": {"datta": {"k": "v"}}}, wait="watcher", timeout=TIMEOUT, create_namespace=True
        )
    message = str(info.value)
    assert "error validating data" in message and 'unknown field "datta"' in message
    assert _missing(lambda: cluster.core.read_namespaced_config_map("typed-config", "checked"))


def _address(cluster: Cluster, namespace: str, name: str) -> list[Any] | None:
    status = cluster.core.read_namespaced_service(name, namespace).status
    return status.load_balancer.ingress if status and status.load_balancer else None


def test_the_legacy_wait_waits_for_a_load_balancer_address_and_the_watcher_does_not(cluster: Cluster) -> None:
    # kstatus counts a LoadBalancer Service Current once it has a clusterIP (cli-utils
    # pkg/kstatus/status/core.go serviceConditions): the watcher returns before the address exists.
    never = {"loadBalancerAnnotations": {ADDRESS_AFTER: "600"}}
    cluster.helm("watched").install(CHART, "w", never, wait="watcher", timeout=TIMEOUT, create_namespace=True)
    assert not _address(cluster, "watched", "w-public")
    # Helm's legacy wait needs status.loadBalancer.ingress (pkg/kube/ready.go serviceReady).
    late = {"loadBalancerAnnotations": {ADDRESS_AFTER: "1"}}
    started = time.monotonic()
    cluster.helm("polled").install(CHART, "p", late, wait="legacy", timeout=TIMEOUT, create_namespace=True)
    assert time.monotonic() - started >= 1.0
    assert _address(cluster, "polled", "p-public")


def test_a_watch_sees_a_load_balancer_address_arrive(cluster: Cluster) -> None:
    from kubernetes import watch

    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="lb")))
    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name="edge", annotations={ADDRESS_AFTER: "0.3"}),
        spec=client.V1ServiceSpec(type="LoadBalancer", ports=[client.V1ServicePort(port=80)]),
    )
    created = cluster.core.create_namespaced_service("lb", svc)
    assert not created.status.load_balancer.ingress
    seen = []
    for event in watch.Watch().stream(
        cluster.core.list_namespaced_service,
        "lb",
        resource_version=created.metadata.resource_version,
        timeout_seconds=10,
    ):
        seen.append(event["type"])
        if event["object"].status.load_balancer.ingress:
            break
    assert seen == ["MODIFIED"]
