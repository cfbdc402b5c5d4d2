"""Server-side printing: a meta.k8s.io/v1 Table for `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`.

`kubectl get` asks for it and prints its columns as they are. The columns per kind and how a cell
is computed follow kubernetes pkg/printers/internalversion/printers.go at v1.32.0 (`AddHandlers`,
`printNode`, `printService`, `printPod`, ...); a kind without a printer gets the generic
Name / Created At (apiserver pkg/registry/rest/table.go), a custom resource its CRD's
additionalPrinterColumns or Name / Age (apiextensions-apiserver pkg/registry/customresource/
tableconvertor). Columns with priority 1 are the `-o wide` ones. Ages are HumanDuration
(apimachinery pkg/util/duration/duration.go).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from raks.sandbox.kube.catalog import ResourceType

TABLE_MEDIA = "as=Table"
Cell = str | int | bool | None
Column = tuple[str, str, int]  # name, type, priority
NONE = "<none>"


def wants_table(accept: str) -> bool:
    """Whether the first acceptable type is a meta.k8s.io Table (kubectl lists it first)."""
    first = accept.split(",")[0]
    return TABLE_MEDIA in first and "g=meta.k8s.io" in first


def human_duration(seconds: float) -> str:
    s = round(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = int(seconds // 60)
    if minutes < 10:
        rest = int(seconds) % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = int(seconds // 3600)
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _age(obj: dict[str, Any], now: float) -> str:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC).timestamp()
    return human_duration(now - created)


def _spec(o: dict[str, Any]) -> dict[str, Any]:
    return o.get("spec") or {}


def _status(o: dict[str, Any]) -> dict[str, Any]:
    return o.get("status") or {}


def _labels(selector: dict[str, Any] | None) -> str:
    if not selector:
        return NONE
    pairs = [f"{k}={v}" for k, v in sorted(selector.items())]
    return ",".join(pairs) or NONE


def _containers(template: dict[str, Any]) -> tuple[str, str]:
    cs = (template.get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _modes(modes: list[str] | None) -> str:
    return ",".join(_MODES.get(m, m) for m in modes or [])


# -- per kind -------------------------------------------------------------------------------


def _node(o: dict[str, Any], now: float) -> list[Cell]:
    m, status = o["metadata"], _status(o)
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else ("NotReady" if ready else "Unknown")
    if _spec(o).get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = m.get("labels") or {}
    roles = sorted(
        {k.removeprefix("node-role.kubernetes.io/") for k in labels if k.startswith("node-role.kubernetes.io/")}
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []

    def address(kind: str) -> str:
        return next((a["address"] for a in addresses if a.get("type") == kind), NONE)

    return [m["name"], state, ",".join(r for r in roles if r) or NONE, _age(o, now), info.get("kubeletVersion", ""),
            address("InternalIP"), address("ExternalIP"), info.get("osImage", ""), info.get("kernelVersion", ""),
            info.get("containerRuntimeVersion", "")]  # fmt: skip


def _service(o: dict[str, Any], now: float) -> list[Cell]:
    spec = _spec(o)
    kind = spec.get("type", "ClusterIP")
    ingress = (_status(o).get("loadBalancer") or {}).get("ingress") or []
    external = list(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        external += [i.get("ip") or i.get("hostname") for i in ingress]
        external_ip = ",".join(external) if external else "<pending>"
    elif kind == "ExternalName":
        external_ip = spec.get("externalName", "")
    else:
        external_ip = ",".join(external) or NONE
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol", "TCP")
        ports.append(f"{p['port']}:{p['nodePort']}/{proto}" if p.get("nodePort") else f"{p['port']}/{proto}")
    return [o["metadata"]["name"], kind, spec.get("clusterIP") or NONE, external_ip, ",".join(ports) or NONE,
            _age(o, now), _labels(spec.get("selector"))]  # fmt: skip


def _pod(o: dict[str, Any], now: float) -> list[Cell]:
    spec, status = _spec(o), _status(o)
    containers = spec.get("containers") or []
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    reason = status.get("reason") or status.get("phase") or "Pending"
    return [o["metadata"]["name"], f"{ready}/{len(containers)}", reason, restarts, _age(o, now),
            status.get("podIP") or NONE, spec.get("nodeName") or NONE, status.get("nominatedNodeName") or NONE,
            NONE]  # fmt: skip


def _deployment(o: dict[str, Any], now: float) -> list[Cell]:
    spec, status = _spec(o), _status(o)
    names, images = _containers(spec.get("template") or {})
    return [o["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0), _age(o, now), names, images,
            _labels((spec.get("selector") or {}).get("matchLabels"))]  # fmt: skip


def _replica_set(o: dict[str, Any], now: float) -> list[Cell]:
    spec, status = _spec(o), _status(o)
    names, images = _containers(spec.get("template") or {})
    return [o["metadata"]["name"], spec.get("replicas", 1), status.get("replicas", 0),
            status.get("readyReplicas", 0), _age(o, now), names, images,
            _labels((spec.get("selector") or {}).get("matchLabels"))]  # fmt: skip


def _daemon_set(o: dict[str, Any], now: float) -> list[Cell]:
    spec, status = _spec(o), _status(o)
    template = spec.get("template") or {}
    names, images = _containers(template)
    return [o["metadata"]["name"], status.get("desiredNumberScheduled", 0), status.get("currentNumberScheduled", 0),
            status.get("numberReady", 0), status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0),
            _labels((template.get("spec") or {}).get("nodeSelector")), _age(o, now), names, images,
            _labels((spec.get("selector") or {}).get("matchLabels"))]  # fmt: skip


def _namespace(o: dict[str, Any], now: float) -> list[Cell]:
    return [o["metadata"]["name"], _status(o).get("phase", "Active"), _age(o, now)]


def _secret(o: dict[str, Any], now: float) -> list[Cell]:
    return [o["metadata"]["name"], o.get("type", "Opaque"), len(o.get("data") or {}), _age(o, now)]


def _config_map(o: dict[str, Any], now: float) -> list[Cell]:
    return [o["metadata"]["name"], len(o.get("data") or {}) + len(o.get("binaryData") or {}), _age(o, now)]


def _service_account(o: dict[str, Any], now: float) -> list[Cell]:
    return [o["metadata"]["name"], len(o.get("secrets") or []), _age(o, now)]


def _claim(o: dict[str, Any], now: float) -> list[Cell]:
    spec, status = _spec(o), _status(o)
    bound = status.get("phase") == "Bound"
    capacity = (status.get("capacity") or {}).get("storage", "") if bound else ""
    return [o["metadata"]["name"], status.get("phase", "Pending"), spec.get("volumeName", ""), capacity,
            _modes(status.get("accessModes")) if bound else "", spec.get("storageClassName", ""),
            spec.get("volumeAttributesClassName") or "<unset>", _age(o, now),
            spec.get("volumeMode", "Filesystem")]  # fmt: skip


def _volume(o: dict[str, Any], now: float) -> list[Cell]:
    spec, status = _spec(o), _status(o)
    ref = spec.get("claimRef") or {}
    claim = f"{ref['namespace']}/{ref['name']}" if ref.get("name") else ""
    return [o["metadata"]["name"], (spec.get("capacity") or {}).get("storage", ""), _modes(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy", ""), status.get("phase", ""), claim,
            spec.get("storageClassName", ""), spec.get("volumeAttributesClassName") or "<unset>",
            status.get("reason", ""), _age(o, now), spec.get("volumeMode", "Filesystem")]  # fmt: skip


def _storage_class(o: dict[str, Any], now: float) -> list[Cell]:
    name = o["metadata"]["name"]
    annotations = o["metadata"].get("annotations") or {}
    if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    return [name, o.get("provisioner", ""), o.get("reclaimPolicy", "Delete"),
            o.get("volumeBindingMode", "Immediate"), bool(o.get("allowVolumeExpansion")), _age(o, now)]  # fmt: skip


def _ingress(o: dict[str, Any], now: float) -> list[Cell]:
    spec = _spec(o)
    hosts = [r.get("host") for r in spec.get("rules") or [] if r.get("host")]
    ingress = (_status(o).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(i.get("ip") or i.get("hostname") or "" for i in ingress)
    return [o["metadata"]["name"], spec.get("ingressClassName") or NONE, ",".join(hosts) or "*", address,
            "80, 443" if spec.get("tls") else "80", _age(o, now)]  # fmt: skip


_S, _I, _B = "string", "integer", "boolean"
_AGE: Column = ("Age", _S, 0)
PRINTERS: dict[str, tuple[list[Column], Callable[[dict[str, Any], float], list[Cell]]]] = {
    "/nodes": ([("Name", _S, 0), ("Status", _S, 0), ("Roles", _S, 0), _AGE, ("Version", _S, 0),
                ("Internal-IP", _S, 1), ("External-IP", _S, 1), ("OS-Image", _S, 1), ("Kernel-Version", _S, 1),
                ("Container-Runtime", _S, 1)], _node),
    "/services": ([("Name", _S, 0), ("Type", _S, 0), ("Cluster-IP", _S, 0), ("External-IP", _S, 0),
                   ("Port(s)", _S, 0), _AGE, ("Selector", _S, 1)], _service),
    "/pods": ([("Name", _S, 0), ("Ready", _S, 0), ("Status", _S, 0), ("Restarts", _S, 0), _AGE, ("IP", _S, 1),
               ("Node", _S, 1), ("Nominated Node", _S, 1), ("Readiness Gates", _S, 1)], _pod),
    "apps/deployments": ([("Name", _S, 0), ("Ready", _S, 0), ("Up-to-date", _I, 0), ("Available", _I, 0), _AGE,
                          ("Containers", _S, 1), ("Images", _S, 1), ("Selector", _S, 1)], _deployment),
    "apps/replicasets": ([("Name", _S, 0), ("Desired", _I, 0), ("Current", _I, 0), ("Ready", _I, 0), _AGE,
                          ("Containers", _S, 1), ("Images", _S, 1), ("Selector", _S, 1)], _replica_set),
    "apps/daemonsets": ([("Name", _S, 0), ("Desired", _I, 0), ("Current", _I, 0), ("Ready", _I, 0),
                         ("Up-to-date", _I, 0), ("Available", _I, 0), ("Node Selector", _S, 0), _AGE,
                         ("Containers", _S, 1), ("Images", _S, 1), ("Selector", _S, 1)], _daemon_set),
    "/namespaces": ([("Name", _S, 0), ("Status", _S, 0), _AGE], _namespace),
    "/secrets": ([("Name", _S, 0), ("Type", _S, 0), ("Data", _S, 0), _AGE], _secret),
    "/configmaps": ([("Name", _S, 0), ("Data", _S, 0), _AGE], _config_map),
    "/serviceaccounts": ([("Name", _S, 0), ("Secrets", _S, 0), _AGE], _service_account),
    "/persistentvolumeclaims": ([("Name", _S, 0), ("Status", _S, 0), ("Volume", _S, 0), ("Capacity", _S, 0),
                                 ("Access Modes", _S, 0), ("StorageClass", _S, 0), ("VolumeAttributesClass", _S, 0),
                                 _AGE, ("VolumeMode", _S, 1)], _claim),
    "/persistentvolumes": ([("Name", _S, 0), ("Capacity", _S, 0), ("Access Modes", _S, 0),
                            ("Reclaim Policy", _S, 0), ("Status", _S, 0), ("Claim", _S, 0), ("StorageClass", _S, 0),
                            ("VolumeAttributesClass", _S, 0), ("Reason", _S, 0), _AGE, ("VolumeMode", _S, 1)],
                           _volume),
    "storage.k8s.io/storageclasses": ([("Name", _S, 0), ("Provisioner", _S, 0), ("ReclaimPolicy", _S, 0),
                                       ("VolumeBindingMode", _S, 0), ("AllowVolumeExpansion", _S, 0), _AGE],
                                      _storage_class),
    "networking.k8s.io/ingresses": ([("Name", _S, 0), ("Class", _S, 0), ("Hosts", _S, 0), ("Address", _S, 0),
                                     ("Ports", _S, 0), _AGE], _ingress),
}  # fmt: skip


def _jsonpath(obj: Any, path: str) -> Any:
    """The simple `.a.b` JSONPaths additionalPrinterColumns use."""
    for part in [p for p in path.strip().lstrip("$").split(".") if p]:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _custom(rt: ResourceType, crd: dict[str, Any] | None) -> tuple[list[Column], Callable[..., list[Cell]]]:
    version: dict[str, Any] = next((v for v in ((crd or {}).get("spec") or {}).get("versions") or [] if v.get("name") == rt.version),
                   {})  # fmt: skip
    extra = version.get("additionalPrinterColumns")
    if not extra:  # apiextensions defaults the columns to an Age column
        return [("Name", _S, 0), _AGE], lambda o, now: [o["metadata"]["name"], _age(o, now)]
    columns: list[Column] = [("Name", _S, 0)]
    columns += [(c["name"], c.get("type", _S), int(c.get("priority", 0))) for c in extra]

    def row(o: dict[str, Any], now: float) -> list[Cell]:
        cells: list[Cell] = [o["metadata"]["name"]]
        for c in extra:
            value = _jsonpath(o, c.get("jsonPath", ""))
            if c.get("type") == "date" and isinstance(value, str):
                probe = {"metadata": {"creationTimestamp": value}}
                value = _age(probe, now)
            cells.append(value if value is not None else None)
        return cells

    return columns, row


def _generic(o: dict[str, Any], now: float) -> list[Cell]:
    return [o["metadata"]["name"], o["metadata"].get("creationTimestamp")]


def table(
    rt: ResourceType,
    items: list[dict[str, Any]],
    metadata: dict[str, Any],
    now: float,
    include: str | None,
    crd: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if rt.custom:
        columns, row = _custom(rt, crd)
    elif rt.store_key in PRINTERS:
        columns, row = PRINTERS[rt.store_key]
    else:
        columns, row = [("Name", _S, 0), ("Created At", "date", 0)], _generic
    definitions = [
        {"name": n, "type": t, "format": "name" if n == "Name" else "", "description": "", "priority": p}
        for n, t, p in columns
    ]
    rows = []
    for obj in items:
        if include == "None":
            shown: dict[str, Any] | None = None
        elif include == "Object":
            shown = {**obj, "apiVersion": rt.api_version, "kind": rt.kind}
        else:
            shown = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
        rows.append({"cells": row(obj, now), "object": shown})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    }
