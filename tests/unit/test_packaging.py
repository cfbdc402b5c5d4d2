"""What the wheel ships: the top-level templates/ (the one source of raks' templates) as
raks/templates, and every Python package under src/raks (pyproject lists them: templates/ is
mapped into the package, which setuptools' package discovery cannot do)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_under_src_is_listed_so_none_is_left_out_of_the_wheel():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT / "src").parts) for p in (ROOT / "src").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools].packages in pyproject.toml"
    assert "raks.templates" in listed and not (ROOT / "src" / "raks" / "templates").exists()


def test_the_wheel_ships_every_file_of_the_top_level_templates_folder(tmp_path):
    # Built from a copy, so the repository gets no build/ folder (pip builds in the source tree).
    src = tmp_path / "src-tree"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("src", "templates"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = out.glob("raks-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "raks/templates/" + p.relative_to(ROOT / "templates").as_posix()
        for p in (ROOT / "templates").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected <= shipped, sorted(expected - shipped)
    assert {"raks/templates/raks.yaml", "raks/templates/helm/ingress-nginx.yaml"} <= expected
