"""`raks init` and `raks config show`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer

from raks.cli.context import globals_of
from raks.cli.output import emit_json, emit_yaml, err
from raks.errors import ConfigError

config_app = typer.Typer(help="Inspect the resolved configuration.", no_args_is_help=True)


def default_template() -> str:
    return resources.files("raks.templates").joinpath("raks.yaml").read_text(encoding="utf-8")


def init(
    ctx: typer.Context,
    path: Path = typer.Option(Path("raks.yaml"), "--path", help="Where to write the file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented raks.yaml whose values are the reference defaults."""
    g = globals_of(ctx)
    target = g.config or path
    if target.exists() and not force:
        raise ConfigError(f"--path: '{target}' already exists (pass --force to overwrite it)")
    target.write_text(default_template(), encoding="utf-8")
    err(f"wrote {target}; edit it, then run: raks plan")


@config_app.command("show")
def show(
    ctx: typer.Context,
    regions: list[str] = typer.Option(None, "--regions", help="Regions (override raks.yaml)."),
    fmt: str = typer.Option(None, "--format", help="yaml or json (default: yaml, json with --output json)."),
) -> None:
    """Print the fully resolved config (defaults, raks.yaml, RAKS_* environment, flags)."""
    from raks.config import resolved_dict

    g = globals_of(ctx)
    chosen = fmt or ("json" if g.output == "json" else "yaml")
    if chosen not in ("yaml", "json"):
        raise ConfigError(f"--format: '{chosen}' is not allowed (use yaml or json)")
    data = resolved_dict(g.load(regions))
    (emit_json if chosen == "json" else emit_yaml)(data)
