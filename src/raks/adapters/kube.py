"""Kubernetes through the official client, built from the cluster credentials AKS hands out.

No reliance on ~/.kube/config: the kubeconfig comes from listClusterUserCredential. Objects are
written with server-side apply under one field manager and labelled as raks'; reads are plain
GETs by path (no discovery round trips), since raks knows the kinds it owns.
"""

from __future__ import annotations

import json
import time
from typing import Any

import yaml

from raks.errors import CloudError

FIELD_MANAGER = "raks"
MANAGED_BY = ("app.kubernetes.io/managed-by", "raks")

# apiVersion/kind -> (URL prefix, plural, namespaced)
KINDS: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("v1", "Namespace"): ("/api/v1", "namespaces", False),
    ("v1", "ServiceAccount"): ("/api/v1", "serviceaccounts", True),
    ("v1", "Secret"): ("/api/v1", "secrets", True),
    ("v1", "ConfigMap"): ("/api/v1", "configmaps", True),
    ("v1", "PersistentVolumeClaim"): ("/api/v1", "persistentvolumeclaims", True),
    ("v1", "Node"): ("/api/v1", "nodes", False),
    ("v1", "Pod"): ("/api/v1", "pods", True),
    ("storage.k8s.io/v1", "StorageClass"): ("/apis/storage.k8s.io/v1", "storageclasses", False),
    ("networking.k8s.io/v1", "Ingress"): ("/apis/networking.k8s.io/v1", "ingresses", True),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): (
        "/apis/apiextensions.k8s.io/v1",
        "customresourcedefinitions",
        False,
    ),
    ("ray.io/v1", "RayJob"): ("/apis/ray.io/v1", "rayjobs", True),
    ("ray.io/v1", "RayCluster"): ("/apis/ray.io/v1", "rayclusters", True),
    ("ray.io/v1", "RayService"): ("/apis/ray.io/v1", "rayservices", True),
}


# Throttling and brief unavailability are retried (what client-go does for 429/5xx), with
# Retry-After when the server sends one: 0.2 + 0.4 + 0.8 + 1.6 s at most otherwise.
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
RETRIES = 4
BACKOFF = 0.2
MAX_RETRY_AFTER = 30.0


def _retry_after(resp: Any) -> float | None:
    try:
        value = float(resp.headers.get("Retry-After") or "")
    except (TypeError, ValueError, AttributeError):
        return None
    return min(max(value, 0.0), MAX_RETRY_AFTER)


class KubeError(CloudError):
    """A Kubernetes API error, with the API server's reason as the code."""


def object_path(obj: dict[str, Any], *, name: bool = True, all_namespaces: bool = False) -> str:
    key = (obj["apiVersion"], obj["kind"])
    if key not in KINDS:
        raise KubeError(
            f"raks does not manage Kubernetes kind {obj['apiVersion']}/{obj['kind']}", code="UnsupportedKind"
        )
    prefix, plural, namespaced = KINDS[key]
    meta = obj.get("metadata") or {}
    ns = f"/namespaces/{meta['namespace']}" if namespaced and not all_namespaces else ""
    tail = f"/{meta['name']}" if name else ""
    return f"{prefix}{ns}/{plural}{tail}"


class Kube:
    """One cluster's API server."""

    def __init__(self, kubeconfig: bytes | dict[str, Any]) -> None:
        from kubernetes import config

        data = kubeconfig if isinstance(kubeconfig, dict) else yaml.safe_load(kubeconfig)
        self.api = config.new_client_from_config_dict(data)
        self.server = data["clusters"][0]["cluster"]["server"]

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        import urllib3

        headers = {"Content-Type": content_type, "Accept": "application/json"}
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                request = self.api.param_serialize(
                    method=method, resource_path=path, query_params=query or [], header_params=headers, body=body,
                    auth_settings=["BearerToken"],
                )  # fmt: skip
                resp = self.api.call_api(*request)
                raw = resp.read()
            except (OSError, urllib3.exceptions.HTTPError) as exc:  # connection errors
                if last:
                    raise KubeError(
                        f"Kubernetes API {self.server} unreachable: {type(exc).__name__}", code="Unreachable"
                    ) from None
                time.sleep(BACKOFF * 2**attempt)
                continue
            if resp.status in TRANSIENT_STATUS and not last:
                # The API server is throttling or briefly unavailable (e.g. an AKS control-plane
                # upgrade): wait as told, or back off; every write raks makes is idempotent.
                time.sleep(_retry_after(resp) or BACKOFF * 2**attempt)
                continue
            break
        if resp.status == 404 and method == "GET":
            return None
        if resp.status >= 400:
            reason, message = _status_of(resp.status, raw)
            raise KubeError(message, code=reason, status=resp.status)
        return json.loads(raw) if raw else None

    def get(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._call("GET", object_path(obj))
        return result

    def list(
        self, obj: dict[str, Any], label_selector: str | None = None, *, all_namespaces: bool = False
    ) -> list[dict[str, Any]]:
        """Objects of obj's kind (in obj's namespace, or in all); items carry apiVersion/kind
        again, which list responses leave out."""
        query = [("labelSelector", label_selector)] if label_selector else []
        result = self._call("GET", object_path(obj, name=False, all_namespaces=all_namespaces), query=query) or {}
        return [{"apiVersion": obj["apiVersion"], "kind": obj["kind"], **item} for item in result.get("items") or []]

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply as raks' field manager (force: raks owns what it applies)."""
        body = labelled(obj)
        result: dict[str, Any] = self._call(
            "PATCH",
            object_path(body),
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            body=body,
            content_type="application/apply-patch+yaml",
        )
        return result

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", object_path(obj, name=False), body=obj)
        return result

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", object_path(obj), body=obj)
        return result

    def delete(self, obj: dict[str, Any]) -> bool:
        """Delete; False when it was already gone."""
        try:
            self._call("DELETE", object_path(obj))
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def labelled(obj: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(obj))
    labels = out.setdefault("metadata", {}).setdefault("labels", {})
    labels[MANAGED_BY[0]] = MANAGED_BY[1]
    return out


def _status_of(status: int, raw: bytes) -> tuple[str, str]:
    """The API server's Status object: reason (e.g. Invalid, Conflict) and message."""
    try:
        body = json.loads(raw)
        return str(body.get("reason") or status), str(body.get("message") or status)
    except (TypeError, ValueError):
        return str(status), f"HTTP {status}"
