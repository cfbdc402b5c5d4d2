"""Command-line normalisation done before Typer parses.

Two things Click cannot do by itself:
- global flags (`--config`, `--output`, `--yes`, `-v`) are accepted after the subcommand too:
  they are moved in front of it;
- `--regions a b c` (several values after one flag) becomes `--regions a --regions b ...`;
  commas work too (`--regions a,b`).
A `--regions` given only blank values (`--regions ""`) is an error, not "no flag": otherwise the
regions of raks.yaml would be deployed when the user meant to name others.
"""

from __future__ import annotations

from raks.errors import ConfigError

GLOBAL_WITH_VALUE = ("--config", "--output", "-o")
GLOBAL_FLAGS = ("--yes", "-y", "--verbose", "-v", "-vv", "--no-color")
MULTI_VALUE = ("--regions",)


def normalize(argv: list[str]) -> list[str]:
    hoisted: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name, eq, value = arg.partition("=")
        if name in GLOBAL_WITH_VALUE and arg.startswith("--") and eq:
            hoisted.append(arg)
        elif arg in GLOBAL_WITH_VALUE:
            hoisted.append(arg)
            if i + 1 < len(argv):
                hoisted.append(argv[i + 1])
                i += 1
        elif arg in GLOBAL_FLAGS:
            hoisted.append(arg)
        elif name in MULTI_VALUE:
            values = [value] if eq else []
            while not eq and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                values.append(argv[i + 1])
                i += 1
            if not values:
                rest.append(arg)  # let Click report the missing value
            elif not any(part.strip() for v in values for part in v.split(",")):
                raise ConfigError(
                    f"{name}: empty value; give one or more Azure region names (e.g. {name} uksouth "
                    "swedencentral) or auto:N"
                )
            for v in values:
                for part in v.split(","):
                    if part.strip():
                        rest.extend([name, part.strip()])
        else:
            rest.append(arg)
        i += 1
    return hoisted + rest


# How a flag's value reads in --help. Typer shows a list option as `<list[str]>`; --regions takes
# one or more region names after one flag (normalize above), so say that.
METAVARS = {"regions": "REGION..."}


def help_metavars(command: object) -> None:
    """Set METAVARS on every matching option of a Click command tree (idempotent)."""
    for param in getattr(command, "params", []):
        if getattr(param, "name", None) in METAVARS:
            param.metavar = METAVARS[param.name]
    for sub in (getattr(command, "commands", None) or {}).values():
        help_metavars(sub)
