"""raks' templates: static YAML in the repository's templates/ (shipped in the wheel as raks/templates), or a user's copy.

Steps load a template as data and fill computed fields structurally (never by text
substitution, so a value cannot inject YAML). `templates_dir` in raks.yaml points at a folder
with the same layout; a file found there wins.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from raks.errors import ConfigError


@lru_cache(maxsize=64)
def _load(override_dir: str | None, relpath: str) -> Any:
    if override_dir:
        candidate = Path(override_dir) / relpath
        if candidate.exists():
            try:
                return yaml.safe_load(candidate.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise ConfigError(f"templates_dir: {candidate} is not valid YAML: {exc}") from None
    text = resources.files("raks.templates").joinpath(relpath).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load(relpath: str, templates_dir: str | None = None) -> Any:
    """A fresh copy of a template (callers fill it in)."""
    return copy.deepcopy(_load(templates_dir, relpath))


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """data["a"]["b"]["c"] = value for "a.b.c", creating mappings on the way."""
    parts = dotted.split(".")
    cur = data
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
    cur[parts[-1]] = value


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm-style values merge: mappings merge recursively, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
