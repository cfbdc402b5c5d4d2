"""Preflight findings that are normal against the sandbox, shown as information.

A first `raks up --sandbox` should not open with warnings about things the sandbox does not
need: its Anyscale accepts the sandbox's own token, its tenant starts without the Anyscale
operator's service principal (which `up` then creates, as on Azure), and its caller is Owner of the subscription (the
permissions API answers once the resource group exists; before, there is nothing to ask about).
Only the rendering changes: the JSON document keeps the engine's status.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

INFO = "info"


def _why(row: Any) -> str | None:
    if row.check == "anyscale token":
        return "the sandbox's Anyscale accepts its own token; real Anyscale needs ANYSCALE_CLI_TOKEN"
    if row.check == "anyscale service principal":
        return "the sandbox's tenant starts without it and `up` creates it"
    if row.check == "permissions":
        return "the sandbox's caller is Owner of the subscription"
    return None


def shown(rows: list[Any], target: Any) -> list[Any]:
    """The rows as a person should read them: sandbox-normal warnings become `info`."""
    if target.label != "sandbox":
        return list(rows)
    out = []
    for row in rows:
        why = _why(row) if row.status == "warn" else None
        out.append(
            replace(row, status=INFO, figure=f"{row.figure} (normal in the sandbox: {why})", fix="") if why else row
        )
    return out
