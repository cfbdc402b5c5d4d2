"""A small blob data plane, reached through the control API only (`/_sandbox/blobs/...`).

Enough to show what happens to data: a blob lives while its container and account live, and
goes when either is deleted (the storage types' on_deleted hooks call `drop`). Stored as
state["blobs"][account][container][name] = base64 content; accounts are keyed by their
(globally unique) name, as the blob endpoint `https://<account>.blob.core.windows.net` is.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from raks.sandbox.http import Response

if TYPE_CHECKING:
    from raks.sandbox.arm import ArmApi

ACCOUNT_TYPE = "microsoft.storage/storageaccounts"


def _store(state: dict[str, Any]) -> dict[str, Any]:
    blobs: dict[str, Any] = state.setdefault("blobs", {})
    return blobs


def _missing(code: str, message: str) -> Response:
    return Response(404, {"error": {"code": code, "message": message}})


def _container_exists(api: ArmApi, account: str, container: str) -> Response | None:
    """None when the container exists, else the data plane's 404."""
    found = next(
        (r for r in api.store.values() if r["type"].lower() == ACCOUNT_TYPE and r["name"].lower() == account.lower()),
        None,
    )
    if found is None:
        return _missing("StorageAccountNotFound", f"The storage account {account} does not exist.")
    if api.get(f"{found['id']}/blobServices/default/containers/{container}") is None:
        return _missing("ContainerNotFound", "The specified container does not exist.")
    return None


def handle(api: ArmApi, method: str, parts: list[str], body: Any) -> Response:
    """parts: [account, container] (GET: list) or [account, container, *blob name] (PUT/GET/DELETE)."""
    if len(parts) < 2:
        return _missing("NotFound", "use /_sandbox/blobs/{account}/{container}[/{blob}]")
    account, container, name = parts[0].lower(), parts[1], "/".join(parts[2:])
    missing = _container_exists(api, account, container)
    if missing is not None:
        return missing
    blobs: dict[str, str] = _store(api.world.state).setdefault(account, {}).setdefault(container, {})
    if not name:
        if method != "GET":
            return Response(405, {"error": {"code": "MethodNotAllowed", "message": "list with GET"}})
        items = [{"name": n, "size": len(base64.b64decode(v))} for n, v in sorted(blobs.items())]
        return Response(200, {"value": items})
    if method == "PUT":
        content = str((body or {}).get("content") or "")
        base64.b64decode(content, validate=True)  # ValueError -> 400 from the control API
        blobs[name] = content
        return Response(201, {"name": name, "size": len(base64.b64decode(content))})
    if name not in blobs:
        return _missing("BlobNotFound", "The specified blob does not exist.")
    if method == "DELETE":
        del blobs[name]
        return Response(202, None)
    return Response(200, {"name": name, "size": len(base64.b64decode(blobs[name])), "content": blobs[name]})


def drop(state: dict[str, Any], account: str, container: str | None = None) -> None:
    """Data goes with its container, or with its whole account."""
    store = _store(state)
    if container is None:
        store.pop(account.lower(), None)
    else:
        store.get(account.lower(), {}).pop(container, None)
