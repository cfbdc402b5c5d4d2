"""`raks sandbox start|stop|status|serve|reset`: the local Azure/Kubernetes/Anyscale emulator.

`start` runs it in the background (any `--sandbox` command does so on first use) until `stop`;
`serve` runs it in the foreground. Either way it keeps the folder's ports (ports.json), so a
kubeconfig written once keeps working across restarts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from raks.cli.context import globals_of
from raks.cli.output import emit_json, err
from raks.errors import ConfigError

sandbox_app = typer.Typer(help="The local emulator of Azure, Kubernetes and Anyscale.", no_args_is_help=True)

PROFILE_ENV = "RAKS_SANDBOX_PROFILE"
STATE_DIR = typer.Option(
    None, "--state-dir", "--sandbox-dir", help="State folder (default .raks/sandbox beside raks.yaml)."
)


def default_state_dir(ctx: typer.Context, given: Path | None) -> Path:
    """--state-dir / --sandbox-dir, else $RAKS_SANDBOX_DIR, else .raks/sandbox beside raks.yaml."""
    if given is not None:
        return given
    if os.environ.get("RAKS_SANDBOX_DIR"):
        return Path(os.environ["RAKS_SANDBOX_DIR"])
    return globals_of(ctx).config_dir / ".raks" / "sandbox"


def checked_profile(given: str | None, flag: str = "--profile") -> str:
    """The profile to run: the flag, else $RAKS_SANDBOX_PROFILE, else demo; refused if unknown."""
    from raks.sandbox.profiles import parse_profile

    name, source = (given, flag) if given else (os.environ.get(PROFILE_ENV) or "demo", PROFILE_ENV)
    try:
        parse_profile(name)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return name


@sandbox_app.command("serve")
def serve(
    ctx: typer.Context,
    state_dir: Path = typer.Option(None, "--state-dir", help="State folder (default .raks/sandbox beside raks.yaml)."),
    profile: str = typer.Option("instant", "--profile", help="instant, demo, azure, or azure:FACTOR."),
    port: int = typer.Option(None, "--port", help="Port for ARM/Kubernetes (default: the folder's remembered one)."),
) -> None:
    """Run the emulator in the foreground until SIGTERM/SIGINT; writes STATE_DIR/endpoints.json."""
    from raks.sandbox import daemon

    profile = checked_profile(profile)
    directory = default_state_dir(ctx, state_dir)

    def ready(ep: dict[str, Any]) -> None:
        err(f"raks sandbox serving ARM at {ep['arm']}, Anyscale at {ep['anyscale']} (profile {ep['profile']})")
        err(f"endpoints: {directory / 'endpoints.json'}")

    try:
        daemon.serve(directory, profile, port=port, on_ready=ready)
    except daemon.SandboxServerError as exc:
        raise ConfigError(f"--state-dir: {exc}") from None
    err("raks sandbox stopped")


@sandbox_app.command("start")
def start(
    ctx: typer.Context,
    state_dir: Path = STATE_DIR,
    profile: str = typer.Option(None, "--profile", help="instant, demo, azure, or azure:FACTOR (default demo)."),
) -> None:
    """Start the emulator in the background (kept until `raks sandbox stop`)."""
    from raks.sandbox import daemon

    directory = default_state_dir(ctx, state_dir)
    chosen = checked_profile(profile)
    try:
        ep, started = daemon.start(directory, chosen)
    except daemon.SandboxServerError as exc:
        raise ConfigError(f"--state-dir: {exc}") from None
    _show(ctx, daemon.status(directory), "started" if started else "already running")


@sandbox_app.command("stop")
def stop(ctx: typer.Context, state_dir: Path = STATE_DIR) -> None:
    """Stop the background emulator (its state stays in the folder; `start` resumes it)."""
    from raks.sandbox import daemon

    directory = default_state_dir(ctx, state_dir)
    try:
        pid = daemon.stop(directory)
    except daemon.SandboxServerError as exc:
        raise ConfigError(f"--state-dir: {exc}") from None
    if globals_of(ctx).output == "json":
        emit_json({"state_dir": str(directory), "stopped": pid})
    elif pid is None:
        err(f"no raks sandbox is running on {directory}")
    else:
        err(f"stopped the raks sandbox on {directory} (pid {pid})")


@sandbox_app.command("status")
def status(ctx: typer.Context, state_dir: Path = STATE_DIR) -> None:
    """Whether an emulator serves the folder, where, and the ports it keeps."""
    from raks.sandbox import daemon

    _show(ctx, daemon.status(default_state_dir(ctx, state_dir)), None)


def _show(ctx: typer.Context, st: dict[str, Any], what: str | None) -> None:
    if globals_of(ctx).output == "json":
        emit_json(st)
        return
    if not st["running"]:
        ports = st["ports"]
        kept = f"; it will listen on port {ports['arm']} again" if ports else ""
        print(f"not running (state folder {st['state_dir']}{kept}); start it with: raks sandbox start")
        return
    kind = "background" if st["background"] else "foreground `raks sandbox serve`"
    head = f"{what}: " if what else "running: "
    print(f"{head}{kind}, pid {st['pid']}, profile {st['profile']}")
    print(f"  ARM and Kubernetes  {st['arm']}")
    print(f"  Anyscale            {st['anyscale']}")
    print(f"  state folder        {st['state_dir']}")
    if st["background"]:
        print("  stop it with:       raks sandbox stop" + _dir_flag(st["state_dir"]))


def _dir_flag(directory: str) -> str:
    default = Path.cwd() / ".raks" / "sandbox"
    return "" if Path(directory).resolve() == default.resolve() else f" --sandbox-dir {directory}"


@sandbox_app.command("reset")
def reset(ctx: typer.Context, state_dir: Path = STATE_DIR) -> None:
    """Forget everything the emulator holds in STATE_DIR (not while it is running)."""
    from raks.sandbox.runner import running_endpoints
    from raks.sandbox.state import StateDir

    directory = default_state_dir(ctx, state_dir)
    if running_endpoints(directory) is not None:
        raise ConfigError(f"--state-dir: a raks sandbox is serving {directory}; stop it first (raks sandbox stop)")
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
