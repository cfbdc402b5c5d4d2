"""The `raks` command: Typer app, global options and the one error boundary.

Heavy modules (pydantic, azure, kubernetes) are imported inside commands, so `raks --help`
stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

from raks import __version__
from raks.cli import (
    cmd_config,
    cmd_down,
    cmd_kubeconfig,
    cmd_preflight,
    cmd_regions,
    cmd_sandbox,
    cmd_status,
    cmd_submit,
    cmd_up,
)
from raks.cli.context import Globals
from raks.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, ConfigError, RaksError

app = typer.Typer(
    name="raks",
    help="Production Ray infrastructure on Azure Kubernetes Service, in several regions, with one command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"raks {__version__}")
        raise typer.Exit(0)


@app.callback()
def _globals(
    ctx: typer.Context,
    config: Path = typer.Option(None, "--config", help="Path to raks.yaml (default ./raks.yaml, or $RAKS_CONFIG)."),
    output: str = typer.Option(None, "--output", "-o", help="table or json (default $RAKS_OUTPUT, else table)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More detail on stderr."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    source = "--output"
    if output is None:
        output, source = os.environ.get("RAKS_OUTPUT") or "table", "RAKS_OUTPUT"
    if output not in ("table", "json"):
        raise ConfigError(f"{source}: '{output}' is not allowed (use table or json)")
    ctx.obj = Globals(config=config, output=output, yes=yes, verbose=verbose)  # type: ignore[arg-type]


app.command("init")(cmd_config.init)
app.command("plan")(cmd_up.plan)
app.command("up")(cmd_up.up)
app.command("down")(cmd_down.down)
app.command("status")(cmd_status.status)
app.command("kubeconfig")(cmd_kubeconfig.kubeconfig)
app.command("preflight")(cmd_preflight.preflight)
app.command("regions")(cmd_regions.regions)
app.command("submit")(cmd_submit.submit)
app.add_typer(cmd_config.config_app, name="config")
app.add_typer(cmd_sandbox.sandbox_app, name="sandbox")


def _command() -> Any:
    """The Click command tree, with help metavars Typer cannot infer (`--regions REGION...`)."""
    from raks.cli.argv import help_metavars

    command = typer.main.get_command(app)
    help_metavars(command)
    return command


# The reader of stdout went away (`raks regions | head`): stop quietly, as a Unix tool killed by
# SIGPIPE does (a shell reports 128 + 13 = 141); 1 would say "a bug in raks".
EXIT_BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error becomes one line on stderr."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows up here, inside the try, not at interpreter exit
        return code
    except BrokenPipeError:
        # Python docs, signal module, "Note on SIGPIPE": redirect the rest of stdout to devnull so
        # the flush at shutdown does not raise again (and never set SIGPIPE to SIG_DFL).
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
            pass
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    from typer._click.exceptions import ClickException, NoArgsIsHelpError  # Typer vendors Click

    from raks.cli.argv import normalize

    try:
        args = normalize(list(sys.argv[1:] if argv is None else argv))
        result = _command()(args=args, prog_name="raks", standalone_mode=False)
    except typer.Abort:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except typer.Exit as exc:
        return int(exc.exit_code)
    except SystemExit:
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            # Typer met EPIPE in a command: it wrapped the streams and exits 1 ("a bug" in raks'
            # table); it is a closed pipe, handled in main().
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            raise BrokenPipeError from None
        raise
    except NoArgsIsHelpError as exc:
        print(exc.format_message(), file=sys.stderr)
        return EXIT_USAGE
    except ClickException as exc:
        # Usage errors (unknown option, missing value): one line naming the flag.
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return EXIT_USAGE
    except RaksError as exc:
        for line in exc.one_line().splitlines():
            print(f"error: {line}", file=sys.stderr)
        if os.environ.get("RAKS_DEBUG"):
            raise
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise  # main() ends quietly
    except Exception as exc:
        if os.environ.get("RAKS_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (set RAKS_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_INTERNAL
    if result == EXIT_INTERRUPTED:  # Typer answers Ctrl-C outside the engine with a silent 130
        print("interrupted", file=sys.stderr)
    return int(result) if isinstance(result, int) else EXIT_OK


def run() -> None:
    sys.exit(main())
