"""A small client of the control API, for tests, benchmarks and demos."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class SandboxControl:
    def __init__(self, endpoints: dict[str, Any]) -> None:
        self.endpoints = endpoints
        self.base = f"{endpoints['arm']}/_sandbox"
        self._ctx = ssl.create_default_context(cafile=endpoints["ca_bundle"])

    @classmethod
    def from_dir(cls, state_dir: Path) -> SandboxControl:
        return cls(json.loads((state_dir / "endpoints.json").read_text(encoding="utf-8")))

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self._ctx, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"sandbox control {method} {path}: {exc.code} {exc.read().decode()}") from None
        return json.loads(raw) if raw else None

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """e.g. add_fault(method="PUT", path="natGateways", status=429, code="...", retry_after=1)."""
        result: dict[str, Any] = self.call("POST", "/faults", rule)
        return result

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    def faults(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/faults")["value"])

    def requests(self, since: float | None = None) -> list[dict[str, Any]]:
        path = "/requests" + (f"?since={since}" if since is not None else "")
        return list(self.call("GET", path)["value"])

    def name_credential(self, label: str, secret: str) -> None:
        """Have the request log label requests carrying `secret` as `label` (only its SHA-256 is sent)."""
        from raks.sandbox.request_log import fingerprint

        self.call("PUT", f"/credentials/{label}", {"sha256": fingerprint(secret)})

    def set_capacity(self, region: str, **capacity: Any) -> dict[str, Any]:
        """quota={name: limit}, restricted=[size], unavailable=[size], k8s_versions=[patch]."""
        result: dict[str, Any] = self.call("PUT", f"/capacity/{region}", capacity)
        return result

    def set_provider(self, namespace: str, registered: bool) -> None:
        self.call("PUT", f"/providers/{namespace}", {"registered": registered})

    def take_storage_name(self, name: str) -> None:
        self.call("PUT", f"/storage-names/{name}", {})

    def scale_pool(self, pool_id: str, count: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "/agentpools/scale", {"id": pool_id, "count": count})
        return result

    def put_blob(self, account: str, container: str, name: str, data: bytes) -> dict[str, Any]:
        """Write a blob (the sandbox's data plane, for showing what survives a teardown)."""
        import base64

        body = {"content": base64.b64encode(data).decode()}
        result: dict[str, Any] = self.call("PUT", f"/blobs/{account}/{container}/{name}", body)
        return result

    def get_blob(self, account: str, container: str, name: str) -> bytes:
        import base64

        return base64.b64decode(self.call("GET", f"/blobs/{account}/{container}/{name}")["content"])

    def list_blobs(self, account: str, container: str) -> list[str]:
        return [b["name"] for b in self.call("GET", f"/blobs/{account}/{container}")["value"]]

    def graph(self, **change: Any) -> dict[str, Any]:
        """The emulated tenant's service principals: present=[appId], absent=[appId], deny_create=bool."""
        result: dict[str, Any] = self.call("PUT", "/graph", change)
        return result

    def set_price(self, region: str, size: str, *, spot: bool, hourly: float | None) -> dict[str, Any]:
        """The Retail Prices API's Linux hourly price of a size in a region, in USD (the sandbox
        converts other currencies at fixed rates); None: the API has no such meter."""
        return self.prices(set=[{"region": region, "size": size, "spot": spot, "hourly": hourly}])

    def prices(self, **change: Any) -> dict[str, Any]:
        """set=[{region, size, spot, hourly}], clear=True, fail=None|"unreachable"|"http500",
        page_size=n|None (test-only: the real API pages at 1,000)."""
        result: dict[str, Any] = self.call("PUT", "/prices", change)
        return result

    def set_eviction_band(self, region: str, size: str, band: str | None) -> dict[str, Any]:
        """The spot eviction band Resource Graph gives for a size in a region ("0-5" … "20+"), or
        None: no row for it."""
        return self.spot(set=[{"region": region, "size": size, "band": band}])

    def spot(self, **change: Any) -> dict[str, Any]:
        """set=[{region, size, band}], clear=True, fail=None|"unreachable"|"http500"|"forbidden",
        page_size=n|None (test-only: Resource Graph pages at 1,000)."""
        result: dict[str, Any] = self.call("PUT", "/spot", change)
        return result

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/state")
        return result

    def reset(self) -> None:
        self.call("POST", "/reset")
