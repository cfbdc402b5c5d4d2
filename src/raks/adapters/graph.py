"""Microsoft Graph, as far as raks needs it: the service principal of the Anyscale operator's app.

The Anyscale operator signs in to Entra ID as Anyscale's multi-tenant application; a tenant
must hold a service principal of that app (what `az ad sp create --id <appId>` makes) or every
token request of the operator fails. Plain REST through azure-core's PipelineClient with the
target's credential (no msgraph-sdk: heavy); imports are lazy.

Calls and rules (Microsoft Graph v1.0 reference, learn.microsoft.com/graph/api/...):
  GET  /v1.0/servicePrincipals(appId='{appId}')   serviceprincipal-get: "You can address the service
       principal using either its id or appId"; least privileged Application.Read.All. A missing
       one is 404 with error.code Request_ResourceNotFound (Graph's error envelope
       {"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}},
       as seen in Azure/azure-cli#28009).
  POST /v1.0/servicePrincipals {"appId": ...}      serviceprincipal-post-serviceprincipals: 201 and
       the object. Least privileged: delegated Application.ReadWrite.All (the signed-in user also
       needs an Entra role such as Application Administrator or Cloud Application Administrator,
       learn.microsoft.com/entra/identity/enterprise-apps/create-service-principal-cross-tenant);
       application Application.ReadWrite.OwnedBy covers only apps of the local tenant (Azure/azure-cli
       #28009), so for Anyscale's app an application needs Application.ReadWrite.All. Without it:
       403 Authorization_RequestDenied ("Insufficient privileges to complete the operation.").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from raks.errors import AuthError, CloudError, RaksError

if TYPE_CHECKING:
    from raks.adapters.azure.target import AzureTarget

NOT_FOUND = "Request_ResourceNotFound"
DENIED = "Authorization_RequestDenied"
READ_PERMISSION = "Application.Read.All"
CREATE_PERMISSION = (
    "Application.ReadWrite.All for an application, or the Application Administrator or Cloud Application "
    "Administrator role for a user"
)


class GraphError(CloudError):
    """A failed Graph call, with Graph's error.code (e.g. Authorization_RequestDenied)."""


def sp_create_command(app_id: str) -> str:
    return f"az ad sp create --id {app_id}"


class Graph:
    def __init__(self, target: AzureTarget) -> None:
        self.target = target
        self._client: Any = None

    def _pipeline(self) -> Any:
        if self._client is None:
            from azure.core import PipelineClient
            from azure.core.pipeline.policies import (
                BearerTokenCredentialPolicy,
                HeadersPolicy,
                RetryPolicy,
                UserAgentPolicy,
            )
            from azure.core.pipeline.transport import RequestsTransport

            from raks.adapters.azure.target import GRAPH_SCOPE

            t = self.target
            retry = {"retry_backoff_factor": t.retry_backoff_factor} if t.retry_backoff_factor is not None else {}
            policies = [
                HeadersPolicy({"Accept": "application/json"}),
                UserAgentPolicy("raks"),
                RetryPolicy(**retry),
                BearerTokenCredentialPolicy(t.get_credential(), GRAPH_SCOPE),
            ]
            transport = RequestsTransport(connection_verify=t.ca_bundle) if t.ca_bundle else RequestsTransport()
            self._client = PipelineClient(base_url=t.graph_url, policies=policies, transport=transport)
        return self._client

    def _send(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
        from azure.core.rest import HttpRequest

        url = self.target.graph_url.rstrip("/") + path
        req = HttpRequest(method, url, json=body) if body is not None else HttpRequest(method, url)
        try:
            resp = self._pipeline().send_request(req)
        except ClientAuthenticationError as exc:
            raise AuthError(f"Microsoft Graph: could not get a token: {exc.message}") from None
        except ServiceRequestError as exc:
            raise GraphError(f"Microsoft Graph did not answer: {exc.message}", code="GraphUnreachable") from None
        try:
            data = json.loads(resp.text()) if resp.text() else None
        except ValueError:
            data = None
        return resp.status_code, data

    @staticmethod
    def _error(status: int, data: Any, what: str) -> RaksError:
        err = (data or {}).get("error") if isinstance(data, dict) else None
        code = str((err or {}).get("code") or f"HTTP{status}")
        message = str((err or {}).get("message") or f"status {status}")
        if status == 401:
            return AuthError(f"Microsoft Graph {what}: {code}: {message}")
        return GraphError(f"Microsoft Graph {what}: {message}", code=code, status=status)

    def service_principal(self, app_id: str) -> dict[str, Any] | None:
        """The tenant's service principal of `app_id`, or None when there is none."""
        status, data = self._send("GET", f"/v1.0/servicePrincipals(appId='{quote(app_id)}')")
        if status == 200 and isinstance(data, dict):
            return data
        err = self._error(status, data, "read service principal")
        if status == 404 and isinstance(err, GraphError) and err.code == NOT_FOUND:
            return None
        raise err

    def create_service_principal(self, app_id: str) -> dict[str, Any]:
        status, data = self._send("POST", "/v1.0/servicePrincipals", {"appId": app_id})
        if status in (200, 201) and isinstance(data, dict):
            return data
        raise self._error(status, data, "create service principal")
