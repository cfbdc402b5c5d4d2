"""The emulated Anyscale control plane, as far as the real `anyscale` CLI uses it to register clouds.

Verified against anyscale CLI 0.26.112 (PyPI), by reading its source (commands/cloud_commands.py,
controllers/cloud_controller.py, authenticate.py and the generated clients under
anyscale/client/openapi_client and anyscale/sdk/anyscale_client) and running it against this module.

Pointing the CLI here (all read by the CLI itself, nothing to patch):
  ANYSCALE_HOST=https://127.0.0.1:<port>      base URL; internal API under /api/v2, SDK API under /ext/v0
  ANYSCALE_CLI_TOKEN=sss_<anything>           sent as the cookie `cli_token=<token>`; the CLI itself
                                              refuses a token that neither starts with "sss_" nor is
                                              "a..._..." before sending anything
  ANYSCALE_SSL_CA_CERT=<ca.pem>               CA bundle for the generated clients (checked first, then
                                              REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE)
  ANYSCALE_SUPPRESS_UPGRADE_WARNING=1         skips the start-up version check (GET pypi.org, 2 s timeout)
  ANYSCALE_TELEMETRY_SAMPLE_RATE=0            skips the usage POST after each command (answered anyway)

Endpoints (method path -> CLI commands that call it):
  GET    /api/v2/userinfo/                                    every command: token check at start-up
  GET    /api/v2/userinfo/check_is_feature_flag_on?flag_key=  cloud resource delete (managed resources only)
  POST   /api/v2/cli_usage/                                   telemetry after every command (fire and forget)
  POST   /api/v2/analytics/                                   cloud register: progress events (errors ignored)
  GET    /api/v2/clouds/?name=&paging_token=&count=           cloud list
  POST   /api/v2/clouds/                  WriteCloud          cloud register (creates the cloud record)
  POST   /api/v2/clouds/find_by_name      {"name": ...}       cloud get/delete, cloud resource create/delete
  GET    /api/v2/clouds/anyscale/azure_operator_audience      cloud register --provider azure (helm hint)
  GET    /api/v2/clouds/{cloud_id}                            cloud get, cloud delete, cloud resource delete
  GET    /ext/v0/clouds/{cloud_id}                            cloud get (the SDK client)
  DELETE /api/v2/clouds/{cloud_id}?force=                     cloud delete (and register, to undo a failure)
  PUT    /api/v2/clouds/{cloud_id}/state?state=DELETING       cloud delete, when the cloud has resources
  PUT    /api/v2/clouds/{cloud_id}/add_resource  CloudDeployment   cloud register, cloud resource create
  GET    /api/v2/clouds/{cloud_id}/resources                  register, get, delete, resource create/delete
  POST   /api/v2/clouds/{cloud_id}/find_cloud_resource_by_name?cloud_resource_name=
  DELETE /api/v2/clouds/{cloud_id}/remove_resource?cloud_resource_name=   cloud resource delete

Commands that work (-y where the CLI would otherwise prompt):
  anyscale cloud register --provider azure --name <cloud> -f <resource.yaml>   (provider is case-insensitive)
  anyscale cloud resource create --cloud <cloud> -f <resource.yaml> -y
  anyscale cloud get --name <cloud> --output-format json   -> {"name", "id", "resources": [{"cloud_resource_id",
      "name", "provider", "compute_stack", "region", "object_storage", ...}]}; `cloud_resource_id`
      (cldrsrc_...) is the cloud deployment id the operator's helm chart takes as global.cloudDeploymentId
  anyscale cloud resource delete --cloud <cloud> --resource <name> -y   (not the first, "default", resource)
  anyscale cloud delete --name <cloud> -y

Response shapes: successes are {"result": {...}} or {"results": [...], "metadata": {...}}; the CLI builds
generated models from them, which raise on a missing required field (the renderers below fill them all).
Errors are {"error": {"detail": "<text>"}} (anyscale/errors.py reads error.detail, then error.message).
Behaviour where the real API could not be read off the CLI:
  - a second cloud with an existing name is 409 (find_by_name presumes names are unique);
  - a second resource with a name already in the cloud is 409: the CLI relies on that ("a retry 409s on the
    (cloud_id, name) index", cloud_controller._default_cloud_resource_name);
  - removing a cloud's first (default) resource is 400; the CLI refuses it before calling;
  - tokens "invalid" and "sss_invalid" get 401 (the latter because the CLI never sends the former).
The token is read from the request and compared, never stored, logged or echoed.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import secrets
import string
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol

from raks.config import ANYSCALE_OPERATOR_APP_ID
from raks.sandbox.http import Request, Response

REJECTED_TOKENS = frozenset({"invalid", "sss_invalid"})
# The CLI appends "/.default" to this and prints it as the operator's helm `global.auth.audience`.
AZURE_OPERATOR_AUDIENCE = f"api://{ANYSCALE_OPERATOR_APP_ID}"

USER_ID = "usr_raks_sandbox"
ORG_ID = "org_raks_sandbox"

PROVIDERS = ("AWS", "GCP", "CLOUDGATEWAY", "PCP", "GENERIC", "AZURE")
COMPUTE_STACKS = ("VM", "K8S", "KUBERAY")
CLOUD_STATES = ("CREATING", "ACTIVE", "VERIFICATION_FAILED", "DELETING", "DELETED", "CLAIMED")
# The CloudDeployment fields a client may set; ids are the server's to assign.
RESOURCE_FIELDS = (
    "name",
    "provider",
    "compute_stack",
    "region",
    "networking_mode",
    "object_storage",
    "file_storage",
    "aws_config",
    "gcp_config",
    "azure_config",
    "kubernetes_config",
    "connector_config",
)
_ID_ALPHABET = string.ascii_letters + string.digits


class WorldLike(Protocol):
    """What this API needs from the World: its persisted state and its clock."""

    state: dict[str, Any]

    def now(self) -> float: ...


Handler = Callable[[Request, dict[str, str]], Response]


class ApiError(Exception):
    """An error answer, raised from deep inside a handler and rendered by `handle`."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def error(status: int, detail: str) -> Response:
    return Response(status, {"error": {"detail": detail}})


def validation_error(field: str, message: str) -> ApiError:
    # The real API (FastAPI) answers 422 for a malformed body; the CLI prints error.detail.
    return ApiError(422, f"{field}: {message}")


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()


def request_token(req: Request) -> str:
    """The CLI token: the `cli_token` cookie (what the CLI sends) or an `Authorization: Bearer`."""
    cookie_header = req.headers.get("cookie", "")
    if cookie_header:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except CookieError:
            return ""
        if "cli_token" in cookies:
            return cookies["cli_token"].value
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


class AnyscaleApi:
    def __init__(self, world: WorldLike) -> None:
        self.world = world
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (method, re.compile(pattern), handler)
            for method, pattern, handler in (
                ("GET", r"/api/v2/userinfo", self._userinfo),
                ("GET", r"/api/v2/userinfo/check_is_feature_flag_on", self._feature_flag),
                ("POST", r"/api/v2/cli_usage", self._accepted),
                ("POST", r"/api/v2/analytics", self._accepted),
                ("GET", r"/api/v2/clouds", self._list_clouds),
                ("POST", r"/api/v2/clouds", self._create_cloud),
                ("POST", r"/api/v2/clouds/find_by_name", self._find_cloud_by_name),
                ("GET", r"/api/v2/clouds/anyscale/azure_operator_audience", self._azure_audience),
                ("GET", r"/(?:api/v2|ext/v0)/clouds/(?P<cloud_id>[^/]+)", self._get_cloud),
                ("DELETE", r"/api/v2/clouds/(?P<cloud_id>[^/]+)", self._delete_cloud),
                ("PUT", r"/api/v2/clouds/(?P<cloud_id>[^/]+)/state", self._set_cloud_state),
                ("PUT", r"/api/v2/clouds/(?P<cloud_id>[^/]+)/add_resource", self._add_resource),
                ("GET", r"/api/v2/clouds/(?P<cloud_id>[^/]+)/resources", self._list_resources),
                (
                    "POST",
                    r"/api/v2/clouds/(?P<cloud_id>[^/]+)/find_cloud_resource_by_name",
                    self._find_resource_by_name,
                ),
                ("DELETE", r"/api/v2/clouds/(?P<cloud_id>[^/]+)/remove_resource", self._remove_resource),
            )
        ]

    # -- plain methods for the sandbox control API and tests -------------------------------
    def clouds(self) -> list[dict[str, Any]]:
        """Every registered cloud as the API shows it, each with its `resources` (first = default).

        A deep copy: callers may keep or change it without touching the persisted state.
        """
        clouds = [{**self._render_cloud(c), "resources": self._render_resources(c)} for c in self._clouds().values()]
        return copy.deepcopy(clouds)

    # -- dispatch ---------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        token = request_token(req)
        if not token or token in REJECTED_TOKENS:
            # Same words for a missing and a wrong token; the token itself is never repeated.
            return error(401, "Invalid or expired credentials. Please log in again.")
        path = req.path.rstrip("/") or "/"
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            allowed = True
            if method == req.method:
                try:
                    return handler(req, match.groupdict())
                except ApiError as e:
                    return error(e.status, e.detail)
        return error(405, "Method Not Allowed") if allowed else error(404, "Not Found")

    # -- state ------------------------------------------------------------------------------
    def _clouds(self) -> dict[str, dict[str, Any]]:
        """Cloud records by id, in registration order (created on first use, so old states load)."""
        mine: dict[str, Any] = self.world.state.setdefault("anyscale", {})
        clouds: dict[str, dict[str, Any]] = mine.setdefault("clouds", {})
        return clouds

    def _cloud(self, cloud_id: str) -> dict[str, Any]:
        cloud = self._clouds().get(cloud_id)
        if cloud is None:
            raise ApiError(404, f"Cloud {cloud_id} not found.")
        return cloud

    def _cloud_named(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self._clouds().values() if c["name"] == name), None)

    @staticmethod
    def _resource_named(cloud: dict[str, Any], name: str) -> dict[str, Any]:
        for resource in cloud["resources"]:
            if resource["name"] == name:
                return dict(resource)
        raise ApiError(404, f"Cloud resource {name} not found in cloud {cloud['name']}.")

    # -- rendering (every field the CLI's generated models require) --------------------------
    def _render_cloud(self, cloud: dict[str, Any]) -> dict[str, Any]:
        public = {k: v for k, v in cloud.items() if k not in ("resources", "created_at")}
        return {
            **public,
            "credentials": "",
            "type": "PUBLIC",
            "creator_id": USER_ID,
            "created_at": iso(cloud["created_at"]),
            "is_default": self._default_cloud_id() == cloud["id"],
            "is_aioa": False,
            "status": "READY" if cloud["resources"] else "PENDING",
            "version": "V2",
            "customer_aggregated_logs_config_id": "",
        }

    @staticmethod
    def _render_resource(resource: dict[str, Any]) -> dict[str, Any]:
        # cloud_deployment_id is the deprecated name of cloud_resource_id; both carry the same id.
        return {
            **resource,
            "cloud_deployment_id": resource["cloud_resource_id"],
            "created_at": iso(resource["created_at"]),
        }

    def _render_resources(self, cloud: dict[str, Any]) -> list[dict[str, Any]]:
        return [{**self._render_resource(r), "is_default": i == 0} for i, r in enumerate(cloud["resources"])]

    def _default_cloud_id(self) -> str | None:
        # The organisation's default cloud is its first one, as on a fresh Anyscale organisation.
        return next(iter(self._clouds()), None)

    # -- user and housekeeping endpoints --------------------------------------------------------
    def _userinfo(self, req: Request, params: dict[str, str]) -> Response:
        organization = {
            "id": ORG_ID,
            "name": "raks sandbox",
            "public_identifier": ORG_ID,
            "default_cloud_id": self._default_cloud_id(),
            "is_general_platform_enabled": True,
            "is_private_endpoints_enabled": False,
            "is_usage_blocked": False,
        }
        user = {
            "id": USER_ID,
            "email": "sandbox@raks.invalid",
            "name": "raks sandbox",
            "username": "raks-sandbox",
            "verified": True,
            "organization_permission_level": "OWNER",
            "organization_ids": [ORG_ID],
            "organizations": [organization],
            "has_setup_cloud": bool(self._clouds()),
            "ld_hash": "",
            "ld_hash_fields": [],
            "pylon_hash": "",
        }
        return Response(200, {"result": user})

    def _feature_flag(self, req: Request, params: dict[str, str]) -> Response:
        return Response(200, {"result": {"is_on": False}})

    def _accepted(self, req: Request, params: dict[str, str]) -> Response:
        # Telemetry and analytics: the CLI ignores the answer, so swallow the payload.
        return Response(200, {})

    def _azure_audience(self, req: Request, params: dict[str, str]) -> Response:
        return Response(200, {"result": {"azure_operator_audience": AZURE_OPERATOR_AUDIENCE}})

    # -- clouds ------------------------------------------------------------------------------
    def _list_clouds(self, req: Request, params: dict[str, str]) -> Response:
        name = req.q("name")
        clouds = [self._render_cloud(c) for c in self._clouds().values() if name is None or c["name"] == name]
        return Response(200, {"results": clouds, "metadata": {"total": len(clouds), "next_paging_token": None}})

    def _create_cloud(self, req: Request, params: dict[str, str]) -> Response:
        body = json_object(req)
        name = required_str(body, "name")
        provider = enum_value(body, "provider", PROVIDERS, required=True)
        region = required_str(body, "region")
        compute_stack = enum_value(body, "compute_stack", COMPUTE_STACKS) or "VM"
        if self._cloud_named(name) is not None:
            raise ApiError(409, f"Cloud with name {name} already exists.")
        cloud_id = new_id("cld_")
        cloud: dict[str, Any] = {
            "id": cloud_id,
            "name": name,
            "provider": provider,
            "region": region,
            "compute_stack": compute_stack,
            "is_k8s": compute_stack == "K8S",
            "is_bring_your_own_resource": bool(body.get("is_bring_your_own_resource", True)),
            "cluster_management_stack_version": body.get("cluster_management_stack_version") or "V2",
            "auto_add_user": bool(body.get("auto_add_user", False)),
            "state": "CREATING",
            "created_at": self.world.now(),
            "resources": [],
        }
        self._clouds()[cloud_id] = cloud
        return Response(200, {"result": self._render_cloud(cloud)})

    def _find_cloud_by_name(self, req: Request, params: dict[str, str]) -> Response:
        name = required_str(json_object(req), "name")
        cloud = self._cloud_named(name)
        if cloud is None:
            raise ApiError(404, f"Cloud with name {name} not found.")
        return Response(200, {"result": self._render_cloud(cloud)})

    def _get_cloud(self, req: Request, params: dict[str, str]) -> Response:
        return Response(200, {"result": self._render_cloud(self._cloud(params["cloud_id"]))})

    def _delete_cloud(self, req: Request, params: dict[str, str]) -> Response:
        self._cloud(params["cloud_id"])
        # Gone at once: the real API's "DELETED" records are invisible to every call the CLI makes.
        del self._clouds()[params["cloud_id"]]
        return Response(200, {})

    def _set_cloud_state(self, req: Request, params: dict[str, str]) -> Response:
        cloud = self._cloud(params["cloud_id"])
        state = req.q("state")
        if state not in CLOUD_STATES:
            raise validation_error("state", f"must be one of {', '.join(CLOUD_STATES)}")
        cloud["state"] = state
        return Response(200, {})

    # -- cloud resources -----------------------------------------------------------------------
    def _add_resource(self, req: Request, params: dict[str, str]) -> Response:
        cloud = self._cloud(params["cloud_id"])
        resource = self._new_resource(json_object(req), cloud)
        cloud["resources"].append(resource)
        cloud["state"] = "ACTIVE"
        return Response(200, {"result": self._render_resource(resource)})

    def _new_resource(self, body: dict[str, Any], cloud: dict[str, Any]) -> dict[str, Any]:
        fields = {key: body[key] for key in RESOURCE_FIELDS if body.get(key) is not None}
        fields["provider"] = enum_value(body, "provider", PROVIDERS, required=True)
        compute_stack = enum_value(body, "compute_stack", COMPUTE_STACKS)
        for key in ("object_storage", "file_storage", "azure_config", "kubernetes_config"):
            if key in fields and not isinstance(fields[key], dict):
                raise validation_error(key, "must be an object")
        name = fields.get("name") or self._generated_name(cloud, compute_stack, fields)
        if any(r["name"] == name for r in cloud["resources"]):
            raise ApiError(409, f"Cloud resource with name {name} already exists in cloud {cloud['name']}.")
        return {**fields, "name": name, "cloud_resource_id": new_id("cldrsrc_"), "created_at": self.world.now()}

    @staticmethod
    def _generated_name(cloud: dict[str, Any], compute_stack: str | None, fields: dict[str, Any]) -> str:
        # The backend's base name (as the CLI spells it) plus a uniquifier when taken.
        base = f"{(compute_stack or 'VM').lower()}-{fields['provider'].lower()}-{fields.get('region', '')}"
        taken = {r["name"] for r in cloud["resources"]}
        return next(n for n in (base, *(f"{base}-{i}" for i in range(2, 10_000))) if n not in taken)

    def _list_resources(self, req: Request, params: dict[str, str]) -> Response:
        resources = self._render_resources(self._cloud(params["cloud_id"]))
        return Response(200, {"results": resources, "metadata": {"total": len(resources), "next_paging_token": None}})

    def _find_resource_by_name(self, req: Request, params: dict[str, str]) -> Response:
        cloud = self._cloud(params["cloud_id"])
        name = req.q("cloud_resource_name") or ""
        wanted = self._resource_named(cloud, name)
        rendered = next(r for r in self._render_resources(cloud) if r["name"] == wanted["name"])
        return Response(200, {"result": rendered})

    def _remove_resource(self, req: Request, params: dict[str, str]) -> Response:
        cloud = self._cloud(params["cloud_id"])
        name = req.q("cloud_resource_name") or ""
        self._resource_named(cloud, name)
        if cloud["resources"][0]["name"] == name:
            raise ApiError(
                400, f"Cloud resource {name} is the primary resource of cloud {cloud['name']}; delete the cloud."
            )
        cloud["resources"] = [r for r in cloud["resources"] if r["name"] != name]
        return Response(200, {})


# -- body parsing -----------------------------------------------------------------------------
def json_object(req: Request) -> dict[str, Any]:
    try:
        body = req.json()
    except ValueError as e:
        raise validation_error("body", f"not JSON ({e})") from None
    if not isinstance(body, dict):
        raise validation_error("body", "must be a JSON object")
    return body


def required_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise validation_error(key, "field required")
    return value


def enum_value(body: dict[str, Any], key: str, allowed: tuple[str, ...], *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if value not in allowed:
        raise validation_error(key, f"must be one of {', '.join(allowed)}")
    return str(value)
