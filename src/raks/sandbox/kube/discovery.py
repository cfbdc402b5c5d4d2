"""Discovery documents: /version, /api, /api/v1, /apis, /apis/{group}[/{version}].

Plain (unaggregated) discovery: clients asking for the aggregated format
(`Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`) fall back to
it, as they do with an API server older than 1.26.
"""

from __future__ import annotations

from typing import Any

from raks.sandbox.http import Request, Response
from raks.sandbox.kube.catalog import Catalog
from raks.sandbox.kube.errors import method_not_allowed, no_route

BUILD_DATE = "2025-09-10T08:29:41Z"


def version_info(version: str) -> dict[str, Any]:
    major, minor, *_ = [*version.split("."), "0", "0"][:3]
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(max(int(minor) - 1, 0)) if minor.isdigit() else minor,
        "gitVersion": f"v{version}",
        "gitCommit": "0" * 40,
        "gitTreeState": "clean",
        "buildDate": BUILD_DATE,
        "goVersion": "go1.24.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _group_version(group: str, version: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/{version}", "version": version}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "versions": [_group_version(name, v) for v in versions],
        "preferredVersion": _group_version(name, versions[0]),
    }


def _resource_list(catalog: Catalog, group: str, version: str) -> dict[str, Any]:
    types = catalog.in_version(group, version)
    if not types:
        raise no_route()
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for t in types for entry in t.discovery()],
    }


def document(catalog: Catalog, version: str, req: Request, parts: list[str]) -> Response | None:
    """The discovery answer for `parts`, or None when the path is not a discovery path."""
    body = _document(catalog, version, req, parts)
    if body is None:
        return None
    if req.method not in ("GET", "HEAD"):
        raise method_not_allowed()
    if isinstance(body, str):
        return Response(200, body, content_type="text/plain; charset=utf-8")
    return Response(200, body)


def _document(catalog: Catalog, version: str, req: Request, parts: list[str]) -> dict[str, Any] | str | None:
    match parts:
        case []:
            return {
                "paths": [
                    "/api",
                    "/api/v1",
                    "/apis",
                    *_group_paths(catalog),
                    "/healthz",
                    "/livez",
                    "/readyz",
                    "/version",
                ]
            }
        case ["version"]:
            return version_info(version)
        case ["healthz" | "livez" | "readyz"]:
            return "ok"
        case ["api"]:
            host = req.headers.get("host", "127.0.0.1:443")
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
            }
        case ["api", v]:
            return _resource_list(catalog, "", v)
        case ["apis"]:
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g, vs) for g, vs in catalog.groups()]}
        case ["apis", group]:
            for name, versions in catalog.groups():
                if name == group:
                    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}
            raise no_route()
        case ["apis", group, v]:
            return _resource_list(catalog, group, v)
    return None


def _group_paths(catalog: Catalog) -> list[str]:
    out = []
    for group, versions in catalog.groups():
        out.append(f"/apis/{group}")
        out.extend(f"/apis/{group}/{v}" for v in versions)
    return out
