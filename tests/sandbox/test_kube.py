"""The emulated Kubernetes API server, driven by the real `kubernetes` client over HTTPS."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from helpers.emulator import emulator
from helpers.kuberay_crds import install_kuberay_crds
from raks.sandbox.server import HttpsServer
from raks.sandbox.tls import ensure_tls
from raks.sandbox.world import World

VERSION = "1.34.1"
RAKS = "raks"


@dataclass
class Harness:
    world: World
    url: str
    ca: Path


@dataclass
class Kube:
    """One emulated cluster and clients for it."""

    harness: Harness
    key: str
    token: str
    api: client.ApiClient
    tmp: Path

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def storage(self) -> client.StorageV1Api:
        return client.StorageV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    def dynamic(self) -> DynamicClient:
        return DynamicClient(self.api, cache_file=str(self.tmp / f"discovery-{uuid.uuid4().hex}.json"))

    def resource(self, api_version: str, kind: str) -> Any:
        return self.dynamic().resources.get(api_version=api_version, kind=kind)

    def set_nodes(self, pools: list[dict[str, Any]]) -> None:
        with self.harness.world.lock:
            self.harness.world.kube.set_nodes(self.key, pools)


def _configuration(url: str, ca: Path, token: str) -> client.Configuration:
    config = client.Configuration()
    config.host = url
    config.ssl_ca_cert = str(ca)
    config.api_key = {"authorization": f"Bearer {token}"}
    return config


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with emulator(tmp_path_factory.mktemp("kube-sandbox")) as (world, url, ca):
        yield Harness(world, url, ca)


@pytest.fixture
def kube(harness: Harness, tmp_path: Path) -> Iterator[Kube]:
    key = "c" + uuid.uuid4().hex[:12]
    with harness.world.lock:
        token = harness.world.kube.create_cluster(key, VERSION)
    api = client.ApiClient(_configuration(f"{harness.url}/k8s/{key}", harness.ca, token))
    try:
        yield Kube(harness, key, token, api, tmp_path)
    finally:
        api.close()


def _install_kuberay_crds(kube: Kube) -> None:
    install_kuberay_crds(kube.api)


def _error(call: Callable[[], Any]) -> ApiException:
    with pytest.raises(ApiException) as info:
        call()
    return info.value


def _status(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def _namespace(kube: Kube, name: str) -> None:
    kube.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))


# -- discovery ------------------------------------------------------------------------------


def test_dynamic_client_discovers_built_in_kinds_kuberay_and_applied_crds(kube: Kube) -> None:
    dyn = kube.dynamic()
    assert dyn.version["kubernetes"]["gitVersion"] == "v1.34.1"
    assert dyn.version["kubernetes"]["minor"] == "34"
    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    assert not namespaces.namespaced
    assert {n.metadata.name for n in namespaces.get().items} >= {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
    }
    assert dyn.resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").short_names == ["sc"]
    assert dyn.resources.get(api_version="apps/v1", kind="Deployment").subresources["status"]
    with pytest.raises(Exception, match="No matches found"):  # no KubeRay before its CRDs
        dyn.resources.get(api_version="ray.io/v1", kind="RayJob")
    _install_kuberay_crds(kube)
    dyn = kube.dynamic()
    rayjobs = dyn.resources.get(api_version="ray.io/v1", kind="RayJob")
    assert rayjobs.namespaced and "create" in rayjobs.verbs

    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    crds.create(
        body={
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}}}],
            },
        }
    )
    widgets = kube.resource("example.com/v1", "Widget")
    widgets.create(
        namespace="default", body={"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    )
    assert [w.metadata.name for w in widgets.get(namespace="default").items] == ["w"]
    established = crds.get(name="widgets.example.com").status.conditions
    assert {c.type: c.status for c in established}["Established"] == "True"


# -- typed CRUD -----------------------------------------------------------------------------


def test_typed_crud_of_namespaces_service_accounts_and_secrets(kube: Kube) -> None:
    core = kube.core
    ns = core.create_namespace(
        client.V1Namespace(
            metadata=client.V1ObjectMeta(name="anyscale-operator", labels={"app.kubernetes.io/managed-by": RAKS})
        )
    )
    assert ns.status.phase == "Active"
    assert ns.metadata.labels["kubernetes.io/metadata.name"] == "anyscale-operator"
    # The service-account controller's `default` account shows up in every new namespace.
    assert core.read_namespaced_service_account("default", "anyscale-operator").metadata.name == "default"

    sa = client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name="anyscale-operator", annotations={"azure.workload.identity/client-id": "abc"})
    )
    created = core.create_namespaced_service_account("anyscale-operator", sa)
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp

    secret = core.create_namespaced_secret(
        "anyscale-operator",
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="token", labels={"tier": "a"}), string_data={"token": "s3cret"}
        ),
    )
    assert secret.data == {"token": "czNjcmV0"} and secret.type == "Opaque" and not secret.string_data

    listed = core.list_namespaced_secret("anyscale-operator", label_selector="tier in (a,b),!missing")
    assert [s.metadata.name for s in listed.items] == ["token"]
    assert core.list_namespaced_secret("anyscale-operator", label_selector="tier!=a").items == []
    assert [
        s.metadata.name
        for s in core.list_namespaced_secret("anyscale-operator", field_selector="metadata.name=token").items
    ] == ["token"]

    secret.data = {"token": "bmV3"}
    replaced = core.replace_namespaced_secret("token", "anyscale-operator", secret)
    assert int(replaced.metadata.resource_version) > int(secret.metadata.resource_version)
    stale = _error(lambda: core.replace_namespaced_secret("token", "anyscale-operator", secret))
    assert stale.status == 409 and _status(stale)["reason"] == "Conflict"

    dup = _error(lambda: core.create_namespaced_service_account("anyscale-operator", sa))
    assert dup.status == 409 and _status(dup)["reason"] == "AlreadyExists"
    assert _status(dup)["message"] == 'serviceaccounts "anyscale-operator" already exists'

    deleted = core.delete_namespaced_secret("token", "anyscale-operator")
    assert deleted["status"] == "Success" and deleted["details"]["name"] == "token"
    missing = _error(lambda: core.read_namespaced_secret("token", "anyscale-operator"))
    assert missing.status == 404 and _status(missing)["details"] == {"name": "token", "kind": "secrets"}

    no_ns = _error(
        lambda: core.create_namespaced_config_map("nope", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
    )
    assert no_ns.status == 404 and _status(no_ns)["message"] == 'namespaces "nope" not found'


def test_invalid_names_and_unknown_paths(kube: Kube) -> None:
    bad = _error(lambda: kube.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="Bad_Name"))))
    body = _status(bad)
    assert bad.status == 422 and body["reason"] == "Invalid"
    assert body["message"].startswith(
        'Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label'
    )
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    label = _error(
        lambda: kube.core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c", labels={"k": "not valid"}))
        )
    )
    assert label.status == 422
    raw = client.V1Secret(metadata=client.V1ObjectMeta(name="s"), data={"k": "not base64!"})
    undecodable = _error(lambda: kube.core.create_namespaced_secret("default", raw))
    assert undecodable.status == 400 and "cannot be handled as a Secret" in _status(undecodable)["message"]
    unknown = kube.api.call_api(
        "GET", f"{kube.api.configuration.host}/apis/nothing.io/v1/things", {"authorization": f"Bearer {kube.token}"}
    )
    assert unknown.status == 404


def test_a_wrong_token_is_unauthorized(kube: Kube, harness: Harness) -> None:
    wrong = client.ApiClient(_configuration(f"{harness.url}/k8s/{kube.key}", harness.ca, "not-the-token"))
    err = _error(lambda: client.CoreV1Api(wrong).list_namespace())
    assert err.status == 401 and _status(err)["reason"] == "Unauthorized"
    gone = client.ApiClient(_configuration(f"{harness.url}/k8s/cdeleted", harness.ca, kube.token))
    assert _error(lambda: client.CoreV1Api(gone).list_namespace()).status == 404


def _watch_events(kube: Kube, **params: Any) -> list[tuple[str, str]]:
    from kubernetes import watch

    stream = watch.Watch().stream(kube.core.list_namespaced_config_map, "default", timeout_seconds=1, **params)
    return [(e["type"], e["object"].metadata.name) for e in stream]


def test_watch_streams_changes_after_a_resource_version_and_honours_selectors(kube: Kube) -> None:
    start = kube.core.list_namespaced_config_map("default").metadata.resource_version
    made = kube.core.create_namespaced_config_map(
        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w1", labels={"pick": "yes"}))
    )
    kube.core.patch_namespaced_config_map("w1", "default", {"data": {"k": "v"}})
    kube.core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w2")))
    kube.core.delete_namespaced_config_map("w1", "default")
    # Every change after `start`, in order; the stream ends at timeoutSeconds.
    assert _watch_events(kube, resource_version=start) == [
        ("ADDED", "w1"), ("MODIFIED", "w1"), ("ADDED", "w2"), ("DELETED", "w1")
    ]  # fmt: skip
    assert _watch_events(kube, resource_version=start, label_selector="pick=yes") == [
        ("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")
    ]  # fmt: skip
    assert _watch_events(kube, resource_version=made.metadata.resource_version) == [
        ("MODIFIED", "w1"), ("ADDED", "w2"), ("DELETED", "w1")
    ]  # fmt: skip
    # Without a resourceVersion: what exists now, as ADDED events.
    assert _watch_events(kube) == [("ADDED", "kube-root-ca.crt"), ("ADDED", "w2")]


def test_watch_from_a_resource_version_the_emulator_forgot_says_410_expired(tmp_path: Path) -> None:
    from kubernetes import watch

    tls = ensure_tls(tmp_path / "tls")
    (tmp_path / "state").mkdir()
    world = World(tmp_path / "state", "instant")
    with world.lock:
        token = world.kube.create_cluster("cforget", VERSION)
        cluster = world.kube.cluster("cforget")
        assert cluster is not None
        before = cluster.resource_version
        world.kube.set_blob_driver("cforget", False)  # a change after `before`
    world.close()
    again = World(tmp_path / "state", "instant")  # a restarted emulator keeps objects, not history
    server = HttpsServer(again, "main", str(tls.server_cert), str(tls.server_key))
    server.start()
    api = client.ApiClient(_configuration(f"{server.url}/k8s/cforget", tls.ca_cert, token))
    try:
        core = client.CoreV1Api(api)
        # Without timeoutSeconds the python client retries once after a 410, then raises it.
        with pytest.raises(ApiException) as info:
            for _ in watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=before):
                pass
        assert info.value.status == 410 and "too old resource version" in str(info.value)
        # A resourceVersion from after the restart resumes.
        now = core.list_namespaced_config_map("default").metadata.resource_version
        core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="new")))
        events = watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=now,
                                      timeout_seconds=1)  # fmt: skip
        assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "new")]
    finally:
        api.close()
        server.stop()
        again.close()


def test_watch_list_sends_initial_events_then_a_bookmark(kube: Kube) -> None:
    # client-go's WatchList (reflector.go): sendInitialEvents needs NotOlderThan and bookmarks.
    path = "/api/v1/namespaces/default/configmaps"
    query = [("watch", "true"), ("sendInitialEvents", "true"), ("allowWatchBookmarks", "true"),
             ("resourceVersionMatch", "NotOlderThan"), ("timeoutSeconds", "1")]  # fmt: skip
    pool = kube.api.rest_client.pool_manager
    url = f"{kube.harness.url}/k8s/{kube.key}{path}"
    headers = {"Authorization": f"Bearer {kube.token}"}
    resp = pool.request("GET", url, fields=query, headers=headers)
    assert resp.status == 200
    events = [json.loads(line) for line in resp.data.decode().splitlines() if line]
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    bad = [q for q in query if q[0] != "resourceVersionMatch"]
    assert pool.request("GET", url, fields=bad, headers=headers).status == 422


def test_list_pages_with_limit_and_continue(kube: Kube) -> None:
    for n in range(5):
        kube.core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"cm-{n}", labels={"page": "yes"}))
        )
    first = kube.core.list_namespaced_config_map("default", label_selector="page", limit=2)
    assert [c.metadata.name for c in first.items] == ["cm-0", "cm-1"] and first.metadata.remaining_item_count == 3
    rest = kube.core.list_namespaced_config_map(
        "default", label_selector="page", limit=10, _continue=first.metadata._continue
    )
    assert [c.metadata.name for c in rest.items] == ["cm-2", "cm-3", "cm-4"] and not rest.metadata._continue


# -- storage --------------------------------------------------------------------------------


def _blob_class(**params: str) -> client.V1StorageClass:
    return client.V1StorageClass(
        metadata=client.V1ObjectMeta(name="blob-fuse2"),
        provisioner="blob.csi.azure.com",
        parameters={"protocol": "fuse2", "storageAccount": "aksanyscalesa", **params},
        mount_options=["-o allow_other", "--file-cache-timeout-in-seconds=120"],
        reclaim_policy="Retain",
        volume_binding_mode="Immediate",
        allow_volume_expansion=True,
    )


def _claim(size: str = "100Gi", storage_class: str = "blob-fuse2") -> client.V1PersistentVolumeClaim:
    return client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name="blob-fuse2"),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteMany"],
            storage_class_name=storage_class,
            resources=client.V1VolumeResourceRequirements(requests={"storage": size}),
        ),
    )


def test_storage_class_parameters_are_immutable(kube: Kube) -> None:
    created = kube.storage.create_storage_class(_blob_class(clientID="one"))
    assert created.reclaim_policy == "Retain"
    err = _error(lambda: kube.storage.patch_storage_class("blob-fuse2", {"parameters": {"clientID": "two"}}))
    assert err.status == 422
    assert _status(err)["message"] == (
        'StorageClass.storage.k8s.io "blob-fuse2" is invalid: parameters: Forbidden: updates to parameters are forbidden.'
    )
    # Labels are not immutable; deleting answers with the class itself, as the real server does.
    kube.storage.patch_storage_class("blob-fuse2", {"metadata": {"labels": {"app.kubernetes.io/managed-by": RAKS}}})
    assert kube.storage.delete_storage_class("blob-fuse2").metadata.name == "blob-fuse2"
    assert {sc.metadata.name for sc in kube.storage.list_storage_class().items} >= {
        "default",
        "managed-csi",
        "azurefile-csi",
    }
    assert (
        kube.storage.read_csi_driver("blob.csi.azure.com").spec.token_requests[0].audience
        == "api://AzureADTokenExchange"
    )


def test_claims_bind_to_a_provisioned_volume_and_only_grow(kube: Kube) -> None:
    _namespace(kube, "anyscale-operator")
    pending = kube.core.create_namespaced_persistent_volume_claim("anyscale-operator", _claim())
    assert pending.status.phase == "Pending"  # no such StorageClass yet
    kube.storage.create_storage_class(_blob_class())
    bound = kube.core.read_namespaced_persistent_volume_claim("blob-fuse2", "anyscale-operator")
    assert bound.status.phase == "Bound" and bound.status.capacity == {"storage": "100Gi"}
    volume = kube.core.read_persistent_volume(bound.spec.volume_name)
    assert volume.spec.persistent_volume_reclaim_policy == "Retain" and volume.spec.csi.driver == "blob.csi.azure.com"

    immutable = _error(
        lambda: kube.core.patch_namespaced_persistent_volume_claim(
            "blob-fuse2", "anyscale-operator", {"spec": {"accessModes": ["ReadWriteOnce"]}}
        )
    )
    assert immutable.status == 422
    assert (
        "spec: Forbidden: spec is immutable after creation except resources.requests" in _status(immutable)["message"]
    )
    grown = kube.core.patch_namespaced_persistent_volume_claim(
        "blob-fuse2", "anyscale-operator", {"spec": {"resources": {"requests": {"storage": "200Gi"}}}}
    )
    assert grown.status.capacity == {"storage": "200Gi"}
    shrink = _error(
        lambda: kube.core.patch_namespaced_persistent_volume_claim(
            "blob-fuse2", "anyscale-operator", {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}
        )
    )
    assert shrink.status == 422

    kube.core.delete_namespaced_persistent_volume_claim("blob-fuse2", "anyscale-operator")
    assert kube.core.read_persistent_volume(bound.spec.volume_name).status.phase == "Released"  # Retain keeps data


# -- patches and server-side apply ------------------------------------------------------------


def _config_map(data: dict[str, str], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default", **meta},
        "data": data,
    }


def test_server_side_apply_creates_then_no_op_keeps_resource_version(kube: Kube) -> None:
    cms = kube.resource("v1", "ConfigMap")
    first = cms.server_side_apply(
        body=_config_map({"a": "1"}, labels={"app.kubernetes.io/managed-by": RAKS}), field_manager=RAKS
    )
    rv = first.metadata.resourceVersion
    assert [(m.manager, m.operation) for m in first.metadata.managedFields] == [(RAKS, "Apply")]
    again = cms.server_side_apply(
        body=_config_map({"a": "1"}, labels={"app.kubernetes.io/managed-by": RAKS}), field_manager=RAKS
    )
    assert again.metadata.resourceVersion == rv
    changed = cms.server_side_apply(body=_config_map({"a": "2"}), field_manager=RAKS)
    assert int(changed.metadata.resourceVersion) > int(rv)
    assert (
        changed.to_dict()["data"] == {"a": "2"} and not changed.metadata.labels
    )  # a field no longer applied is removed


def test_apply_needs_a_field_manager_and_respects_other_managers(kube: Kube) -> None:
    cms = kube.resource("v1", "ConfigMap")
    missing = _error(lambda: cms.patch(body=_config_map({"a": "1"}), content_type="application/apply-patch+yaml"))
    assert missing.status == 422  # what kube-apiserver answers (PatchOptions validation)
    assert (
        _status(missing)["message"]
        == 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    )

    cms.server_side_apply(body=_config_map({"a": "1"}), field_manager=RAKS)
    clash = _error(lambda: cms.server_side_apply(body=_config_map({"a": "other"}), field_manager="someone-else"))
    assert (
        clash.status == 409
        and _status(clash)["message"] == 'Apply failed with 1 conflict: conflict with "raks" using v1: .data.a'
    )
    forced = cms.server_side_apply(body=_config_map({"a": "other"}), field_manager="someone-else", force_conflicts=True)
    assert forced.to_dict()["data"] == {"a": "other"}
    assert [m.manager for m in forced.metadata.managedFields] == ["someone-else"]


def _operator(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "operator", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "operator"}},
            "template": {"metadata": {"labels": {"app": "operator"}}, "spec": {"containers": containers}},
        },
    }


def test_apply_merges_keyed_lists_and_keeps_fields_other_managers_set(kube: Kube) -> None:
    deployments = kube.resource("apps/v1", "Deployment")
    two = [
        {"name": "main", "image": "op:1", "env": [{"name": "A", "value": "1"}]},
        {"name": "sidecar", "image": "side:1"},
    ]
    deployments.server_side_apply(body=_operator(two), field_manager=RAKS)
    deployments.patch(
        name="operator",
        namespace="default",
        body={"spec": {"replicas": 3}},
        content_type="application/merge-patch+json",
    )
    one = deployments.server_side_apply(
        body=_operator([{"name": "main", "image": "op:2"}]), field_manager=RAKS
    ).to_dict()
    assert one["spec"]["template"]["spec"]["containers"] == [{"name": "main", "image": "op:2"}]
    assert one["spec"]["replicas"] == 3  # owned by the other manager, so the apply leaves it
    assert one["metadata"]["generation"] == 3


def test_merge_json_and_strategic_patches(kube: Kube) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]},
            },
        },
    }
    created = kube.apps.create_namespaced_deployment("default", deployment)
    assert created.metadata.generation == 1 and created.status.ready_replicas == 1
    # A dict body is a strategic merge patch: containers merge by name.
    patched = kube.apps.patch_namespaced_deployment(
        "web", "default", {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}}
    )
    assert [(c.name, c.image) for c in patched.spec.template.spec.containers] == [("a", "a:1"), ("b", "b:2")]
    assert patched.metadata.generation == 2
    # A list body is a JSON patch.
    scaled = kube.apps.patch_namespaced_deployment(
        "web", "default", [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    )
    assert scaled.spec.replicas == 3 and scaled.status.available_replicas == 3
    merged = kube.resource("apps/v1", "Deployment").patch(
        name="web",
        namespace="default",
        body={"metadata": {"annotations": {"x": "y"}}},
        content_type="application/merge-patch+json",
    )
    assert merged.metadata.annotations.x == "y" and merged.metadata.generation == 3  # metadata is not spec
    immutable = _error(
        lambda: kube.apps.patch_namespaced_deployment(
            "web", "default", {"spec": {"selector": {"matchLabels": {"app": "other"}}}}
        )
    )
    assert immutable.status == 422


def test_custom_resources_refuse_strategic_merge_patch(kube: Kube) -> None:
    _install_kuberay_crds(kube)
    rayclusters = kube.resource("ray.io/v1", "RayCluster")
    rayclusters.create(
        namespace="default",
        body={"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "rc"}, "spec": {}},
    )
    err = _error(lambda: rayclusters.patch(name="rc", namespace="default", body={"metadata": {"labels": {"a": "b"}}}))
    assert err.status == 415 and _status(err)["reason"] == "UnsupportedMediaType"


# -- namespaces -----------------------------------------------------------------------------


def test_deleting_a_namespace_deletes_what_is_in_it(kube: Kube) -> None:
    _namespace(kube, "scratch")
    kube.core.create_namespaced_config_map("scratch", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c")))
    namespaces = kube.resource("v1", "Namespace")
    answer = namespaces.delete(name="scratch")
    assert answer.kind == "Namespace" and answer.status.phase == "Terminating"
    assert kube.core.list_namespaced_config_map("scratch").items == []
    assert _error(lambda: kube.core.read_namespace("scratch")).status == 404
    assert _error(lambda: namespaces.delete(name="kube-system")).status == 403


# -- nodes ----------------------------------------------------------------------------------

POOLS = [
    {"name": "sys", "count": 1, "vm_size": "Standard_D4s_v5", "labels": {}, "taints": ["CriticalAddonsOnly=true:NoSchedule"], "spot": False, "mode": "System"},
    {"name": "cpu", "count": 2, "vm_size": "Standard_D16s_v5", "labels": {"workload": "ray"}, "taints": [], "spot": False, "mode": "User"},
    {"name": "a100", "count": 0, "vm_size": "Standard_NC24ads_A100_v4", "labels": {}, "taints": ["nvidia.com/gpu=present:NoSchedule"], "spot": True, "mode": "User"},
]  # fmt: skip


def test_nodes_follow_the_node_pools(kube: Kube) -> None:
    kube.set_nodes(POOLS)
    cpu = kube.core.list_node(label_selector="kubernetes.azure.com/agentpool=cpu").items
    assert [n.metadata.name for n in cpu] == ["aks-cpu-12345678-vmss000000", "aks-cpu-12345678-vmss000001"]
    node = cpu[0]
    assert node.metadata.labels["workload"] == "ray" and node.metadata.labels["kubernetes.azure.com/mode"] == "user"
    assert node.metadata.labels["node.kubernetes.io/instance-type"] == "Standard_D16s_v5"
    assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
    assert node.status.node_info.kubelet_version == "v1.34.1" and node.status.capacity["cpu"] == "16"
    system = kube.core.list_node(label_selector="agentpool in (sys)").items[0]
    assert [(t.key, t.value, t.effect) for t in system.spec.taints] == [("CriticalAddonsOnly", "true", "NoSchedule")]
    assert kube.core.list_node(label_selector="kubernetes.azure.com/agentpool=a100").items == []

    uids = {n.metadata.name: n.metadata.uid for n in kube.core.list_node().items}
    kube.set_nodes(POOLS)  # unchanged pools keep their nodes
    assert {n.metadata.name: n.metadata.uid for n in kube.core.list_node().items} == uids

    spot_up = [dict(p, count=1) if p["name"] == "a100" else p for p in POOLS if p["name"] != "cpu"]
    kube.set_nodes(spot_up)
    gpu = kube.core.list_node(label_selector="kubernetes.azure.com/scalesetpriority=spot").items
    assert [n.metadata.labels["agentpool"] for n in gpu] == ["a100"] and gpu[0].status.capacity["nvidia.com/gpu"] == "1"
    assert kube.core.list_node(label_selector="agentpool=cpu").items == []


# -- KubeRay --------------------------------------------------------------------------------


def _rayjob(name: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"entrypoint": "python tune.py", "rayClusterSpec": {"headGroupSpec": {}}},
    }


def _wait_for_end(kube: Kube, name: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + 60  # a guard against a hang; the loop ends at the event
    while time.monotonic() < deadline:
        job = kube.custom.get_namespaced_custom_object("ray.io", "v1", "default", "rayjobs", name)
        status = job.get("status") or {}
        phase = (status.get("jobDeploymentStatus", ""), status.get("jobStatus", ""))
        if not seen or seen[-1] != phase:
            seen.append(phase)
        if phase[0] in ("Complete", "Failed"):
            return job, seen
        time.sleep(0.02)
    raise AssertionError(f"{name} did not finish: {seen}")


def test_a_rayjob_runs_to_success_or_to_the_requested_failure(kube: Kube) -> None:
    _install_kuberay_crds(kube)
    kube.custom.create_namespaced_custom_object("ray.io", "v1", "default", "rayjobs", _rayjob("tune"))
    kube.custom.create_namespaced_custom_object(
        "ray.io", "v1", "default", "rayjobs", _rayjob("broken", **{"sandbox.raks.dev/outcome": "failed"})
    )
    job, seen = _wait_for_end(kube, "tune")
    assert seen[-1] == ("Complete", "SUCCEEDED")
    assert set(seen) <= {
        ("Initializing", ""),
        ("Running", "PENDING"),
        ("Running", "RUNNING"),
        ("Complete", "SUCCEEDED"),
    }
    assert job["status"]["dashboardURL"].startswith(job["status"]["rayClusterName"] + "-head-svc.default.svc")
    assert job["status"]["startTime"] and job["status"]["endTime"]
    failed, _ = _wait_for_end(kube, "broken")
    assert (failed["status"]["jobDeploymentStatus"], failed["status"]["jobStatus"]) == ("Failed", "FAILED")


def test_the_cluster_survives_a_restart_of_the_emulator(tmp_path: Path) -> None:
    from raks.sandbox.http import Request

    (tmp_path / "state").mkdir()
    world = World(tmp_path / "state", "instant")
    with world.lock:
        token = world.kube.create_cluster("ckeep", VERSION)
    body = b'{"metadata": {"name": "kept"}, "data": {"k": "v"}}'
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    created = world.dispatch(Request.build("POST", "/k8s/ckeep/api/v1/namespaces/default/configmaps", headers, body))
    assert created.status == 201
    world.close()

    again = World(tmp_path / "state", "instant")
    read = again.dispatch(Request.build("GET", "/k8s/ckeep/api/v1/namespaces/default/configmaps/kept", headers))
    assert read.status == 200 and read.body["data"] == {"k": "v"}
    again.close()
