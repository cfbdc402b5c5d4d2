"""The control API under `/_sandbox/`: inject faults, set capacity, read the request log, name
the credentials it labels (by SHA-256, see `request_log`), read and write blobs (the small blob
data plane in `blobs`), set the tenant's service principals, set VM prices and spot eviction bands
and make the Retail Prices API or Resource Graph fail (`prices`, `spot`).

Tests and demos use it over HTTP (see `raks.sandbox.client.SandboxControl`), so it works the
same against an in-process emulator and a `raks sandbox serve`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from raks.sandbox.faults import FaultRule
from raks.sandbox.http import Request, Response
from raks.sandbox.state import REQUEST_LOG, new_state

if TYPE_CHECKING:
    from raks.sandbox.world import World


class ControlApi:
    def __init__(self, world: World) -> None:
        self.world = world

    def handle(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p][1:]  # drop "_sandbox"
        try:
            return self._route(req, parts)
        except (ValueError, KeyError, TypeError) as exc:
            return Response(400, {"error": {"code": "BadRequest", "message": str(exc)}})

    def _route(self, req: Request, parts: list[str]) -> Response:
        w = self.world
        state = w.state
        m = req.method
        if parts == ["health"]:
            return Response(200, {"ok": True, "subscription_id": w.subscription_id})
        if parts == ["requests"] and m == "GET":
            return Response(200, {"value": read_request_log(w, req.q("since"))})
        if parts == ["credentials"] and m == "GET":
            return Response(200, {"value": w.log.labels()})
        if len(parts) == 2 and parts[0] == "credentials" and m == "PUT":
            w.log.register(parts[1], str((req.json() or {})["sha256"]))
            return Response(204, None)
        if parts == ["faults"]:
            if m == "GET":
                return Response(200, {"value": state["faults"]})
            if m == "POST":
                rule = FaultRule.from_dict(req.json() or {})
                state["faults"].append(rule.to_dict())
                return Response(201, rule.to_dict())
            if m == "DELETE":
                state["faults"].clear()
                return Response(204, None)
        if len(parts) == 2 and parts[0] == "faults" and m == "DELETE":
            state["faults"][:] = [f for f in state["faults"] if f["id"] != parts[1]]
            return Response(204, None)
        if len(parts) == 2 and parts[0] == "capacity":
            region = parts[1].lower()
            caps = state.setdefault("capacity", {})
            if m == "PUT":
                current = caps.setdefault(region, {})
                body = req.json() or {}
                for key in ("quota",):
                    if key in body:
                        current.setdefault(key, {}).update(body[key])
                for key in ("restricted", "unavailable", "k8s_versions"):
                    if key in body:
                        current[key] = list(body[key]) if body[key] is not None else None
                        if body[key] is None:
                            current.pop(key)
            return Response(200, caps.get(region, {}))
        if len(parts) == 2 and parts[0] == "providers" and m == "PUT":
            body = req.json() or {}
            unreg = state.setdefault("capacity", {}).setdefault("_unregistered_providers", [])
            unreg[:] = [p for p in unreg if p.lower() != parts[1].lower()]
            if not body.get("registered", True):
                unreg.append(parts[1])
            return Response(200, {"namespace": parts[1], "registered": body.get("registered", True)})
        if len(parts) == 2 and parts[0] == "storage-names" and m == "PUT":
            taken = state.setdefault("capacity", {}).setdefault("_taken_storage_names", [])
            if parts[1].lower() not in taken:
                taken.append(parts[1].lower())
            return Response(200, {"taken": taken})
        if parts == ["agentpools", "scale"] and m == "POST":
            return self._scale(req.json() or {})
        if parts == ["state"] and m == "GET":
            return Response(200, state)
        if parts == ["reset"] and m == "POST":
            fresh = new_state()
            fresh["subscription_id"], fresh["tenant_id"] = state["subscription_id"], state["tenant_id"]
            state.clear()
            state.update(fresh)
            return Response(204, None)
        if parts[:1] == ["blobs"] and m in ("PUT", "GET", "DELETE"):
            from raks.sandbox import blobs

            return blobs.handle(w.arm, m, parts[1:], req.json() if m == "PUT" else None)
        if parts == ["graph"] and m in ("GET", "PUT"):
            return w.graph.control((req.json() or {}) if m == "PUT" else {})
        if parts == ["prices"] and m in ("GET", "PUT"):
            return w.prices.control((req.json() or {}) if m == "PUT" else {})
        if parts == ["spot"] and m in ("GET", "PUT"):
            from raks.sandbox.arm.t_resourcegraph import set_bands

            return set_bands(w, (req.json() or {}) if m == "PUT" else {})
        if parts == ["anyscale", "clouds"] and m == "GET":
            return Response(200, {"value": w.anyscale.clouds()})
        return Response(404, {"error": {"code": "NotFound", "message": f"no control endpoint {req.path}"}})

    def _scale(self, body: dict[str, Any]) -> Response:
        """What the cluster autoscaler does: change a pool's current node count within its bounds."""
        from raks.sandbox.arm.t_aks import _cluster_id, sync_nodes

        arm = self.world.arm
        pool = arm.get(str(body["id"]))
        if pool is None:
            return Response(404, {"error": {"code": "NotFound", "message": "no such agent pool"}})
        pool["properties"]["count"] = int(body["count"])
        cluster = arm.get(_cluster_id(pool["id"]))
        if cluster is not None:
            sync_nodes(arm, cluster)
        return Response(200, pool)


def read_request_log(world: World, since: str | None = None) -> list[dict[str, Any]]:
    path = world.dir.path / REQUEST_LOG
    start = float(since) if since else 0.0
    out = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    entry = json.loads(line)
                    if entry["start"] >= start:
                        out.append(entry)
    except FileNotFoundError:
        pass
    return out
