"""Rendering results: stdout carries results only; progress and warnings go to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def emit_document(command: str, data: dict[str, Any]) -> None:
    """A command's `--output json` document, checked against its published schema model."""
    from raks.cli.schemas import document

    emit_json(document(command, data))


def emit_yaml(data: Any) -> None:
    import yaml  # lazily: `raks --help` should not pay for it

    sys.stdout.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def err(line: str) -> None:
    print(line, file=sys.stderr)
