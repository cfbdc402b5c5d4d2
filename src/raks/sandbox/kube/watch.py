"""Watches: `?watch=true` on a collection (or one object), streamed as newline-delimited JSON.

What a watch sends (Kubernetes API concepts, "Efficient detection of changes" and "Streaming
lists", https://kubernetes.io/docs/reference/using-api/api-concepts/; the client side is
client-go tools/cache/reflector.go at v1.32.0):
- `resourceVersion` unset or "0": synthetic ADDED events for what exists, then changes.
- `resourceVersion=N`: every change after N; a resourceVersion older than the cluster's event log
  gets one ERROR event with a 410 Expired Status ("too old resource version"), and the client
  relists.
- `sendInitialEvents=true` (the reflector's WatchList, with `resourceVersionMatch=NotOlderThan`
  and `allowWatchBookmarks=true`): ADDED events for what exists, then a BOOKMARK annotated
  `k8s.io/initial-events-end: "true"`, then changes.
- `allowWatchBookmarks=true`: a BOOKMARK (kind, apiVersion and metadata.resourceVersion only)
  when the watch has been idle for `BOOKMARK_SECONDS`.
- The stream ends after `timeoutSeconds` (default: the API server's 30-60 min, here 30 min).

A MODIFIED object that stops matching the selectors is sent as DELETED, one that starts matching as
ADDED (apiserver pkg/storage/cacher/cache_watcher.go). Lazily timed controllers (`operator.settle`)
are settled while the watch waits, so a watcher sees a RayJob or a Service move on by itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from raks.sandbox.kube import operator
from raks.sandbox.kube.catalog import ResourceType
from raks.sandbox.kube.errors import KubeError, bad_request
from raks.sandbox.kube.store import Cluster, clone, meta

if TYPE_CHECKING:
    from raks.sandbox.kube import KubeRouter

POLL_SECONDS = 0.1
BOOKMARK_SECONDS = 5.0
DEFAULT_TIMEOUT = 1800.0
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def _event(kind: str, obj: dict[str, Any], rt: ResourceType) -> bytes:
    body = clone(obj)
    body["apiVersion"], body["kind"] = rt.api_version, rt.kind
    return json.dumps({"type": kind, "object": body}).encode() + b"\n"


def _bookmark(rt: ResourceType, rv: int, initial_end: bool = False) -> bytes:
    m: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        m["annotations"] = {INITIAL_EVENTS_END: "true"}
    obj = {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": m}
    return json.dumps({"type": "BOOKMARK", "object": obj}).encode() + b"\n"


def _expired(rv: int, oldest: int) -> bytes:
    status = KubeError(410, "Expired", f"too old resource version: {rv} ({oldest})").status()
    return json.dumps({"type": "ERROR", "object": status}).encode() + b"\n"


def _int(value: str | None, field: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"invalid value for {field}: {value!r}") from None


class Watch:
    """One watch request's parameters, checked before the stream starts (bad ones are a 400)."""

    def __init__(
        self,
        router: KubeRouter,
        cluster: Cluster,
        rt: ResourceType,
        namespace: str,
        matches: Callable[[dict[str, Any]], bool],
        query: Callable[[str], str | None],
    ) -> None:
        self.router, self.key, self.rt, self.namespace, self.matches = router, cluster.key, rt, namespace, matches
        self.bookmarks = (query("allowWatchBookmarks") or "").lower() in ("true", "1")
        self.initial = (query("sendInitialEvents") or "").lower() in ("true", "1")
        if self.initial and (query("resourceVersionMatch") != "NotOlderThan" or not self.bookmarks):
            # apimachinery pkg/apis/meta/internalversion/validation: sendInitialEvents needs both
            raise KubeError(
                422,
                "Invalid",
                "sendInitialEvents is forbidden unless resourceVersionMatch is NotOlderThan and "
                "allowWatchBookmarks is true",
            )
        rv = _int(query("resourceVersion"), "resourceVersion")
        self.rv = rv or None
        timeout = _int(query("timeoutSeconds"), "timeoutSeconds")
        self.deadline = time.monotonic() + (timeout if timeout and timeout > 0 else DEFAULT_TIMEOUT)

    def _in_scope(self, store_key: str, obj: dict[str, Any]) -> bool:
        if store_key != self.rt.store_key:
            return False
        return not (self.rt.namespaced and self.namespace and meta(obj).get("namespace") != self.namespace)

    def stream(self) -> Iterator[bytes]:
        """Chunks to send; b"" means "nothing yet" (the server checks the client is still there)."""
        world = self.router.world
        with world.lock:
            cluster = self.router.cluster(self.key)
            if cluster is None or cluster.log is None:
                return
            operator.settle(cluster)
            log = cluster.log
            current = int(cluster.resource_version)
            out: list[bytes] = []
            if self.rv is None or self.initial:
                out += [_event("ADDED", o, self.rt) for o in cluster.items(self.rt, self.namespace) if self.matches(o)]
                last = current
                if self.initial:
                    out.append(_bookmark(self.rt, current, initial_end=True))
            elif self.rv < log.start_rv:
                out.append(_expired(self.rv, log.start_rv + 1))
                last = -1
            else:
                last = self.rv
        yield b"".join(out)
        if last < 0:
            return
        idle_since = time.monotonic()
        while time.monotonic() < self.deadline:
            with world.lock:
                cluster = self.router.cluster(self.key)
                if cluster is None:
                    return
                operator.settle(cluster)
                events = log.since(last)
                if not events:
                    log.changed.wait(POLL_SECONDS)
                    events = log.since(last)
                chunks = []
                for rv, store_key, obj, prev in events:
                    last = rv
                    if self._in_scope(store_key, obj or prev or {}):
                        chunk = self._translate(obj, prev)
                        if chunk:
                            chunks.append(chunk)
            if chunks:
                idle_since = time.monotonic()
                yield b"".join(chunks)
            elif self.bookmarks and time.monotonic() - idle_since >= BOOKMARK_SECONDS:
                idle_since = time.monotonic()
                yield _bookmark(self.rt, last)
            else:
                yield b""

    def _translate(self, obj: dict[str, Any] | None, prev: dict[str, Any] | None) -> bytes:
        # apiserver pkg/storage/cacher/cache_watcher.go convertToWatchEvent: by whether the new and
        # the previous version pass the selectors.
        now = obj is not None and self.matches(obj)
        before = prev is not None and self.matches(prev)
        if now and before:
            return _event("MODIFIED", obj, self.rt)  # type: ignore[arg-type]
        if now:
            return _event("ADDED", obj, self.rt)  # type: ignore[arg-type]
        if before:  # deleted (the last version, at the deletion's resourceVersion), or no longer matching
            return _event("DELETED", prev if obj is None else obj, self.rt)  # type: ignore[arg-type]
        return b""

    def start(self) -> Iterator[bytes]:
        return self.stream()
