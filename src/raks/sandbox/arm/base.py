"""The shape every emulated resource type follows, and helpers they share."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from raks.sandbox.arm.errors import ArmError
from raks.sandbox.http import Request, Response

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi

# What ARM accepts at the top level of a resource body. Real Azure silently drops anything
# else (e.g. a snake_case dict sent by mistake); the sandbox rejects it so the mistake shows.
TOP_LEVEL = frozenset(
    {
        "id",
        "name",
        "type",
        "location",
        "tags",
        "properties",
        "sku",
        "kind",
        "identity",
        "etag",
        "zones",
        "extendedLocation",
        "plan",
        "managedBy",
        "systemData",
    }
)

Action = Callable[["ArmApi", dict[str, Any], Request], Response]


class ResourceType:
    """Per-type behaviour. Subclasses override what differs from a plain synchronous resource."""

    type: ClassVar[str] = ""  # canonical "Namespace/type[/child]"
    tracked: ClassVar[bool] = True  # has location and tags
    put_lro: ClassVar[str] = "sync"  # sync | async (Azure-AsyncOperation) | location
    delete_lro: ClassVar[str] = "sync"
    latency: ClassVar[str] = ""  # key in profiles.AZURE_SECONDS for create/update
    delete_latency: ClassVar[str] = "network.delete"
    creating_state: ClassVar[str] = "Creating"
    updating_state: ClassVar[str] = "Updating"
    has_provisioning_state: ClassVar[bool] = True
    aks_errors: ClassVar[bool] = False  # the AKS RP's unwrapped error bodies
    patchable: ClassVar[bool] = False
    actions: ClassVar[dict[str, Action]] = {}
    created_status: ClassVar[int] = 201  # some types answer 200 even when they create

    def put_mode(self, created: bool) -> str:
        return self.put_lro

    def error(self, status: int, code: str, message: str, **kw: Any) -> ArmError:
        return ArmError(status, code, message, unwrapped=self.aks_errors, **kw)

    # -- lifecycle hooks -------------------------------------------------------------------
    def build(self, api: ArmApi, rid: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        """The stored resource for a PUT body (raise ArmError for what Azure rejects)."""
        res = base_resource(self, rid, body, existing)
        res["properties"] = copy.deepcopy(body.get("properties") or {})
        return res

    def patch(self, api: ArmApi, res: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        merged = copy.deepcopy(res)
        if "tags" in body:
            merged["tags"] = body["tags"] or {}
        deep_merge(merged.setdefault("properties", {}), body.get("properties") or {})
        for key in ("sku", "kind", "identity"):
            if key in body:
                merged[key] = body[key]
        return merged

    def check_write(self, api: ArmApi, rid: str, existing: dict[str, Any] | None) -> None:
        """Refuse a write while another operation holds the resource (409)."""

    def check_delete(self, api: ArmApi, res: dict[str, Any]) -> None:
        """Refuse a delete Azure would refuse (e.g. a subnet still in use)."""

    def duration(self, api: ArmApi, res: dict[str, Any], created: bool) -> float:
        return api.world.profile.seconds(self.latency) if self.latency else 0.0

    def delete_duration(self, api: ArmApi, res: dict[str, Any]) -> float:
        return api.world.profile.seconds(self.delete_latency)

    def on_ready(self, api: ArmApi, res: dict[str, Any], created: bool) -> None:
        """Side effects once a write has completed (immediately for sync types)."""

    def lro_error(self, api: ArmApi, res: dict[str, Any], created: bool) -> dict[str, Any] | None:
        """The error an accepted long-running write will end with (Failed), or None."""
        return None

    def on_deleted(self, api: ArmApi, res: dict[str, Any]) -> None:
        """Side effects once the resource is gone."""

    def view(self, api: ArmApi, res: dict[str, Any]) -> dict[str, Any]:
        """What GET returns (computed fields are added here)."""
        return copy.deepcopy(res)

    def list_filter(self, api: ArmApi, req: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return items


def base_resource(
    spec: ResourceType, rid: str, body: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    unknown = sorted(set(body) - TOP_LEVEL)
    if unknown:
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"The request content has unknown top-level member(s) {unknown}; Azure would silently "
            "ignore them (raks sandbox check: send the SDK's model objects, not snake_case dicts).",
        )
    name = rid.rstrip("/").split("/")[-1]
    res: dict[str, Any] = {"id": rid, "name": name, "type": spec.type}
    if spec.tracked:
        location = body.get("location") or (existing or {}).get("location")
        if not location:
            raise spec.error(400, "LocationRequired", "The location property is required for this definition.")
        if existing is not None and existing.get("location", "").lower() != str(location).lower():
            raise spec.error(
                400,
                "InvalidResourceLocation",
                f"The resource '{name}' already exists in location '{existing['location']}' in resource "
                f"group. A resource with the same name cannot be created in location '{location}'.",
            )
        res["location"] = str(location).lower().replace(" ", "")
        res["tags"] = dict(body.get("tags") or {})
    return res


def deep_merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def new_guid() -> str:
    return str(uuid.uuid4())


def props(res: dict[str, Any]) -> dict[str, Any]:
    p: dict[str, Any] = res.setdefault("properties", {})
    return p
