"""One emulated cluster's objects, in the world's JSON state.

`state["kube"][key]` = {"token", "version", "rv" (the last resourceVersion handed out),
"objects": {"<group>/<plural>": {"<namespace>/<name>": object}}, "timers": {uid: start time}}.
Objects are stored as served (apiVersion, kind, metadata ...); a write bumps the cluster's
resourceVersion counter, so resourceVersions increase across all kinds like etcd's revision.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import threading
import uuid
from collections.abc import Callable
from typing import Any

from raks.sandbox.kube.catalog import CRD_KEY, Catalog, ResourceType
from raks.sandbox.kube.fields import Writer, record_update


def rfc3339(seconds: float) -> str:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def object_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = obj.setdefault("metadata", {})
    return m


class Cluster:
    def __init__(self, key: str, data: dict[str, Any], clock: Callable[[], float], log: EventLog | None = None) -> None:
        self.key = key
        self.data = data
        self.clock = clock
        self.log = log
        self._catalog: Catalog | None = None

    # -- identity -----------------------------------------------------------------------
    @property
    def token(self) -> str:
        return str(self.data["token"])

    @property
    def version(self) -> str:
        return str(self.data["version"])

    def now(self) -> float:
        return self.clock()

    def timestamp(self) -> str:
        return rfc3339(self.clock())

    @property
    def resource_version(self) -> str:
        return str(self.data.get("rv", 1))

    def next_rv(self) -> str:
        self.data["rv"] = int(self.data.get("rv", 1)) + 1
        return str(self.data["rv"])

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog.with_crds(self.data.get("objects", {}).get(CRD_KEY, {}).values())
        return self._catalog

    def rt(self, store_key: str) -> ResourceType:
        """A built-in resource type by its store key ("storage.k8s.io/storageclasses")."""
        group, _, plural = store_key.partition("/")
        found = next((t for t in self.catalog.types if t.group == group and t.plural == plural), None)
        assert found is not None, store_key
        return found

    # -- objects --------------------------------------------------------------------------
    def bucket(self, rt: ResourceType) -> dict[str, dict[str, Any]]:
        objects: dict[str, dict[str, dict[str, Any]]] = self.data.setdefault("objects", {})
        return objects.setdefault(rt.store_key, {})

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object (not a copy: callers copy before changing it)."""
        return self.bucket(rt).get(object_key(namespace if rt.namespaced else "", name))

    def items(self, rt: ResourceType, namespace: str = "") -> list[dict[str, Any]]:
        bucket = self.bucket(rt)
        prefix = f"{namespace}/" if rt.namespaced and namespace else ""
        return [bucket[k] for k in sorted(bucket) if k.startswith(prefix)]

    def put(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new version of an object: stamps identity on first write, bumps resourceVersion."""
        m = meta(obj)
        m.setdefault("uid", str(uuid.uuid4()))
        m.setdefault("creationTimestamp", self.timestamp())
        m["resourceVersion"] = self.next_rv()
        stored = _ordered(rt, obj)
        key = object_key(m.get("namespace", "") if rt.namespaced else "", m["name"])
        prev = self.bucket(rt).get(key)
        self.bucket(rt)[key] = stored
        if self.log is not None:
            self.log.append(int(m["resourceVersion"]), rt.store_key, stored, prev)
        if rt.store_key == CRD_KEY:
            self._catalog = None
        return stored

    def save(
        self, rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None, manager: str, subresource: str = ""
    ) -> dict[str, Any]:
        """A write by an emulated controller: records its manager, then stores."""
        writer = Writer(manager, "Update", subresource, rt.api_version, self.timestamp())
        scope = True if subresource == "status" else (False if rt.status else None)
        record_update(old, obj, writer, scope)
        return self.put(rt, obj)

    def remove(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        m = meta(obj)
        self.bucket(rt).pop(object_key(m.get("namespace", "") if rt.namespaced else "", m["name"]), None)
        self.data.setdefault("timers", {}).pop(m.get("uid"), None)
        rv = self.next_rv()
        if self.log is not None:
            gone = clone(obj)
            meta(gone)["resourceVersion"] = rv
            self.log.append(int(rv), rt.store_key, None, gone)
        if rt.store_key == CRD_KEY:
            self._catalog = None

    def namespace_exists(self, name: str) -> bool:
        return self.get(self.rt("/namespaces"), "", name) is not None

    # -- timers (for the simulated controllers) ---------------------------------------------
    def start_timer(self, uid: str) -> None:
        self.data.setdefault("timers", {}).setdefault(uid, self.clock())

    def timer(self, uid: str) -> float | None:
        value = self.data.get("timers", {}).get(uid)
        return float(value) if value is not None else None


Change = tuple[int, str, dict[str, Any] | None, dict[str, Any] | None]


class EventLog:
    """The recent changes of one cluster, in memory, for watches: (rv, store key, object, previous).

    The object is None for a deletion; the previous version is None for a creation (a watch with a
    selector needs both: apiserver pkg/storage/cacher/cache_watcher.go).

    Watches resume from a resourceVersion while it is still in the log; older ones get 410 Expired,
    like etcd's compacted revisions, and the client relists. `changed` wakes waiting watches.
    """

    SIZE = 10000

    def __init__(self, start_rv: int, changed: threading.Condition) -> None:
        self.start_rv = start_rv  # changes after this rv are all in the log (until it overflows)
        self.events: collections.deque[Change] = collections.deque(maxlen=self.SIZE)
        self.changed = changed

    def append(self, rv: int, store_key: str, obj: dict[str, Any] | None, prev: dict[str, Any] | None) -> None:
        if len(self.events) == self.SIZE:
            self.start_rv = self.events[0][0]
        self.events.append((rv, store_key, copy.deepcopy(obj), copy.deepcopy(prev)))
        with self.changed:  # re-entrant: writers already hold the world's lock
            self.changed.notify_all()

    def since(self, rv: int) -> list[Change]:
        return [e for e in self.events if e[0] > rv]


def clone(obj: Any) -> Any:
    return copy.deepcopy(obj)


_META_ORDER = ("name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
               "deletionTimestamp", "labels", "annotations", "ownerReferences", "finalizers", "managedFields")  # fmt: skip


def _ordered(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """Keys in the order the API server prints them (apiVersion, kind, metadata, spec, status)."""
    m = obj["metadata"]
    metadata = {k: m[k] for k in _META_ORDER if k in m} | {k: v for k, v in m.items() if k not in _META_ORDER}
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    out = {"apiVersion": rt.api_version, "kind": rt.kind, "metadata": metadata, **rest}
    if "status" in obj:
        out["status"] = obj["status"]
    return out
