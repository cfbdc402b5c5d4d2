"""Create, update, patch, apply and delete with kube-apiserver semantics (the HTTP layer is api.py).

A write that changes nothing (same object, same field owners) is not stored: resourceVersion
and generation stay, which is what makes a repeated server-side apply a no-op.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from raks.sandbox.kube import behaviors
from raks.sandbox.kube.catalog import ResourceType
from raks.sandbox.kube.errors import (
    KubeError,
    already_exists,
    apply_conflicts,
    bad_request,
    conflict,
    invalid_object,
    not_found,
    required,
)
from raks.sandbox.kube.fields import (
    Path,
    Writer,
    apply_merge,
    drop_nulls,
    owned_paths,
    prune_dropped,
    record_apply,
    record_update,
)
from raks.sandbox.kube.fields import apply_conflicts as find_conflicts
from raks.sandbox.kube.patches import PatchError
from raks.sandbox.kube.store import Cluster, clone, meta
from raks.sandbox.kube.validation import decode_problem, validate, validate_update

SERVER_META = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
)
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # what generateName appends (no vowels, no look-alikes)


@dataclass(frozen=True)
class Write:
    cluster: Cluster
    rt: ResourceType
    writer: Writer
    dry_run: bool = False

    @property
    def status_only(self) -> bool:
        return self.writer.subresource == "status"

    @property
    def scope(self) -> bool | None:
        """Which part of the object this write owns (see fields.owned_paths)."""
        if self.status_only:
            return True
        return False if self.rt.status else None


def create(w: Write, body: dict[str, Any], namespace: str, applied: set[Path] | None = None) -> dict[str, Any]:
    rt, cluster = w.rt, w.cluster
    _decodable(rt, body)
    obj = clone(body)
    m = meta(obj)
    for key in SERVER_META:
        m.pop(key, None)
    if rt.namespaced:
        m["namespace"] = namespace
    else:
        m.pop("namespace", None)
    if not m.get("name"):
        if not m.get("generateName"):
            raise invalid_object(rt, "", [required("metadata.name", "name or generateName is required")])
        m["name"] = m["generateName"] + "".join(random.choice(_NAME_CHARS) for _ in range(5))
    if rt.status:
        obj.pop("status", None)  # status is the controllers' to write
    obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
    m["uid"], m["creationTimestamp"] = str(uuid.uuid4()), cluster.timestamp()
    if rt.generation:
        m["generation"] = 1
    behaviors.defaults(cluster, rt, obj, None)
    _validate(rt, obj, validate(rt, obj))
    if cluster.get(rt, namespace, m["name"]) is not None:
        raise already_exists(rt, m["name"])
    behaviors.controllers(cluster, rt, obj)
    _own(w, None, obj, applied)
    if w.dry_run:
        return obj
    obj = cluster.put(rt, obj)
    behaviors.after_write(cluster, rt, obj, created=True)
    return clone(obj)


def update(
    w: Write, old: dict[str, Any], body: dict[str, Any], applied: set[Path] | None = None
) -> tuple[dict[str, Any], bool]:
    """Replace `old` with `body` (or only its status); returns (object, whether it changed)."""
    rt, cluster = w.rt, w.cluster
    _decodable(rt, body)
    new = _carry(w, old, body)
    m, om = meta(new), old["metadata"]
    behaviors.defaults(cluster, rt, new, old)
    _validate(rt, new, validate(rt, new) + validate_update(rt, old, new))
    behaviors.check_update(cluster, rt, old, new)
    if rt.generation and _spec_part(old) != _spec_part(new):
        m["generation"] = int(om.get("generation", 1)) + 1
    if not w.status_only:
        behaviors.controllers(cluster, rt, new)
    _own(w, old, new, applied)
    m["resourceVersion"] = om.get("resourceVersion")
    if _comparable(old) == _comparable(new):
        return clone(old), False
    if w.dry_run:
        return new, True
    new = cluster.put(rt, new)
    behaviors.after_write(cluster, rt, new, created=False)
    return clone(new), True


def _carry(w: Write, old: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The new object: identity from `old`; status from `old` unless this writes only status."""
    if w.status_only:
        new = clone(old)
        if body.get("status") is None:
            new.pop("status", None)
        else:
            new["status"] = clone(body["status"])
        return new
    new = clone(body)
    m, om = meta(new), old["metadata"]
    for key in SERVER_META:
        m.pop(key, None)
    for key in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "name", "namespace"):
        if key in om:
            m[key] = om[key]
    if w.rt.status:
        new.pop("status", None)
        if "status" in old:
            new["status"] = clone(old["status"])
    new["apiVersion"], new["kind"] = w.rt.api_version, w.rt.kind
    return new


def patch(w: Write, old: dict[str, Any], doc: Any, apply_patch: Callable[[Any, Any], Any]) -> dict[str, Any]:
    try:
        patched = apply_patch(clone(old), doc)
    except PatchError as e:
        raise KubeError(422, "Invalid", str(e), {}) from None
    if not isinstance(patched, dict):
        raise bad_request(f"the object provided is unrecognized (must be of type {w.rt.kind})")
    _preconditions(w.rt, old, patched)
    return update(w, old, patched)[0]


def apply(
    w: Write, old: dict[str, Any] | None, config: dict[str, Any], namespace: str, force: bool
) -> tuple[dict[str, Any], bool]:
    """Server-side apply; returns (object, created)."""
    config = drop_nulls(config)
    paths = owned_paths(config, status=w.scope)
    if old is None:
        if w.status_only:
            raise not_found(w.rt, meta(config).get("name", ""))
        return create(w, config, namespace, applied=paths), True
    if not force and (found := find_conflicts(old, config, paths, w.writer)):
        raise apply_conflicts(w.rt, old["metadata"]["name"], found)
    _preconditions(w.rt, old, config)
    merged = apply_merge(clone(old), config)
    prune_dropped(merged, old, paths, w.writer)
    return update(w, old, merged, applied=paths)[0], False


def _preconditions(rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> None:
    m, om = new.get("metadata") or {}, old["metadata"]
    for key in ("resourceVersion", "uid"):
        if m.get(key) and m[key] != om.get(key):
            raise conflict(rt, om["name"])


def _own(w: Write, old: dict[str, Any] | None, new: dict[str, Any], applied: set[Path] | None) -> None:
    if applied is not None:
        record_apply(old, new, w.writer, applied)
    else:
        record_update(old, new, w.writer, w.scope)


def _decodable(rt: ResourceType, obj: dict[str, Any]) -> None:
    problem = decode_problem(rt, obj)
    if problem:
        raise bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: {problem}')


def _validate(rt: ResourceType, obj: dict[str, Any], errors: list[Any]) -> None:
    if errors:
        raise invalid_object(rt, meta(obj).get("name", ""), errors)


def _spec_part(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    out = clone(obj)
    m = meta(out)
    m.pop("resourceVersion", None)
    for entry in m.get("managedFields") or []:
        entry.pop("time", None)
    return out


def delete(w: Write, obj: dict[str, Any]) -> None:
    if not w.dry_run:
        behaviors.delete_object(w.cluster, w.rt, obj)
