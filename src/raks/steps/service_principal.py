"""The service principal of the Anyscale operator's app in the tenant (platform anyscale).

The operator authenticates as Anyscale's multi-tenant app (raks.yaml anyscale.operator_app_id);
without that app's service principal in the tenant every token request of the operator fails,
which the reference setup covers with `az ad sp create --id <appId>`. `up` creates it when it is
missing; `down` never deletes it: it is tenant-wide, other clouds may use it, and raks did not
necessarily create it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raks.errors import CloudError
from raks.steps.base import CREATE, KEPT, NOOP, Context, Diff, Step

if TYPE_CHECKING:
    from raks.adapters.graph import Graph

SERVICE_PRINCIPAL = "global/operator-service-principal"
KEPT_NOTE = (
    f"{KEPT}: tenant-wide and possibly shared (other Anyscale clouds, other deployments); "
    "raks never deletes it (az ad sp delete --id <appId> removes it)"
)


def graph_client(ctx: Context) -> Graph:
    found = ctx.extra.get("graph")
    if found is None:
        raise CloudError("internal: no Microsoft Graph connection in this context")
    return found


def denied(app_id: str, exc: CloudError) -> CloudError:
    """Graph refused to create it: say which permission it takes and the command that does it."""
    from raks.adapters.graph import CREATE_PERMISSION, sp_create_command

    return CloudError(
        f"Microsoft Graph refused to create the service principal of the Anyscale operator app {app_id} "
        f"({exc.code}): creating it takes {CREATE_PERMISSION}",
        code=exc.code,
        status=exc.status,
        hint=f"have someone with that permission run: {sp_create_command(app_id)}; then re-run raks up",
    )


class ServicePrincipalStep(Step):
    key = SERVICE_PRINCIPAL

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.title = f"service principal of the Anyscale operator app {app_id}"

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        return graph_client(ctx).service_principal(self.app_id)

    def desired(self, ctx: Context) -> dict[str, Any]:
        return {"appId": self.app_id}

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        return Diff(CREATE) if observed is None else Diff(NOOP)

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        return ensure(graph_client(ctx), self.app_id)

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        return {"object_id": observed.get("id")} if observed else {}

    def destroy(self, ctx: Context) -> str:
        return KEPT_NOTE


def ensure(graph: Graph, app_id: str) -> dict[str, Any]:
    """Create the service principal; one that appeared meanwhile (409) is read back."""
    from raks.adapters.graph import DENIED, GraphError

    try:
        return graph.create_service_principal(app_id)
    except GraphError as exc:
        if exc.code == DENIED:
            raise denied(app_id, exc) from None
        # A second service principal of one app is 409 Request_MultipleObjectsWithSameKeyValue.
        if exc.code == "Request_MultipleObjectsWithSameKeyValue":
            found = graph.service_principal(app_id)
            if found is not None:
                return found
        raise
