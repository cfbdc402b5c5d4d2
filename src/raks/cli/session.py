"""Opening a deployment for the commands that read or remove it (down, status, kubeconfig)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raks.cli.context import globals_of

if TYPE_CHECKING:
    from raks.adapters.azure.target import AzureTarget
    from raks.config import RaksConfig
    from raks.steps.base import Context


def open_session(
    ctx: typer.Context, regions: list[str] | None, sandbox: bool, sandbox_dir: Path | None
) -> tuple[RaksConfig, AbstractContextManager[tuple[AzureTarget, dict[str, Any]]]]:
    """The validated config (exit 2 before any cloud call) and the cloud to open."""
    from raks.cli.cloud import open_target

    g = globals_of(ctx)
    cfg = g.load(regions)
    return cfg, open_target(cfg, sandbox=sandbox, config_dir=g.config_dir, state_dir=sandbox_dir)


def new_context(cfg: RaksConfig, target: AzureTarget, *, delete_data: bool = False) -> Context:
    """A fresh step context (as `up` builds it) for one engine run."""
    from raks.adapters.azure.arm import Arm
    from raks.cli.cloud import context_extra
    from raks.steps.anyscale_cloud import prefetch
    from raks.steps.base import Context

    ctx = Context(
        cfg=cfg,
        subscription_id=target.subscription_id,
        arm=Arm(target),
        retry_delay=target.polling_interval,
        extra=context_extra(target),
        delete_data=delete_data,
    )
    prefetch(ctx)
    return ctx
