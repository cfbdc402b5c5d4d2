"""ARM error responses."""

from __future__ import annotations

from typing import Any

from raks.sandbox.http import Response


class ArmError(Exception):
    """An error answered as ARM does: `{"error": {"code", "message"}}`.

    `unwrapped=True` answers the bare `{"code", "message", "details", "subcode"}` body that the
    AKS resource provider sends (azure-facts.md, section 5).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        unwrapped: bool = False,
        target: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.unwrapped = unwrapped
        self.target = target
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        if self.unwrapped:
            out: dict[str, Any] = {"code": self.code, "details": None, "message": self.message, "subcode": ""}
            if self.target:
                out["target"] = self.target
            return out
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            err["target"] = self.target
        return {"error": err}

    def response(self) -> Response:
        return Response(self.status, self.body(), dict(self.headers))


def not_found(kind: str, name: str, rg: str | None = None) -> ArmError:
    where = f" under resource group '{rg}'" if rg else ""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{kind}/{name}'{where} was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix",
    )


def rg_not_found(rg: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
