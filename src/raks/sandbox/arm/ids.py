"""Parsing ARM request paths into scopes, resource types and names.

ARM ids are case-insensitive: the store is keyed by the lower-cased id, while responses use
canonical casing (`resourceGroups`, the type names as the providers spell them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourcePath:
    """`{scope}/providers/{namespace}/{type}/{name}[/{type}/{name}...][/{tail}]`."""

    scope: list[str]  # segments before the last "providers"
    namespace: str
    pairs: list[tuple[str, str]]  # (type segment, name)
    tail: str | None  # a collection type (list) or an action name (POST)

    @property
    def type_names(self) -> list[str]:
        return [t for t, _ in self.pairs]

    def full_type(self, extra: str | None = None) -> str:
        names = self.type_names + ([extra] if extra else [])
        return "/".join([self.namespace, *names])

    @property
    def subscription(self) -> str | None:
        if len(self.scope) >= 2 and self.scope[0].lower() == "subscriptions":
            return self.scope[1]
        return None

    @property
    def resource_group(self) -> str | None:
        if len(self.scope) >= 4 and self.scope[2].lower() == "resourcegroups":
            return self.scope[3]
        return None


def segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s != ""]


def parse_provider_path(segs: list[str]) -> ResourcePath | None:
    """Split at the LAST `providers` segment (extension resources sit on another resource)."""
    idx = None
    for i in range(len(segs) - 1, -1, -1):
        if segs[i].lower() == "providers" and i + 1 < len(segs):
            idx = i
            break
    if idx is None:
        return None
    rest = segs[idx + 2 :]
    pairs = [(rest[i], rest[i + 1]) for i in range(0, len(rest) - 1, 2)]
    tail = rest[-1] if len(rest) % 2 == 1 else None
    return ResourcePath(segs[:idx], segs[idx + 1], pairs, tail)


def canonical_scope(scope: list[str]) -> str:
    """'/subscriptions/{s}/resourceGroups/{rg}' with ARM's casing; other scopes as given."""
    out = []
    for i, seg in enumerate(scope):
        low = seg.lower()
        if i % 2 == 0 and low == "subscriptions":
            out.append("subscriptions")
        elif i % 2 == 0 and low == "resourcegroups":
            out.append("resourceGroups")
        else:
            out.append(seg)
    return "/" + "/".join(out) if out else ""


def key(resource_id: str) -> str:
    return resource_id.lower().rstrip("/")


def parent_id(resource_id: str) -> str:
    """The parent: a child's parent resource; for a top-level resource its scope (the
    resource group, or the resource an extension resource such as a role assignment sits on)."""
    segs = segments(resource_id)
    if len(segs) >= 4 and segs[-4].lower() == "providers":
        return "/" + "/".join(segs[:-4])
    return "/" + "/".join(segs[:-2])
