"""Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`).

client-go clientsets send built-in objects as protobuf (Helm's Secret release storage does:
its clientset asks `Accept: application/vnd.kubernetes.protobuf,application/json`). There is no
fallback to JSON for a request body the server refuses, so the kinds such clients write are
decoded here: Secret, ConfigMap, Namespace and DeleteOptions; any other kind is answered
415 UnsupportedMediaType. Responses stay JSON, which those clients accept too.

Envelope: the 4 bytes `k8s\\x00`, then runtime.Unknown {typeMeta=1 {apiVersion=1, kind=2}, raw=2,
contentEncoding=3, contentType=4} (apimachinery pkg/runtime/serializer/protobuf/protobuf.go and
pkg/runtime/generated.proto at kubernetes v1.32.0). Field numbers of the kinds: k8s.io/api
core/v1/generated.proto and apimachinery pkg/apis/meta/v1/generated.proto at v1.32.0.
Wire format: https://protobuf.dev/programming-guides/encoding/.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"


class DecodeError(ValueError):
    pass


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise DecodeError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs: varints as int, length-delimited as bytes."""
    out: list[tuple[int, int | bytes]] = []
    i = 0
    while i < len(buf):
        tag, i = _varint(buf, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = _varint(buf, i)
            out.append((number, value))
        elif wire == 2:
            size, i = _varint(buf, i)
            if i + size > len(buf):
                raise DecodeError("truncated field")
            out.append((number, buf[i : i + size]))
            i += size
        elif wire in (1, 5):  # fixed64 / fixed32: not used by the kinds decoded here
            i += 8 if wire == 1 else 4
        else:
            raise DecodeError(f"unsupported wire type {wire}")
    return out


def _str(v: int | bytes) -> str:
    if not isinstance(v, bytes):
        raise DecodeError("expected a string")
    return v.decode("utf-8")


def _int(v: int | bytes) -> int:
    if not isinstance(v, int):
        raise DecodeError("expected a varint")
    return v - (1 << 64) if v >= 1 << 63 else v


def _entry(v: int | bytes) -> tuple[str, bytes]:
    """A map entry {key=1, value=2}."""
    if not isinstance(v, bytes):
        raise DecodeError("expected a map entry")
    key, value = "", b""
    for n, x in fields(v):
        if n == 1:
            key = _str(x)
        elif n == 2 and isinstance(x, bytes):
            value = x
    return key, value


def _time(v: int | bytes) -> str:
    """meta/v1 Time {seconds=1, nanos=2} as RFC 3339."""
    seconds = 0
    for n, x in fields(v if isinstance(v, bytes) else b""):
        if n == 1:
            seconds = _int(x)
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner_reference(v: int | bytes) -> dict[str, Any]:
    # OwnerReference: kind=1, name=3, uid=4, apiVersion=5, controller=6, blockOwnerDeletion=7
    names = {1: "kind", 3: "name", 4: "uid", 5: "apiVersion"}
    ref: dict[str, Any] = {}
    for n, x in fields(v if isinstance(v, bytes) else b""):
        if n in names:
            ref[names[n]] = _str(x)
        elif n in (6, 7):
            ref["controller" if n == 6 else "blockOwnerDeletion"] = bool(_int(x))
    return ref


def object_meta(buf: bytes) -> dict[str, Any]:
    """ObjectMeta: name=1, generateName=2, namespace=3, uid=5, resourceVersion=6, generation=7,
    creationTimestamp=8, labels=11, annotations=12, ownerReferences=13, finalizers=14."""
    strings = {1: "name", 2: "generateName", 3: "namespace", 4: "selfLink", 5: "uid", 6: "resourceVersion"}
    m: dict[str, Any] = {}
    for n, v in fields(buf):
        if n in strings:
            if _str(v):
                m[strings[n]] = _str(v)
        elif n == 7:
            m["generation"] = _int(v)
        elif n == 8:
            m["creationTimestamp"] = _time(v)
        elif n in (11, 12):
            key, value = _entry(v)
            m.setdefault("labels" if n == 11 else "annotations", {})[key] = value.decode("utf-8")
        elif n == 13:
            m.setdefault("ownerReferences", []).append(_owner_reference(v))
        elif n == 14:
            m.setdefault("finalizers", []).append(_str(v))
    return m


def _secret(raw: bytes) -> dict[str, Any]:
    # Secret: metadata=1, data=2 (map<string, bytes>), type=3, stringData=4, immutable=5
    obj: dict[str, Any] = {}
    for n, v in fields(raw):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = object_meta(v)
        elif n in (2, 4):
            key, value = _entry(v)
            if n == 2:
                obj.setdefault("data", {})[key] = base64.b64encode(value).decode()
            else:
                obj.setdefault("stringData", {})[key] = value.decode("utf-8")
        elif n == 3:
            obj["type"] = _str(v)
        elif n == 5:
            obj["immutable"] = bool(_int(v))
    return obj


def _config_map(raw: bytes) -> dict[str, Any]:
    # ConfigMap: metadata=1, data=2 (map<string, string>), binaryData=3 (map<string, bytes>), immutable=4
    obj: dict[str, Any] = {}
    for n, v in fields(raw):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = object_meta(v)
        elif n == 2:
            key, value = _entry(v)
            obj.setdefault("data", {})[key] = value.decode("utf-8")
        elif n == 3:
            key, value = _entry(v)
            obj.setdefault("binaryData", {})[key] = base64.b64encode(value).decode()
        elif n == 4:
            obj["immutable"] = bool(_int(v))
    return obj


def _namespace(raw: bytes) -> dict[str, Any]:
    # Namespace: metadata=1, spec=2 {finalizers=1}, status=3
    obj: dict[str, Any] = {}
    for n, v in fields(raw):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = object_meta(v)
        elif n == 2 and isinstance(v, bytes):
            obj["spec"] = {"finalizers": [_str(x) for k, x in fields(v) if k == 1]}
    return obj


def _delete_options(raw: bytes) -> dict[str, Any]:
    # DeleteOptions: gracePeriodSeconds=1, preconditions=2 {uid=1, resourceVersion=2},
    # orphanDependents=3, propagationPolicy=4, dryRun=5
    obj: dict[str, Any] = {}
    for n, v in fields(raw):
        if n == 1:
            obj["gracePeriodSeconds"] = _int(v)
        elif n == 2 and isinstance(v, bytes):
            names = {1: "uid", 2: "resourceVersion"}
            obj["preconditions"] = {names[k]: _str(x) for k, x in fields(v) if k in names}
        elif n == 4:
            obj["propagationPolicy"] = _str(v)
        elif n == 5:
            obj.setdefault("dryRun", []).append(_str(v))
    return obj


DECODERS = {
    ("v1", "Secret"): _secret,
    ("v1", "ConfigMap"): _config_map,
    ("v1", "Namespace"): _namespace,
    ("v1", "DeleteOptions"): _delete_options,
    ("meta.k8s.io/v1", "DeleteOptions"): _delete_options,
}


def decode(body: bytes) -> dict[str, Any] | None:
    """The JSON form of a protobuf body, or None for a kind this emulator cannot decode."""
    if not body.startswith(MAGIC):
        raise DecodeError("missing the k8s protobuf prefix")
    api_version = kind = ""
    raw = b""
    for n, v in fields(body[len(MAGIC) :]):
        if n == 1 and isinstance(v, bytes):
            for k, x in fields(v):
                if k == 1:
                    api_version = _str(x)
                elif k == 2:
                    kind = _str(x)
        elif n == 2 and isinstance(v, bytes):
            raw = v
    decoder = DECODERS.get((api_version, kind))
    if decoder is None:
        return None
    obj = decoder(raw)
    if kind != "DeleteOptions":
        obj = {"apiVersion": api_version, "kind": kind, **obj}
    return obj
