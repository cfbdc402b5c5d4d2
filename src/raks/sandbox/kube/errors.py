"""Kubernetes API errors as the `Status` objects a real kube-apiserver sends.

Reasons, codes, message wording and `details` follow k8s.io/apimachinery's `errors` package:
NotFound/AlreadyExists/Conflict name the *resource* (`storageclasses.storage.k8s.io "x"`, details
kind = the plural), Invalid names the *kind* (`StorageClass.storage.k8s.io "x" is invalid: ...`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from raks.sandbox.kube.catalog import ResourceType


@dataclass(frozen=True)
class FieldError:
    """One validation failure: `field: detail` in the message, one `cause` in the details."""

    field: str
    reason: str  # FieldValueInvalid | FieldValueForbidden | FieldValueRequired | FieldValueNotSupported
    detail: str

    @property
    def text(self) -> str:
        return f"{self.field}: {self.detail}"


def invalid_value(field: str, value: Any, why: str) -> FieldError:
    return FieldError(field, "FieldValueInvalid", f"Invalid value: {json.dumps(value)}: {why}")


def forbidden_field(field: str, why: str) -> FieldError:
    return FieldError(field, "FieldValueForbidden", f"Forbidden: {why}")


def required(field: str, why: str = "") -> FieldError:
    return FieldError(field, "FieldValueRequired", f"Required value: {why}" if why else "Required value")


def not_supported(field: str, value: Any, allowed: list[str]) -> FieldError:
    options = ", ".join(json.dumps(a) for a in allowed)
    return FieldError(
        field, "FieldValueNotSupported", f"Unsupported value: {json.dumps(value)}: supported values: {options}"
    )


class KubeError(Exception):
    """Raised anywhere in the emulator; the router turns it into a Status response."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(rt: ResourceType, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    return details


def not_found(rt: ResourceType, name: str) -> KubeError:
    return KubeError(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def already_exists(rt: ResourceType, name: str) -> KubeError:
    return KubeError(409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name))


def conflict(rt: ResourceType, name: str) -> KubeError:
    return KubeError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {rt.qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(rt, name),
    )


def forbidden(rt: ResourceType, name: str, why: str) -> KubeError:
    return KubeError(403, "Forbidden", f'{rt.qualified} "{name}" is forbidden: {why}', _details(rt, name))


def invalid(group: str, kind: str, name: str, errors: list[FieldError]) -> KubeError:
    texts = [e.text for e in errors]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    group_kind = f"{kind}.{group}" if group else kind
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [{"reason": e.reason, "message": e.detail, "field": e.field} for e in errors]
    return KubeError(422, "Invalid", f'{group_kind} "{name}" is invalid: {summary}', details)


def invalid_object(rt: ResourceType, name: str, errors: list[FieldError]) -> KubeError:
    return invalid(rt.group, rt.kind, name, errors)


def bad_request(message: str) -> KubeError:
    return KubeError(400, "BadRequest", message)


def unauthorized() -> KubeError:
    return KubeError(401, "Unauthorized", "Unauthorized")


def method_not_allowed() -> KubeError:
    return KubeError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def no_route() -> KubeError:
    return KubeError(404, "NotFound", "the server could not find the requested resource", {})


def unsupported_media_type(accepted: list[str]) -> KubeError:
    return KubeError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: " + ", ".join(accepted),
        {},
    )


def not_acceptable(supported: list[str]) -> KubeError:
    # apimachinery pkg/api/errors NewNotAcceptable / negotiation.NewNotAcceptableError's message
    return KubeError(406, "NotAcceptable", "only the following media types are accepted: " + ", ".join(supported), {})


def apply_conflicts(rt: ResourceType, name: str, conflicts: list[tuple[str, str]]) -> KubeError:
    """409 for a server-side apply that would take fields another manager owns ([(path, manager)])."""
    using = f"using {rt.api_version}"
    if len(conflicts) == 1:
        path, manager = conflicts[0]
        summary = f'conflict with "{manager}" {using}: {path}'
    else:
        lines: list[str] = []
        for manager in sorted({m for _, m in conflicts}):
            lines.append(f'conflicts with "{manager}" {using}:')
            lines.extend(f"- {p}" for p, m in conflicts if m == manager)
        summary = "\n".join(lines)
    plural = "conflict" if len(conflicts) == 1 else "conflicts"
    details = _details(rt, name)
    details["causes"] = [
        {"reason": "FieldManagerConflict", "message": f'conflict with "{m}" {using}', "field": p} for p, m in conflicts
    ]
    return KubeError(409, "Conflict", f"Apply failed with {len(conflicts)} {plural}: {summary}", details)
