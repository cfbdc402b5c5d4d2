"""Which cloud a command talks to: Azure, or the sandbox (`--sandbox`).

With `--sandbox`, the server running on the state directory (a background one from `raks sandbox
start` or an earlier command, or a foreground `raks sandbox serve`) is used through its
endpoints.json; if none runs, one is started in the background.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from raks.adapters.azure.target import AzureTarget, StaticTokenCredential
from raks.config import RaksConfig
from raks.errors import ConfigError

SANDBOX_TOKEN_ENV = "RAKS_SANDBOX_TOKEN"


def sandbox_dir(config_dir: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    if os.environ.get("RAKS_SANDBOX_DIR"):
        return Path(os.environ["RAKS_SANDBOX_DIR"])
    return config_dir / ".raks" / "sandbox"


@contextmanager
def sandbox_target(directory: Path) -> Iterator[tuple[AzureTarget, dict[str, Any]]]:
    """The sandbox serving `directory`, started in the background on first use.

    It outlives this command (as LocalStack's or minikube's do), so a kubeconfig or endpoint this
    command prints keeps answering after raks exits; `raks sandbox stop` ends it.
    """
    from raks.cli.cmd_sandbox import checked_profile
    from raks.cli.output import err
    from raks.sandbox import daemon
    from raks.sandbox.runner import running_endpoints

    endpoints = running_endpoints(directory)
    if endpoints is None:
        profile = checked_profile(None)
        try:
            endpoints, started = daemon.start(directory, profile)
        except daemon.SandboxServerError as exc:
            raise ConfigError(f"--sandbox-dir: {exc}") from None
        if started:
            err(
                f"started the raks sandbox in the background (pid {endpoints.get('pid')}, profile {profile}, "
                f"{endpoints['arm']}, state {directory}); it keeps running: `raks sandbox stop` ends it"
            )
    token = os.environ.get(SANDBOX_TOKEN_ENV) or "raks-sandbox-token"
    yield sandbox_target_from(endpoints, token), endpoints


def sandbox_target_from(endpoints: dict[str, Any], token: str) -> AzureTarget:
    """The target of a running sandbox (its endpoints.json): ARM, Graph, CA, the static token."""
    return AzureTarget(
        arm_url=endpoints["arm"],
        graph_url=endpoints["graph"],
        prices_url=endpoints.get("prices") or f"{endpoints['arm']}/prices",
        subscription_id=endpoints["subscription_id"],
        tenant_id=endpoints["tenant_id"],
        ca_bundle=endpoints["ca_bundle"],
        polling_interval=float(endpoints.get("polling_interval", 0.05)),
        retry_backoff_factor=float(endpoints.get("retry_backoff_factor", 0.05)),
        credential=StaticTokenCredential(token),
        label="sandbox",
        extra={"endpoints": endpoints},
    )


@contextmanager
def azure_target(cfg: RaksConfig) -> Iterator[tuple[AzureTarget, dict[str, Any]]]:
    subscription = cfg.subscription_id or os.environ.get("AZURE_SUBSCRIPTION_ID")
    if not subscription:
        raise ConfigError(
            "subscription_id: not set; put it in raks.yaml or set AZURE_SUBSCRIPTION_ID (or use --sandbox)"
        )
    yield AzureTarget(subscription_id=subscription, tenant_id=os.environ.get("AZURE_TENANT_ID")), {}


@contextmanager
def open_target(
    cfg: RaksConfig, *, sandbox: bool, config_dir: Path, state_dir: Path | None
) -> Iterator[tuple[AzureTarget, dict[str, Any]]]:
    from raks.adapters.sdk import preload, preload_soon

    helm_driver(sandbox)  # a bad RAKS_HELM_DRIVER is refused before any request
    if sandbox:
        # What sandbox_target imports, imported before the SDKs load in the background (one
        # thread imports at a time: adapters/sdk.py), so they load while a server starts.
        import importlib

        for module in ("raks.cli.cmd_sandbox", "raks.sandbox.daemon"):
            importlib.import_module(module)

        preload_soon()
        with sandbox_target(sandbox_dir(config_dir, state_dir)) as pair:
            preload()  # before the command starts its worker threads (adapters/sdk.py)
            yield pair
    else:
        with azure_target(cfg) as pair:
            preload(identity=True)
            yield pair


def helm_driver(sandbox: bool) -> str:
    """RAKS_HELM_DRIVER, checked: engine (the default, Azure and sandbox alike) runs Helm v4's
    engine in-process; binary runs the helm CLI found on PATH."""
    from raks.adapters.helm import DRIVERS

    driver = os.environ.get("RAKS_HELM_DRIVER") or "engine"
    if driver not in DRIVERS:
        raise ConfigError(f"RAKS_HELM_DRIVER: '{driver}' is not allowed (use {' or '.join(DRIVERS)})")
    return driver


def sandbox_charts() -> Path:
    """The sandbox's stand-in charts (one per pinned chart), shipped inside the package."""
    from importlib.resources import files

    return Path(str(files("raks.sandbox") / "charts"))


def context_extra(target: AzureTarget) -> dict[str, Any]:
    """How in-cluster steps reach Helm and Anyscale for this target.

    Against the sandbox, every add-on's chart comes from the sandbox's stand-in charts (a local
    chart folder, as an air-gapped user would give) and the real anyscale CLI is pointed at the
    emulated Anyscale.
    """
    from raks.adapters.anyscale import Anyscale, AnyscaleTarget
    from raks.adapters.graph import Graph

    driver = helm_driver(target.label == "sandbox")
    if target.label == "sandbox":
        ep = target.extra["endpoints"]
        env = {
            "ANYSCALE_HOST": ep["anyscale"],
            "ANYSCALE_SSL_CA_CERT": ep["ca_bundle"],
            "ANYSCALE_TELEMETRY_SAMPLE_RATE": "0",
        }
        return {
            "helm_driver": driver,
            "helm_chart_dir": str(sandbox_charts()),
            "anyscale": Anyscale(AnyscaleTarget(env=env, default_token="sss_raks_sandbox")),
            "graph": Graph(target),
        }
    return {"helm_driver": driver, "anyscale": Anyscale(AnyscaleTarget()), "graph": Graph(target)}
