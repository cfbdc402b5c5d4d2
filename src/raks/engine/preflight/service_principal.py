"""Preflight row of the Anyscale operator app's service principal (platform anyscale), and the
creation `up` does right after a passing preflight, before any Azure resource is written.

Graph has no "could I create this?" question, so the row can only say whether the service
principal exists; `up` then creates a missing one as its first write. When Graph refuses (403
Authorization_RequestDenied), `up` stops there with exit 2, like any failed preflight check:
nothing was written, and the message names the permission and the `az ad sp create` fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from raks.config import RaksConfig
from raks.engine.preflight.rows import FAIL, OK, WARN, Row
from raks.errors import AuthError, CloudError

if TYPE_CHECKING:
    from raks.adapters.graph import Graph

GLOBAL = "global"
CHECK = "anyscale service principal"
ABSENT_MARK = "absent"  # the row's figure starts with it when `up` has to create it


def sp_row(cfg: RaksConfig, graph: Graph) -> Row:
    from raks.adapters.graph import CREATE_PERMISSION, READ_PERMISSION, GraphError, sp_create_command

    app_id = cfg.anyscale.operator_app_id
    try:
        found = graph.service_principal(app_id)
    except AuthError:
        raise
    except GraphError as exc:
        return Row(
            GLOBAL,
            CHECK,
            WARN,
            f"not checked: Microsoft Graph answered {exc.status} {exc.code} reading app {app_id}'s service "
            f"principal (reading takes {READ_PERMISSION})",
            f"check it with: az ad sp show --id {app_id}; create it with: {sp_create_command(app_id)}",
        )
    if found is not None:
        return Row(GLOBAL, CHECK, OK, f"app {app_id} has service principal {found.get('id')} in this tenant")
    return Row(
        GLOBAL,
        CHECK,
        WARN,
        f"{ABSENT_MARK}: the Anyscale operator app {app_id} has no service principal in this tenant; "
        f"up creates it (that takes {CREATE_PERMISSION})",
        f"or run: {sp_create_command(app_id)} (as someone with that permission)",
    )


def needs_create(rows: list[Row]) -> bool:
    return any(r.check == CHECK and r.figure.startswith(ABSENT_MARK) for r in rows)


def create(cfg: RaksConfig, graph: Graph) -> Row:
    """Create the missing service principal: an ok row, or a failing one (Graph refused)."""
    from raks.steps.service_principal import ensure

    app_id = cfg.anyscale.operator_app_id
    try:
        sp = ensure(graph, app_id)
    except AuthError:
        raise
    except CloudError as exc:
        return Row(GLOBAL, CHECK, FAIL, exc.message, exc.hint or "")
    return Row(GLOBAL, CHECK, OK, f"created service principal {sp.get('id')} of app {app_id}")
