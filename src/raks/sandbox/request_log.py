"""The emulator's request log: one JSON line per request in `requests.jsonl` (and in memory),
with which known credential the request carried — a label, never the credential itself.

Labels: a name registered through the control API (`PUT /_sandbox/credentials/<label>` with the
credential's SHA-256, so the secret never reaches the emulator's files), `kube-token` for a
cluster's own bearer token (the emulator issued it), `default-sandbox-token` for what raks sends
when RAKS_SANDBOX_TOKEN is unset, `unknown` for any other credential, `none` for no credential.
Tests use it to check that each API saw the credential the user gave, without the log holding it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from raks.sandbox.http import Request

# raks' own fallback when RAKS_SANDBOX_TOKEN is unset (raks.cli.cloud.sandbox_target).
DEFAULT_SANDBOX_TOKEN = "raks-sandbox-token"


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def presented_credential(req: Request, api: str) -> str:
    """The credential a request carries: Anyscale's `cli_token` cookie or any API's bearer token."""
    if api == "anyscale":
        from raks.sandbox.anyscale_api import request_token

        return request_token(req)
    scheme, _, value = req.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


class RequestLog:
    def __init__(self, path: Path) -> None:
        self.entries: list[dict[str, Any]] = []
        self._labels: dict[str, str] = {fingerprint(DEFAULT_SANDBOX_TOKEN): "default-sandbox-token"}
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives with the world

    def register(self, label: str, sha256: str) -> None:
        """Name a credential by its SHA-256 (kept in memory only, for this emulator's lifetime)."""
        if not label or label in ("none", "unknown", "kube-token") or len(sha256) != 64:
            raise ValueError("a credential needs a new label and a 64-hex-digit sha256")
        self._labels[sha256.lower()] = label

    def labels(self) -> list[str]:
        return sorted(set(self._labels.values()))

    def credential_label(self, req: Request, api: str, kube_tokens: list[str]) -> str:
        secret = presented_credential(req, api)
        if not secret:
            return "none"
        if any(hmac.compare_digest(secret, t) for t in kube_tokens):
            return "kube-token"
        return self._labels.get(fingerprint(secret), "unknown")

    def record(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)
        self._file.write(json.dumps(entry) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()
