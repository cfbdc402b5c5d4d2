"""The shared user-assigned identity, and one federated credential per cluster."""

from __future__ import annotations

from typing import Any

from raks import names
from raks.config import FIC_AUDIENCE
from raks.steps.arm_step import ArmStep
from raks.steps.base import Context

IDENTITY = "global/identity"


class IdentityStep(ArmStep):
    kind = "identity"
    key = IDENTITY
    needs = ("global/resource-group",)

    def __init__(self, rg: str, name: str) -> None:
        self.rg, self.name = rg, name
        self.title = f"identity {name}"

    def path(self, ctx: Context) -> tuple[str, ...]:
        return (self.rg, self.name)

    def body(self, ctx: Context) -> dict[str, Any]:
        return {"location": ctx.cfg.resolved_primary_region()}

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        p = (observed or {}).get("properties") or {}
        return {
            "id": (observed or {}).get("id"),
            "principal_id": p.get("principalId"),
            "client_id": p.get("clientId"),
            "tenant_id": p.get("tenantId"),
        }


class FederatedCredentialStep(ArmStep):
    """Binds the cluster's OIDC issuer to the operator's service account. Azure rejects
    concurrent credential writes on one identity, so these share a lock."""

    kind = "federated_credential"
    owned = ("properties.issuer", "properties.subject", "properties.audiences")
    tracked = False

    def __init__(self, rg: str, identity: str, region: str) -> None:
        self.rg, self.identity, self.region = rg, identity, region
        self.key = f"{region}/federated-credential"
        self.needs = (IDENTITY, f"{region}/cluster")
        self.lock = f"fic:{identity}"
        self.fic_name = ""
        self.title = "federated credential"

    def path(self, ctx: Context) -> tuple[str, ...]:
        self.fic_name = names.region_names(ctx.cfg, self.in_region).federated_credential
        self.title = f"federated credential {self.fic_name}"
        return (self.rg, self.identity, self.fic_name)

    def owner(self, ctx: Context) -> tuple[str, tuple[str, ...]] | None:
        return ("identity", (self.rg, self.identity))

    def body(self, ctx: Context) -> dict[str, Any]:
        namespace, account = names.workload_identity(ctx.cfg)
        subject = f"system:serviceaccount:{namespace}:{account}"
        return {
            "properties": {
                "issuer": ctx.out(f"{self.region}/cluster", "issuer_url"),
                "subject": subject,
                "audiences": [FIC_AUDIENCE],
            }
        }
