"""Rendering results: stdout carries results only; progress and warnings go to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def emit_yaml(data: Any) -> None:
    sys.stdout.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def err(line: str) -> None:
    print(line, file=sys.stderr)
