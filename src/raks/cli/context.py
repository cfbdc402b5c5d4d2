"""Global options shared by every command, and how a command reaches the config."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

if TYPE_CHECKING:
    from raks.config import RaksConfig


@dataclass
class Globals:
    config: Path | None = None
    output: Literal["table", "json"] = "table"
    yes: bool = False
    verbose: int = 0
    warnings: list[str] = field(default_factory=list)

    def load(self, regions: list[str] | None = None) -> RaksConfig:
        """The resolved config; warnings go to stderr, errors raise ConfigError (exit 2)."""
        from raks.config import load_config
        from raks.validation import warnings

        cfg = load_config(self.config, regions=regions)
        for w in warnings(cfg):
            print(f"warning: {w.line()}", file=sys.stderr)
        return cfg

    @property
    def config_dir(self) -> Path:
        """Where raks.yaml lives (or would): the sandbox state sits beside it."""
        if self.config is not None:
            return self.config.resolve().parent
        if os.environ.get("RAKS_CONFIG"):
            return Path(os.environ["RAKS_CONFIG"]).resolve().parent
        return Path.cwd()


def globals_of(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals()
