"""OpenAPI documents of one emulated API server: `/openapi/v2` and `/openapi/v3[/<group-version>]`.

Who reads them:
- Helm and `kubectl apply` validate manifests client-side with the v2 document (kubectl's
  `Factory.Validator` -> `OpenAPISchema()`). client-go's `DiscoveryClient.OpenAPISchema` asks for
  `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` only and `proto.Unmarshal`s the
  answer, with no JSON fallback (client-go discovery/discovery_client.go at kubernetes v1.32.0,
  `openAPIV2mimePb`), so v2 is served as gnostic protobuf (google/gnostic openapiv2/OpenAPIv2.proto
  gives the field numbers), or as JSON to a client that asks for JSON.
- `kubectl explain` (v1.27+) reads the v3 index and then one group-version document
  (client-go openapi/groupversion.go: `serverRelativeURL` is joined to the client's base path).

A kind is found by its `x-kubernetes-group-version-kind` extension (kube-openapi
pkg/util/proto/document.go). A kind's top-level fields are typed and ObjectMeta is complete, so an
unknown top-level field or a label that is not a string fails validation as on a real cluster;
below that (spec, status) the schema is open ("arbitrary"), except where a CRD brings its own
structural schema. The v2 document lists no paths: client-go's field-validation verifier then
finds no `fieldValidation` support and validation happens client-side (kubectl
pkg/cmd/util/factory_client_access.go, `NewParamVerifyingSchema`).
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

from raks.sandbox.kube.catalog import Catalog, ResourceType

PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
# What kube-openapi answers with: "@" is not a MIME token character, so the dotted form
# (kube-openapi pkg/handler/handler.go, subTypeProtobuf).
PROTOBUF_V2_REPLY = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
GVK = "x-kubernetes-group-version-kind"

_PACKAGES = {
    "": "io.k8s.api.core.v1",
    "apps": "io.k8s.api.apps.v1",
    "storage.k8s.io": "io.k8s.api.storage.v1",
    "networking.k8s.io": "io.k8s.api.networking.v1",
    "rbac.authorization.k8s.io": "io.k8s.api.rbac.v1",
    "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1",
}

_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer", "format": "int64"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_ANY_OBJECT: dict[str, Any] = {"type": "object"}  # no properties: "arbitrary" to kube-openapi
_STR_MAP: dict[str, Any] = {"type": "object", "additionalProperties": _STR}
_LIST: dict[str, Any] = {"type": "array", "items": _ANY_OBJECT}


def _described(schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {"description": text, **schema}


# Top-level fields per kind beyond apiVersion/kind/metadata (k8s.io/api <group>/v1/types.go).
_SPEC_STATUS = {
    "spec": _described(_ANY_OBJECT, "Spec defines the desired state."),
    "status": _described(_ANY_OBJECT, "Status is the most recently observed state. Read-only."),
}
_FIELDS: dict[str, dict[str, Any]] = {
    "ConfigMap": {"data": _STR_MAP, "binaryData": _STR_MAP, "immutable": _BOOL},
    "Secret": {"data": _STR_MAP, "stringData": _STR_MAP, "type": _STR, "immutable": _BOOL},
    "ServiceAccount": {
        "secrets": _LIST,
        "imagePullSecrets": _LIST,
        "automountServiceAccountToken": _BOOL,
    },
    "Role": {"rules": _LIST},
    "ClusterRole": {"rules": _LIST, "aggregationRule": _ANY_OBJECT},
    "RoleBinding": {"subjects": _LIST, "roleRef": _ANY_OBJECT},
    "ClusterRoleBinding": {"subjects": _LIST, "roleRef": _ANY_OBJECT},
    "StorageClass": {
        "provisioner": _STR,
        "parameters": _STR_MAP,
        "reclaimPolicy": _STR,
        "mountOptions": {"type": "array", "items": _STR},
        "allowVolumeExpansion": _BOOL,
        "volumeBindingMode": _STR,
        "allowedTopologies": _LIST,
    },
    "CSIDriver": {"spec": _SPEC_STATUS["spec"]},
    "IngressClass": {"spec": _SPEC_STATUS["spec"]},
}


def object_meta() -> dict[str, Any]:
    """ObjectMeta as k8s.io/apimachinery pkg/apis/meta/v1/types.go defines it."""
    props = {
        "name": _described(_STR, "Name must be unique within a namespace."),
        "generateName": _STR,
        "namespace": _described(_STR, "Namespace defines the space within which each name must be unique."),
        "selfLink": _STR,
        "uid": _STR,
        "resourceVersion": _STR,
        "generation": _INT,
        "creationTimestamp": {"type": "string", "format": "date-time"},
        "deletionTimestamp": {"type": "string", "format": "date-time"},
        "deletionGracePeriodSeconds": _INT,
        "labels": _described(_STR_MAP, "Map of string keys and values that can be used to organize objects."),
        "annotations": _described(_STR_MAP, "Annotations is an unstructured key value map."),
        "ownerReferences": _LIST,
        "finalizers": {"type": "array", "items": _STR},
        "managedFields": _LIST,
    }
    return {
        "description": "ObjectMeta is metadata that all persisted resources must have.",
        "type": "object",
        "properties": props,
    }


def definition_name(rt: ResourceType) -> str:
    if rt.group in _PACKAGES:
        return f"{_PACKAGES[rt.group]}.{rt.kind}"
    return ".".join([*reversed(rt.group.split(".")), rt.version, rt.kind])


def _crd_schema(catalog_crds: dict[tuple[str, str, str], dict[str, Any]], rt: ResourceType) -> dict[str, Any] | None:
    schema = catalog_crds.get((rt.group, rt.version, rt.kind))
    return _v2_schema(schema) if schema else None


def _v2_schema(s: dict[str, Any]) -> dict[str, Any]:
    """A CRD's openAPIV3Schema as the v2 document publishes it (the keywords v2 knows)."""
    if s.get("x-kubernetes-preserve-unknown-fields") or s.get("x-kubernetes-int-or-string"):
        return {k: s[k] for k in ("description",) if k in s}
    out: dict[str, Any] = {k: s[k] for k in ("description", "type", "format", "required") if k in s}
    if isinstance(s.get("properties"), dict):
        out["properties"] = {k: _v2_schema(v) for k, v in s["properties"].items() if isinstance(v, dict)}
    if isinstance(s.get("items"), dict):
        out["items"] = _v2_schema(s["items"])
    if isinstance(s.get("additionalProperties"), dict):
        out["additionalProperties"] = _v2_schema(s["additionalProperties"])
    return out


def _crd_schemas(crds: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        for v in spec.get("versions") or []:
            schema = (v.get("schema") or {}).get("openAPIV3Schema")
            if isinstance(schema, dict) and kind:
                out[(str(spec.get("group")), str(v.get("name")), str(kind))] = schema
    return out


def definitions(catalog: Catalog, crds: list[dict[str, Any]], ref_prefix: str) -> dict[str, dict[str, Any]]:
    """Every served kind's schema by definition name, plus ObjectMeta."""
    custom = _crd_schemas(crds)
    defs: dict[str, dict[str, Any]] = {META: object_meta()}
    for rt in catalog.types:
        schema = _crd_schema(custom, rt) or {}
        props: dict[str, Any] = dict(schema.get("properties") or {})
        if not schema:
            props.update(_FIELDS.get(rt.kind, _SPEC_STATUS))
        props.update(
            apiVersion=_described(_STR, "APIVersion defines the versioned schema of this representation."),
            kind=_described(_STR, "Kind is a string value representing the REST resource this object represents."),
            metadata={"description": "Standard object's metadata.", "$ref": f"{ref_prefix}{META}"},
        )
        gvk = [{"group": rt.group, "kind": rt.kind, "version": rt.version}]
        defs[definition_name(rt)] = {
            "description": schema.get("description") or f"{rt.kind} ({rt.api_version}), as served by the raks sandbox.",
            "type": "object",
            "properties": props,
            GVK: gvk,
        }
    return defs


# -- v2 --------------------------------------------------------------------------------------


def v2_document(catalog: Catalog, crds: list[dict[str, Any]], version: str) -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": f"v{version}"},
        "paths": {},
        "definitions": definitions(catalog, crds, "#/definitions/"),
    }


# Protobuf wire format: https://protobuf.dev/programming-guides/encoding/ (varints, tag = field << 3 | type).
def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _bytes_field(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _str_field(field: int, value: str) -> bytes:
    return _bytes_field(field, value.encode("utf-8"))


def _double_field(field: int, value: float) -> bytes:
    return _varint(field << 3 | 1) + struct.pack("<d", value)


def _schema_pb(s: dict[str, Any]) -> bytes:
    """gnostic openapi_v2.Schema (OpenAPIv2.proto field numbers)."""
    out = b""
    if "$ref" in s:
        out += _str_field(1, s["$ref"])
    if "format" in s:
        out += _str_field(2, s["format"])
    if "description" in s:
        out += _str_field(4, s["description"])
    for name in s.get("required") or []:
        out += _str_field(19, name)
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out += _bytes_field(21, _bytes_field(1, _schema_pb(extra)))
    elif isinstance(extra, bool):
        out += _bytes_field(21, _varint(2 << 3 | 0) + _varint(int(extra)))
    if "type" in s:
        out += _bytes_field(22, _str_field(1, s["type"]))
    if isinstance(s.get("items"), dict):
        out += _bytes_field(23, _bytes_field(1, _schema_pb(s["items"])))
    if s.get("properties"):
        named = b"".join(
            _bytes_field(1, _str_field(1, k) + _bytes_field(2, _schema_pb(v))) for k, v in s["properties"].items()
        )
        out += _bytes_field(25, named)
    for key, value in s.items():
        if key.startswith("x-"):  # NamedAny{name, Any{yaml}}: JSON is YAML
            out += _bytes_field(31, _str_field(1, key) + _bytes_field(2, _str_field(2, json.dumps(value))))
    return out


def v2_protobuf(doc: dict[str, Any]) -> bytes:
    """gnostic openapi_v2.Document: swagger=1, info=2, paths=8, definitions=9."""
    info = _str_field(1, doc["info"]["title"]) + _str_field(2, doc["info"]["version"])
    defs = b"".join(
        _bytes_field(1, _str_field(1, name) + _bytes_field(2, _schema_pb(schema)))
        for name, schema in doc["definitions"].items()
    )
    return _str_field(1, doc["swagger"]) + _bytes_field(2, info) + _bytes_field(8, b"") + _bytes_field(9, defs)


# -- v3 --------------------------------------------------------------------------------------


def gv_path(rt_group: str, version: str) -> str:
    return f"apis/{rt_group}/{version}" if rt_group else f"api/{version}"


def v3_document(catalog: Catalog, crds: list[dict[str, Any]], version: str, group: str, gv: str) -> dict[str, Any]:
    """One group-version's OpenAPI v3 document: its kinds and what they reference."""
    defs = definitions(catalog, crds, "#/components/schemas/")
    types = catalog.in_version(group, gv)
    names = {definition_name(t) for t in types}
    schemas = {k: v for k, v in defs.items() if k in names or k == META}
    # kubectl explain finds a resource's kind through the list path's operation
    # (kubectl pkg/explain/v2/templates/plaintext.tmpl), then the schema by its GVK.
    paths = {}
    for t in types:
        prefix = "/" + gv_path(group, gv) + ("/namespaces/{namespace}" if t.namespaced else "")
        gvk = {"group": t.group, "kind": t.kind, "version": t.version}
        ref = {"$ref": f"#/components/schemas/{definition_name(t)}"}
        ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
        paths[f"{prefix}/{t.plural}/{{name}}"] = {"get": {"responses": ok, GVK: gvk}}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": f"v{version}"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def v3_index(catalog: Catalog, crds: list[dict[str, Any]], version: str) -> dict[str, Any]:
    paths = {}
    gvs = [("", "v1"), *[(g, v) for g, vs in catalog.groups() for v in vs]]
    for group, gv in gvs:
        path = gv_path(group, gv)
        digest = hashlib.sha512(
            json.dumps(v3_document(catalog, crds, version, group, gv), sort_keys=True).encode()
        ).hexdigest()[:128]
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest.upper()}"}
    return {"paths": paths}
