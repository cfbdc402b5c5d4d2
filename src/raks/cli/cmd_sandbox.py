"""`raks sandbox serve|reset`: the local Azure/Kubernetes/Anyscale emulator."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import typer

from raks.cli.context import globals_of
from raks.cli.output import emit_json, err
from raks.errors import ConfigError

sandbox_app = typer.Typer(help="The local emulator of Azure, Kubernetes and Anyscale.", no_args_is_help=True)


def default_state_dir(ctx: typer.Context, given: Path | None) -> Path:
    """--state-dir / --sandbox-dir, else $RAKS_SANDBOX_DIR, else .raks/sandbox beside raks.yaml."""
    import os

    if given is not None:
        return given
    if os.environ.get("RAKS_SANDBOX_DIR"):
        return Path(os.environ["RAKS_SANDBOX_DIR"])
    return globals_of(ctx).config_dir / ".raks" / "sandbox"


@sandbox_app.command("serve")
def serve(
    ctx: typer.Context,
    state_dir: Path = typer.Option(None, "--state-dir", help="State folder (default .raks/sandbox beside raks.yaml)."),
    profile: str = typer.Option("instant", "--profile", help="instant, demo, azure, or azure:FACTOR."),
    port: int = typer.Option(0, "--port", help="Port for ARM/Kubernetes (0 = any free port)."),
) -> None:
    """Run the emulator until SIGTERM/SIGINT; writes STATE_DIR/endpoints.json for other clients."""
    from raks.sandbox.profiles import parse_profile
    from raks.sandbox.runner import Sandbox

    try:
        parse_profile(profile)
    except ValueError as exc:
        raise ConfigError(f"--profile: {exc}") from None
    directory = default_state_dir(ctx, state_dir)
    sandbox = Sandbox(directory, profile, port=port)
    try:
        sandbox.start(blocking=False)
    except RuntimeError as exc:
        raise ConfigError(f"--state-dir: {exc} (stop it, or choose another --state-dir)") from None
    path = sandbox.write_endpoints()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    ep = sandbox.endpoints()
    err(f"raks sandbox serving ARM at {ep['arm']}, Anyscale at {ep['anyscale']} (profile {ep['profile']})")
    err(f"endpoints: {path}")
    try:
        stop.wait()
    finally:
        path.unlink(missing_ok=True)
        sandbox.stop()
        err("raks sandbox stopped")


@sandbox_app.command("reset")
def reset(
    ctx: typer.Context,
    state_dir: Path = typer.Option(None, "--state-dir", help="State folder (default .raks/sandbox beside raks.yaml)."),
) -> None:
    """Forget everything the emulator holds in STATE_DIR (not while a serve is running on it)."""
    from raks.sandbox.runner import running_endpoints
    from raks.sandbox.state import StateDir

    directory = default_state_dir(ctx, state_dir)
    if running_endpoints(directory) is not None:
        raise ConfigError(f"--state-dir: a raks sandbox is serving {directory}; stop it first")
    sd = StateDir(directory)
    if not sd.lock(blocking=False):
        raise ConfigError(f"--state-dir: {directory} is in use by another raks command")
    try:
        sd.reset()
    finally:
        sd.unlock()
    if globals_of(ctx).output == "json":
        emit_json({"reset": str(directory)})
    else:
        err(f"reset {directory}")
