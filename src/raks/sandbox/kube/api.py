"""The REST layer of one emulated API server: paths, verbs, bodies and response shapes."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from raks.sandbox.http import Request, Response
from raks.sandbox.kube import discovery, openapi, protobuf, tables, watch, writes
from raks.sandbox.kube.catalog import CRD_KEY, Catalog, ResourceType
from raks.sandbox.kube.errors import (
    KubeError,
    bad_request,
    conflict,
    forbidden,
    forbidden_field,
    invalid,
    invalid_value,
    method_not_allowed,
    no_route,
    not_acceptable,
    not_found,
    required,
    unsupported_media_type,
)
from raks.sandbox.kube.fields import Writer
from raks.sandbox.kube.patches import json_patch, merge_patch, strategic_merge_patch
from raks.sandbox.kube.selectors import field_selector, label_selector
from raks.sandbox.kube.store import Cluster, clone, object_key

if TYPE_CHECKING:
    from raks.sandbox.kube import KubeRouter

APPLY = "application/apply-patch+yaml"
PATCHES = {
    "application/json-patch+json": json_patch,
    "application/merge-patch+json": merge_patch,
    "application/strategic-merge-patch+json": strategic_merge_patch,
}
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")


@dataclass(frozen=True)
class Target:
    rt: ResourceType
    namespace: str = ""  # "" for cluster-scoped kinds, or a namespaced kind listed across namespaces
    name: str = ""  # "" for the collection
    subresource: str = ""  # "" or "status"


def serve(cluster: Cluster, req: Request, path: str, router: KubeRouter | None = None) -> Response:
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["openapi"]:
        return _openapi(cluster, req, parts[1:])
    doc = discovery.document(cluster.catalog, cluster.version, req, parts)
    if doc is not None:
        return doc
    old_watch = "watch" in (parts[2:3] if parts[:1] == ["api"] else parts[3:4])  # the deprecated /watch/ paths
    if old_watch:
        parts.remove("watch")
    t = resolve(cluster.catalog, parts)
    if old_watch or _truthy(req.q("watch")):
        if req.method != "GET" or t.subresource or router is None:
            raise method_not_allowed()
        return _watch(cluster, req, t, router)
    return _dispatch(cluster, req, t)


def _watch(cluster: Cluster, req: Request, t: Target, router: KubeRouter) -> Response:
    labels = label_selector(req.q("labelSelector"))
    fields = field_selector(req.q("fieldSelector"), t.rt.field_labels)
    name = t.name

    def matches(obj: dict[str, Any]) -> bool:
        return (not name or obj["metadata"].get("name") == name) and labels(obj) and fields(obj)

    if t.rt.namespaced and t.namespace:
        _require_namespace(cluster, t)
    w = watch.Watch(router, cluster, t.rt, t.namespace, matches, req.q)
    return Response(200, stream=w.start())


def _openapi(cluster: Cluster, req: Request, parts: list[str]) -> Response:
    if req.method not in ("GET", "HEAD"):
        raise method_not_allowed()
    crds = list(cluster.bucket(cluster.rt(CRD_KEY)).values())
    accept = req.headers.get("accept", "")
    if parts == ["v2"]:
        doc = openapi.v2_document(cluster.catalog, crds, cluster.version)
        if "proto-openapi" in accept or ("protobuf" in accept and "application/json" not in accept):
            return Response(200, openapi.v2_protobuf(doc), content_type=openapi.PROTOBUF_V2_REPLY)
        if accept and not any(t in accept for t in ("application/json", "*/*")):
            raise not_acceptable(["application/json", openapi.PROTOBUF_V2])
        return Response(200, doc)
    if parts == ["v3"]:
        return Response(200, openapi.v3_index(cluster.catalog, crds, cluster.version))
    if parts[:1] == ["v3"] and len(parts) in (3, 4):
        group, gv = ("", parts[2]) if parts[1] == "api" and len(parts) == 3 else (parts[2], parts[-1])
        if (parts[1] == "apis") != (len(parts) == 4) or not cluster.catalog.in_version(group, gv):
            raise no_route()
        return Response(200, openapi.v3_document(cluster.catalog, crds, cluster.version, group, gv))
    raise no_route()


def resolve(catalog: Catalog, parts: list[str]) -> Target:
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise no_route()
    if len(rest) >= 3 and rest[0] == "namespaces":
        rt = catalog.find(group, version, rest[2])
        if rt is not None and rt.namespaced:
            return _item(rt, rest[1], rest[3:])
    rt = catalog.find(group, version, rest[0])
    if rt is None or (rt.namespaced and len(rest) > 1):
        raise no_route()
    return _item(rt, "", rest[1:])


def _item(rt: ResourceType, namespace: str, tail: list[str]) -> Target:
    if len(tail) > 2 or (len(tail) == 2 and (tail[1] != "status" or not rt.status)):
        raise no_route()
    return Target(rt, namespace, tail[0] if tail else "", tail[1] if len(tail) == 2 else "")


def _dispatch(cluster: Cluster, req: Request, t: Target) -> Response:
    method = "GET" if req.method == "HEAD" else req.method
    if not t.name:
        if method == "GET":
            return _list(cluster, req, t)
        cross_namespace = t.rt.namespaced and not t.namespace
        if method == "POST" and not cross_namespace:
            return _create(cluster, req, t)
        if method == "DELETE" and not cross_namespace and "deletecollection" in t.rt.verbs:
            return _delete_collection(cluster, req, t)
        raise method_not_allowed()
    handlers = {"GET": _get, "PUT": _replace, "PATCH": _patch, "DELETE": _delete}
    if method not in handlers or (t.subresource and method == "DELETE"):
        raise method_not_allowed()
    return handlers[method](cluster, req, t)


# -- helpers --------------------------------------------------------------------------------


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def _writer(cluster: Cluster, req: Request, t: Target, operation: str = "Update") -> writes.Write:
    manager = req.q("fieldManager") or req.headers.get("user-agent", "").split("/")[0] or "unknown"
    if len(manager) > 128:
        raise invalid(
            "meta.k8s.io", "PatchOptions", "", [invalid_value("fieldManager", manager, "can not be longer than 128")]
        )
    writer = Writer(manager, operation, t.subresource, t.rt.api_version, cluster.timestamp())
    dry_run = req.q("dryRun") == "All"
    return writes.Write(cluster, t.rt, writer, dry_run)


def _decoded(req: Request) -> Any:
    """A request body as JSON data, from JSON or (for the kinds `protobuf` knows) protobuf."""
    if req.content_type == protobuf.MEDIA_TYPE:
        doc = protobuf.decode(req.body)
        if doc is None:
            raise unsupported_media_type(["application/json", "application/yaml"])
        return doc
    return json.loads(req.body.decode("utf-8")) if req.body else None


def _body(req: Request, rt: ResourceType) -> dict[str, Any]:
    try:
        doc = _decoded(req)
    except (ValueError, UnicodeDecodeError) as e:
        raise bad_request(f"the object provided is unrecognized (must be of type {rt.kind}): {e}") from None
    if not isinstance(doc, dict):
        raise bad_request(f"the object provided is unrecognized (must be of type {rt.kind})")
    _check_kind(rt, doc)
    return doc


def _check_kind(rt: ResourceType, doc: dict[str, Any]) -> None:
    version, kind = doc.get("apiVersion"), doc.get("kind")
    if rt.custom and not (version and kind):
        raise bad_request(f"Object 'Kind' is missing in '{json.dumps(doc, separators=(',', ':'))}'")
    if version and version != rt.api_version:
        raise bad_request(
            f"the API version in the data ({version}) does not match the expected API version ({rt.api_version})"
        )
    if kind and kind != rt.kind:
        raise bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})")


def _check_identity(t: Target, doc: dict[str, Any]) -> None:
    m = doc.get("metadata") or {}
    if m.get("name") != t.name:
        raise bad_request(
            f"the name of the object ({m.get('name') or ''}) does not match the name on the URL ({t.name})"
        )
    if t.rt.namespaced and m.get("namespace") and m["namespace"] != t.namespace:
        raise bad_request("the namespace of the provided object does not match the namespace sent on the request")


def _existing(cluster: Cluster, t: Target) -> dict[str, Any]:
    obj = cluster.get(t.rt, t.namespace, t.name)
    if obj is None:
        raise not_found(t.rt, t.name)
    return obj


def _require_namespace(cluster: Cluster, t: Target) -> None:
    if t.rt.namespaced and not cluster.namespace_exists(t.namespace):
        raise not_found(cluster.rt("/namespaces"), t.namespace)


# -- verbs ----------------------------------------------------------------------------------


def _get(cluster: Cluster, req: Request, t: Target) -> Response:
    obj = clone(_existing(cluster, t))
    if tables.wants_table(req.headers.get("accept", "")) and not t.subresource:
        return Response(200, _table(cluster, req, t, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]}))
    return Response(200, obj)


def _table(
    cluster: Cluster, req: Request, t: Target, items: list[dict[str, Any]], metadata: dict[str, Any]
) -> dict[str, Any]:
    crd = None
    if t.rt.custom:
        crds = cluster.bucket(cluster.rt(CRD_KEY)).values()
        crd = next((c for c in crds if (c.get("spec") or {}).get("group") == t.rt.group
                    and ((c.get("spec") or {}).get("names") or {}).get("plural") == t.rt.plural), None)  # fmt: skip
    return tables.table(t.rt, items, metadata, cluster.now(), req.q("includeObject"), crd)


def _list(cluster: Cluster, req: Request, t: Target) -> Response:
    labels = label_selector(req.q("labelSelector"))
    fields = field_selector(req.q("fieldSelector"), t.rt.field_labels)
    items = [o for o in cluster.items(t.rt, t.namespace) if labels(o) and fields(o)]
    metadata: dict[str, Any] = {"resourceVersion": cluster.resource_version}
    items, more = _page(items, req.q("limit"), req.q("continue"))
    if more:
        metadata["continue"], metadata["remainingItemCount"] = more
    if tables.wants_table(req.headers.get("accept", "")):
        return Response(200, _table(cluster, req, t, [clone(i) for i in items], metadata))
    return Response(200, _list_body(t.rt, items, metadata))


def _list_body(rt: ResourceType, items: list[dict[str, Any]], metadata: dict[str, Any]) -> dict[str, Any]:
    out = []
    for item in items:
        item = clone(item)
        if not rt.custom:  # built-in lists carry apiVersion/kind once, on the list
            item.pop("apiVersion", None)
            item.pop("kind", None)
        out.append(item)
    return {"kind": f"{rt.kind}List", "apiVersion": rt.api_version, "metadata": metadata, "items": out}


def _key(obj: dict[str, Any]) -> str:
    m = obj.get("metadata") or {}
    return object_key(m.get("namespace", ""), m.get("name", ""))


def _page(
    items: list[dict[str, Any]], limit: str | None, token: str | None
) -> tuple[list[dict[str, Any]], tuple[str, int] | None]:
    if token:
        try:
            after = json.loads(base64.urlsafe_b64decode(token.encode()).decode())["start"]
        except (ValueError, KeyError, TypeError):
            raise KubeError(
                410, "Expired", "The provided continue parameter is too old to display a consistent list result."
            ) from None
        items = [i for i in items if _key(i) > after]
    try:
        size = int(limit or 0)
    except ValueError:
        size = 0
    if size <= 0 or len(items) <= size:
        return items, None
    page = items[:size]
    cont = base64.urlsafe_b64encode(json.dumps({"start": _key(page[-1])}).encode()).decode()
    return page, (cont, len(items) - size)


def _create(cluster: Cluster, req: Request, t: Target) -> Response:
    body = _body(req, t.rt)
    m = body.get("metadata") or {}
    if t.rt.namespaced and m.get("namespace") and m["namespace"] != t.namespace:
        raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
    _require_namespace(cluster, t)
    return Response(201, writes.create(_writer(cluster, req, t), body, t.namespace))


def _replace(cluster: Cluster, req: Request, t: Target) -> Response:
    body = _body(req, t.rt)
    _check_identity(t, body)
    old = _existing(cluster, t)
    rv = (body.get("metadata") or {}).get("resourceVersion")
    if rv and rv != old["metadata"].get("resourceVersion"):
        raise conflict(t.rt, t.name)
    obj, _ = writes.update(_writer(cluster, req, t), old, body)
    return Response(200, obj)


def _patch(cluster: Cluster, req: Request, t: Target) -> Response:
    kind = req.content_type
    accepted = [*PATCHES, APPLY]
    if t.rt.custom:
        accepted.remove("application/strategic-merge-patch+json")
    if kind not in accepted:
        raise unsupported_media_type(accepted)
    if kind == APPLY:
        return _apply(cluster, req, t)
    if req.q("force") is not None:
        raise invalid(
            "meta.k8s.io", "PatchOptions", "", [forbidden_field("force", "may not be specified for non-apply patch")]
        )
    try:
        doc = json.loads(req.body.decode("utf-8") or "null")
    except (ValueError, UnicodeDecodeError) as e:
        raise bad_request(f"error decoding patch: {e}") from None
    old = _existing(cluster, t)
    return Response(200, writes.patch(_writer(cluster, req, t), old, doc, PATCHES[kind]))


def _apply(cluster: Cluster, req: Request, t: Target) -> Response:
    if not req.q("fieldManager"):
        raise invalid("meta.k8s.io", "PatchOptions", "", [required("fieldManager", "is required for apply patch")])
    try:
        text = req.body.decode("utf-8")
        doc = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise bad_request(f"error decoding YAML: {e}") from None
    doc = json.loads(json.dumps(doc, default=str))  # YAML keys and timestamps as JSON has them
    if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
        raise bad_request(f"Object 'Kind' is missing in '{req.body.decode('utf-8', 'replace')}'")
    _check_kind(t.rt, doc)
    _check_identity(t, doc)
    old = cluster.get(t.rt, t.namespace, t.name)
    if old is None:
        _require_namespace(cluster, t)
    obj, created = writes.apply(_writer(cluster, req, t, "Apply"), old, doc, t.namespace, _truthy(req.q("force")))
    return Response(201 if created else 200, obj)


def _delete(cluster: Cluster, req: Request, t: Target) -> Response:
    old = _existing(cluster, t)
    _delete_preconditions(req, t, old)
    if t.rt.plural == "namespaces" and t.name in PROTECTED_NAMESPACES:
        raise forbidden(t.rt, t.name, "this namespace may not be deleted")
    writes.delete(_writer(cluster, req, t), old)
    return Response(200, _deleted(cluster, t.rt, old))


def _delete_preconditions(req: Request, t: Target, old: dict[str, Any]) -> None:
    try:
        options = _decoded(req) or {}
    except (ValueError, UnicodeDecodeError):
        raise bad_request("the body of the request could not be decoded as DeleteOptions") from None
    wanted = (options or {}).get("preconditions") or {}
    for key in ("uid", "resourceVersion"):
        if wanted.get(key) and wanted[key] != old["metadata"].get(key):
            raise conflict(t.rt, t.name)


def _deleted(cluster: Cluster, rt: ResourceType, old: dict[str, Any]) -> dict[str, Any]:
    """What DELETE answers: the object for kinds that return it, else a Success Status."""
    if rt.returns_deleted:
        body = clone(old)
        if rt.plural == "namespaces":  # the real server answers with the namespace now Terminating
            body["metadata"]["deletionTimestamp"] = cluster.timestamp()
            body["status"] = {"phase": "Terminating"}
        return body
    details: dict[str, Any] = {"name": old["metadata"]["name"]}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    details["uid"] = old["metadata"].get("uid")
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def _delete_collection(cluster: Cluster, req: Request, t: Target) -> Response:
    labels = label_selector(req.q("labelSelector"))
    fields = field_selector(req.q("fieldSelector"), t.rt.field_labels)
    doomed = [clone(o) for o in cluster.items(t.rt, t.namespace) if labels(o) and fields(o)]
    w = _writer(cluster, req, t)
    for obj in doomed:
        writes.delete(w, obj)
    return Response(200, _list_body(t.rt, doomed, {"resourceVersion": cluster.resource_version}))
