"""The resource types an emulated API server serves: built-in ones plus those its CRDs add.

A CustomResourceDefinition created through the API registers its kinds (its group, versions,
scope and names). The ray.io (KubeRay) kinds are served only once their CRDs are installed, as on
AKS: the kuberay-operator chart's crds/ brings them (Helm installs a chart's crds/ first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status: bool = False  # has a /status subresource: writes to the main resource keep status
    generation: bool = False  # metadata.generation counts spec changes
    returns_deleted: bool = False  # DELETE answers with the object (ReturnDeletedObject) not a Status
    custom: bool = False  # served from a CRD: no strategic merge patch, kind required in bodies
    field_labels: tuple[str, ...] = ()  # fieldSelector fields beyond metadata.name/namespace

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def store_key(self) -> str:
        """Where objects live in the cluster state: one bucket per group and plural, any version."""
        return f"{self.group}/{self.plural}"

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def verbs(self) -> tuple[str, ...]:
        if self.store_key == "/namespaces":  # namespaces cannot be deleted as a collection
            return tuple(v for v in VERBS if v != "deletecollection")
        return VERBS

    def discovery(self) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        if self.status:
            entries.append(
                {
                    "name": f"{self.plural}/status",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": list(STATUS_VERBS),
                }
            )
        return entries


def _t(group: str, version: str, plural: str, kind: str, namespaced: bool = True, **kw: Any) -> ResourceType:
    return ResourceType(group, version, plural, kind.lower(), kind, namespaced, **kw)


_RBAC = "rbac.authorization.k8s.io"

BUILTIN: tuple[ResourceType, ...] = (
    _t("", "v1", "namespaces", "Namespace", False, short_names=("ns",), status=True, returns_deleted=True,
       field_labels=("status.phase",)),
    _t("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",), returns_deleted=True),
    _t("", "v1", "secrets", "Secret", field_labels=("type",)),
    _t("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    _t("", "v1", "events", "Event", short_names=("ev",), field_labels=("involvedObject.name", "reason", "type")),
    _t("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",), status=True,
       returns_deleted=True),
    _t("", "v1", "persistentvolumes", "PersistentVolume", False, short_names=("pv",), status=True,
       returns_deleted=True),
    _t("", "v1", "nodes", "Node", False, short_names=("no",), status=True, field_labels=("spec.unschedulable",)),
    _t("", "v1", "pods", "Pod", short_names=("po",), categories=("all",), status=True, generation=True,
       returns_deleted=True, field_labels=("spec.nodeName", "status.phase")),
    _t("", "v1", "services", "Service", short_names=("svc",), categories=("all",), status=True, returns_deleted=True),
    _t("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, short_names=("sc",), returns_deleted=True),
    _t("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False),
    _t("apps", "v1", "deployments", "Deployment", short_names=("deploy",), categories=("all",), status=True,
       generation=True),
    # kstatus reads a Deployment's ReplicaSets (cli-utils pkg/kstatus/polling/statusreaders/deployment.go);
    # Helm's legacy wait needs the current one; behaviors.sync_replica_sets makes it.
    _t("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",), categories=("all",), status=True,
       generation=True),
    _t("apps", "v1", "daemonsets", "DaemonSet", short_names=("ds",), categories=("all",), status=True,
       generation=True),
    _t("networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",), status=True, generation=True),
    _t("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    _t(_RBAC, "v1", "roles", "Role"),
    _t(_RBAC, "v1", "rolebindings", "RoleBinding"),
    _t(_RBAC, "v1", "clusterroles", "ClusterRole", False),
    _t(_RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _t("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False,
       short_names=("crd", "crds"), status=True, generation=True, returns_deleted=True),
)  # fmt: skip

CRD_KEY = "apiextensions.k8s.io/customresourcedefinitions"


def crd_types(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition serves (one per served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, plural, kind = spec.get("group"), names.get("plural"), names.get("kind")
    if not (group and plural and kind):
        return []
    out = []
    for v in spec.get("versions") or []:
        if not v.get("served", True) or not v.get("name"):
            continue
        out.append(
            ResourceType(
                group,
                v["name"],
                plural,
                names.get("singular") or kind.lower(),
                kind,
                spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                status="status" in (v.get("subresources") or {}),
                generation=True,
                custom=True,
            )
        )
    return out


_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version ordering: GA > beta > alpha, higher numbers first (as a sort key)."""
    m = _VERSION.match(version)
    if not m:
        return (3, 0, 0)
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stage, -int(m.group(1)), -int(m.group(3) or 0))


class Catalog:
    """What one cluster serves: the built-ins plus its CRDs' kinds (built-ins win a clash)."""

    def __init__(self, types: Iterable[ResourceType]) -> None:
        self.types: list[ResourceType] = []
        seen: set[tuple[str, str, str]] = set()
        for t in types:
            key = (t.group, t.version, t.plural)
            if key not in seen:
                seen.add(key)
                self.types.append(t)

    @classmethod
    def with_crds(cls, crds: Iterable[dict[str, Any]]) -> Catalog:
        extra = [t for crd in crds for t in crd_types(crd)]
        return cls([*BUILTIN, *extra])

    def find(self, group: str, version: str, plural: str) -> ResourceType | None:
        for t in self.types:
            if t.group == group and t.version == version and t.plural == plural:
                return t
        return None

    def find_kind(self, group: str, kind: str) -> ResourceType | None:
        for t in self.types:
            if t.group == group and t.kind == kind:
                return t
        return None

    def in_version(self, group: str, version: str) -> list[ResourceType]:
        return [t for t in self.types if t.group == group and t.version == version]

    def groups(self) -> list[tuple[str, list[str]]]:
        """Named groups in serving order, each with its versions, preferred first."""
        order: list[str] = []
        versions: dict[str, list[str]] = {}
        for t in self.types:
            if not t.group:
                continue
            if t.group not in versions:
                order.append(t.group)
                versions[t.group] = []
            if t.version not in versions[t.group]:
                versions[t.group].append(t.version)
        return [(g, sorted(versions[g], key=version_priority)) for g in order]
