"""Translate SDK exceptions into raks errors, by HTTP status and Azure's `error.code`."""

from __future__ import annotations

from typing import Any

from raks.errors import AuthError, CloudError, RaksError

QUOTA_CODES = frozenset(
    {
        "ErrCode_InsufficientVCPUQuota",
        "QuotaExceeded",
        "OperationNotAllowed.Quota",
        "InsufficientVCPUQuota",
    }
)
CAPACITY_CODES = frozenset(
    {
        "SkuNotAvailable",
        "AllocationFailed",
        "ZonalAllocationFailed",
        "OverconstrainedAllocationRequest",
        "OverconstrainedZonalAllocationRequest",
        "AksCapacityHeavyUsage",
    }
)
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class AzureCallError(CloudError):
    """A failed ARM call; `kind` is one of auth, transient, conflict, quota, capacity, not_found, other."""

    def __init__(self, message: str, *, kind: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.kind = kind


def error_code(exc: Any) -> str | None:
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    if code:
        return str(code)
    return None


def translate(exc: Exception, *, what: str = "") -> RaksError:
    """An SDK/transport exception as a raks error (never matching on message text)."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    prefix = f"{what}: " if what else ""
    if isinstance(exc, ClientAuthenticationError) and getattr(exc, "status_code", None) is None:
        return AuthError(
            f"{prefix}could not get an Azure token: {_first_line(exc)}",
            hint="run 'az login' or set AZURE_* credentials",
        )
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        code = error_code(exc) or (exc.reason or "")
        message = _first_line(getattr(getattr(exc, "error", None), "message", None) or exc.message or str(exc))
        if status in (401, 403):
            return AuthError(f"{prefix}{code}: {message}", hint="check the identity's role assignments and login")
        if code in QUOTA_CODES:
            kind = "quota"
        elif code in CAPACITY_CODES:
            kind = "capacity"
        elif status == 404:
            kind = "not_found"
        elif status == 409:
            kind = "conflict"
        elif status in TRANSIENT_STATUS:
            kind = "transient"
        else:
            kind = "other"
        return AzureCallError(f"{prefix}{message}", kind=kind, code=code or None, status=status)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return AzureCallError(
            f"{prefix}connection failed: {_first_line(exc)}", kind="transient", code="ConnectionError"
        )
    return AzureCallError(f"{prefix}{type(exc).__name__}: {_first_line(exc)}", kind="other")


def _first_line(value: Any) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""
