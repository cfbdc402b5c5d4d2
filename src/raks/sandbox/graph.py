"""The emulated Microsoft Graph: the tenant's service principals, as far as raks uses them.

Served under `/graph` on the main server (endpoints.json `graph`); paths below are Graph's.
  GET  /v1.0/servicePrincipals(appId='{appId}')            200 the object | 404 Request_ResourceNotFound
  GET  /v1.0/servicePrincipals?$filter=appId eq '{appId}'  200 {"@odata.context", "value": [...]}
  POST /v1.0/servicePrincipals {"appId": ...}              201 the object | 403 Authorization_RequestDenied
                                                           | 409 Request_MultipleObjectsWithSameKeyValue
Rules and shapes, each from Microsoft's pages or what Graph answered in public reports:
  - addressing by appId: learn.microsoft.com/graph/api/serviceprincipal-get ("using either its id or appId");
  - errors are {"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}};
    404 text "Resource '<id>' does not exist or one of its queried reference-property objects are not
    present." (Azure/azure-cli#28009);
  - 403 "Insufficient privileges to complete the operation." without the permission
    (serviceprincipal-post-serviceprincipals; Azure/azure-cli#12939);
  - a second service principal of one app is 409 Request_MultipleObjectsWithSameKeyValue "The service
    principal cannot be created, updated, or restored because the service principal name <appId> is
    already in use." (Azure/reliable-web-app-pattern-java#185).
Other paths, filters and bodies get a 400 in the same envelope (not modelled further: raks sends none).
In a fresh sandbox the tenant holds no service principal of any app, so `up` exercises the
create; the control API (`PUT /_sandbox/graph`) adds or removes them and denies creation.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import TYPE_CHECKING, Any

from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.world import World

BY_APP_ID = re.compile(r"^/graph/v1\.0/servicePrincipals\(appId='([^']*)'\)$", re.IGNORECASE)
COLLECTION = re.compile(r"^/graph/v1\.0/servicePrincipals$", re.IGNORECASE)
FILTER_APP_ID = re.compile(r"^\s*appId\s+eq\s+'([^']*)'\s*$")
CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals"


def graph_error(status: int, code: str, message: str, req: Request) -> Response:
    request_id = str(uuid.uuid4())
    inner = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": req.headers.get("client-request-id", request_id),
    }
    return Response(status, {"error": {"code": code, "message": message, "innerError": inner}})


class GraphApi:
    def __init__(self, world: World) -> None:
        self.world = world

    @property
    def tenant(self) -> dict[str, Any]:
        state: dict[str, Any] = self.world.state.setdefault("graph", {})
        state.setdefault("service_principals", {})  # appId (lower-case) -> object
        state.setdefault("deny_create", False)
        return state

    def handle(self, req: Request) -> Response:
        m = BY_APP_ID.match(req.path)
        if m and req.method == "GET":
            sp = self.tenant["service_principals"].get(m.group(1).lower())
            if sp is None:
                return graph_error(
                    404,
                    "Request_ResourceNotFound",
                    f"Resource '{m.group(1)}' does not exist or one of its queried reference-property "
                    "objects are not present.",
                    req,
                )
            return Response(200, {"@odata.context": f"{CONTEXT}/$entity", **sp})
        if COLLECTION.match(req.path):
            if req.method == "GET":
                return self._list(req)
            if req.method == "POST":
                return self._create(req)
        return graph_error(400, "BadRequest", f"not emulated: {req.method} {req.path}", req)

    def _list(self, req: Request) -> Response:
        sps = list(self.tenant["service_principals"].values())
        expr = req.q("$filter")
        if expr is not None:
            f = FILTER_APP_ID.match(expr)
            if f is None:
                return graph_error(400, "BadRequest", f"not emulated: $filter={expr}", req)
            sps = [sp for sp in sps if sp["appId"].lower() == f.group(1).lower()]
        return Response(200, {"@odata.context": CONTEXT, "value": sps})

    def _create(self, req: Request) -> Response:
        body = req.json() or {}
        app_id = str(body.get("appId") or "")
        if not app_id:
            return graph_error(400, "BadRequest", "not emulated: a servicePrincipal without appId", req)
        if self.tenant["deny_create"]:
            return graph_error(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", req
            )
        if app_id.lower() in self.tenant["service_principals"]:
            return graph_error(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "The service principal cannot be created, updated, or restored because the service principal "
                f"name {app_id} is already in use.",
                req,
            )
        sp = self.add(app_id)
        return Response(201, {"@odata.context": CONTEXT + "/$entity", **sp}, {"Location": f"{req.path}/{sp['id']}"})

    # -- control ----------------------------------------------------------------------------
    def add(self, app_id: str) -> dict[str, Any]:
        sp = {
            "id": str(uuid.uuid4()),
            "appId": app_id,
            "accountEnabled": True,
            "servicePrincipalType": "Application",
            "servicePrincipalNames": [app_id],
        }
        self.tenant["service_principals"][app_id.lower()] = sp
        return sp

    def control(self, body: dict[str, Any]) -> Response:
        """{"present": [appId], "absent": [appId], "deny_create": bool}."""
        tenant = self.tenant
        for app_id in body.get("present") or []:
            if str(app_id).lower() not in tenant["service_principals"]:
                self.add(str(app_id))
        for app_id in body.get("absent") or []:
            tenant["service_principals"].pop(str(app_id).lower(), None)
        if "deny_create" in body:
            tenant["deny_create"] = bool(body["deny_create"])
        return Response(200, {"service_principals": sorted(tenant["service_principals"]), **self._flags()})

    def _flags(self) -> dict[str, Any]:
        return {"deny_create": self.tenant["deny_create"]}
