"""Preflight rows about local tools: Helm (its in-process engine, or with RAKS_HELM_DRIVER=binary
the helm 3/4 CLI), and the anyscale CLI with its token.

A group of its own so a caller can leave it out. `strict` is False against the sandbox, where the
Anyscale CLI's auth is up to the emulator: missing tools are then warnings, not failures.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from raks.adapters import tools as tool_probe
from raks.adapters.anyscale import MIN_CLI_VERSION
from raks.adapters.tools import Tool, version_tuple
from raks.config import RaksConfig
from raks.engine.preflight.rows import FAIL, OK, WARN, Row

TOOLS = "tools"
HELM_MAJORS = (3, 4)
ANYSCALE_TOKEN = "ANYSCALE_CLI_TOKEN"


def needs_helm(cfg: RaksConfig) -> bool:
    return any(addon.enabled for _, addon in cfg.addons)


def helm_probe(environ: Mapping[str, str] | None = None) -> Tool:
    """The Helm raks will run: the engine (default), or the helm CLI with RAKS_HELM_DRIVER=binary."""
    env = os.environ if environ is None else environ
    if env.get("RAKS_HELM_DRIVER") == "binary":
        return tool_probe.helm()
    try:
        import helm_python

        version = helm_python.helm_sdk_version()  # loads the engine's library: a real check
    except Exception as exc:  # ImportError, or the native library failing to load
        return Tool("helm engine", None, error=f"{type(exc).__name__}: {exc}")
    return Tool("helm engine", str(helm_python.library_path), f"Helm {version} engine (helm-python-sdk)", 4)


def helm_row(tool: Tool, strict: bool) -> Row:
    bad = FAIL if strict else WARN
    if tool.name == "helm engine":
        if tool.path is None:
            return Row(
                TOOLS, "helm", bad, f"the Helm engine cannot load ({tool.error})",
                "pip install helm-python-sdk (a raks dependency), or set RAKS_HELM_DRIVER=binary to use the helm CLI",
            )  # fmt: skip
        return Row(TOOLS, "helm", OK, tool.version)
    install = "install Helm 3 or 4 (https://helm.sh/docs/intro/install/) and put it on PATH"
    if tool.path is None:
        return Row(TOOLS, "helm", bad, "helm is not on PATH", install)
    if tool.error or tool.major is None:
        return Row(
            TOOLS, "helm", bad, f"{tool.path}: 'helm version --short' failed ({tool.error or tool.version})", install
        )
    if tool.major not in HELM_MAJORS:
        return Row(TOOLS, "helm", bad, f"{tool.path} is Helm {tool.version}; raks needs Helm 3 or 4", install)
    return Row(TOOLS, "helm", OK, f"{tool.version} ({tool.path})")


def anyscale_rows(tool: Tool, environ: Mapping[str, str], strict: bool) -> list[Row]:
    bad = FAIL if strict else WARN
    if tool.path is None:
        cli = Row(
            TOOLS,
            "anyscale cli",
            bad,
            "the anyscale CLI is not installed (not on PATH nor beside raks)",
            "pip install 'raks[anyscale]' (or pip install anyscale)",
        )
    else:
        cli = anyscale_cli_row(tool, bad)
    if environ.get(ANYSCALE_TOKEN):
        token = Row(TOOLS, "anyscale token", OK, f"{ANYSCALE_TOKEN} is set")
    else:
        token = Row(
            TOOLS,
            "anyscale token",
            bad,
            f"{ANYSCALE_TOKEN} is not set",
            f"create an API key in the Anyscale console and export {ANYSCALE_TOKEN}",
        )
    return [cli, token]


def anyscale_cli_row(tool: Tool, bad: str) -> Row:
    """The CLI raks will run, and whether it has every command and flag raks uses."""
    need = ".".join(map(str, MIN_CLI_VERSION))
    upgrade = f"pip install 'anyscale>={need}' (into the environment raks runs from)"
    found = version_tuple(tool.version)
    if tool.error or found is None:
        why = tool.error or f"printed {tool.version!r}"
        return Row(TOOLS, "anyscale cli", bad, f"{tool.path}: could not read its version ({why})", upgrade)
    if found < MIN_CLI_VERSION:
        # A failure on any target: the sandbox runs the same CLI against the emulated Anyscale.
        return Row(
            TOOLS,
            "anyscale cli",
            FAIL,
            f"{tool.path} is anyscale {tool.version}; raks needs {need} or newer "
            "(cloud get --output-format json, JSON errors)",
            upgrade,
        )
    return Row(TOOLS, "anyscale cli", OK, f"{tool.version} ({tool.path})")
