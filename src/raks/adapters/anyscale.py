"""The Anyscale control plane through the real `anyscale` CLI (extra `raks[anyscale]`).

The token comes only from ANYSCALE_CLI_TOKEN in the environment (never argv); resource files
go through 0600 temp files. The CLI exits 0 on some failures (e.g. adding a resource that
exists), so every write is verified by reading the cloud back as JSON (`cloud get
--output-format json`), never by parsing text. Errors are read from the CLI's JSON error
object (`{"error": {"code": ...}}` on stderr).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import Any

import yaml

from raks.adapters.tempfiles import private_file
from raks.adapters.tools import locate
from raks.errors import CloudError, ConfigError

TOKEN_ENV = "ANYSCALE_CLI_TOKEN"
# The first release with everything raks runs: `cloud get --output-format json` (0.26.106) and
# typed errors as a JSON envelope with a non-zero exit, e.g. resource_not_found for a missing
# cloud (0.26.108; before it `cloud get` logged "Cloud not found." and exited 0). Read off
# anyscale/commands/cloud_commands.py and anyscale/errors.py of the PyPI wheels 0.26.50-0.26.112.
MIN_CLI_VERSION = (0, 26, 108)


class AnyscaleError(CloudError):
    pass


@dataclass
class AnyscaleTarget:
    """Where the CLI talks: Anyscale itself, or another host (env overrides, e.g. a CA bundle)."""

    env: dict[str, str] = field(default_factory=dict)
    default_token: str | None = None  # used only when ANYSCALE_CLI_TOKEN is unset (sandbox)


def cli_path() -> str | None:
    """The CLI installed beside raks (`raks[anyscale]`, the version raks requires) before another
    on PATH, which may be older than raks needs."""
    return locate("anyscale", beside_first=True)


class Anyscale:
    def __init__(self, target: AnyscaleTarget) -> None:
        self.target = target

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.target.env)
        env.setdefault("ANYSCALE_SUPPRESS_UPGRADE_WARNING", "1")
        # With ANYSCALE_LEGACY_EXIT_CODES=1 a missing cloud exits 0 again (anyscale/errors.py,
        # AnyscaleError.__init__ since 0.26.108); raks reads failures by exit status.
        env.pop("ANYSCALE_LEGACY_EXIT_CODES", None)
        if not env.get(TOKEN_ENV):
            if not self.target.default_token:
                raise ConfigError(f"{TOKEN_ENV}: not set; the anyscale CLI needs it (platform: anyscale)")
            env[TOKEN_ENV] = self.target.default_token
        return env

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        binary = cli_path()
        if binary is None:
            raise ConfigError(
                "anyscale CLI not found: install it with pip install 'raks[anyscale]' (platform: anyscale)"
            )
        return subprocess.run(
            [binary, *args], capture_output=True, text=True, env=self._env(), timeout=900, check=False
        )

    @staticmethod
    def _error(proc: subprocess.CompletedProcess[str], what: str) -> AnyscaleError:
        code, message = "AnyscaleCliFailed", ""
        for stream in (proc.stderr, proc.stdout):
            start = stream.find("{")
            if start < 0:
                continue
            try:
                err = json.loads(stream[start:]).get("error") or {}
            except ValueError:
                continue
            code, message = str(err.get("code") or code), str(err.get("message") or "")
            break
        if not message:
            lines = [line for line in (proc.stderr or proc.stdout).strip().splitlines() if line.strip()]
            message = lines[-1] if lines else f"exit code {proc.returncode}"
        return AnyscaleError(f"anyscale {what}: {message}", code=code)

    # -- reads ----------------------------------------------------------------------------
    def get_cloud(self, name: str) -> dict[str, Any] | None:
        proc = self._run(["cloud", "get", "--name", name, "--output-format", "json"])
        if proc.returncode != 0:
            err = self._error(proc, "cloud get")
            if err.code == "resource_not_found":
                return None
            raise err
        try:
            data: dict[str, Any] = json.loads(proc.stdout)
        except ValueError:
            raise AnyscaleError("anyscale cloud get: output is not JSON", code="AnyscaleCliOutput") from None
        return data

    # -- writes (each verified by the caller reading back) ---------------------------------------
    def register(self, name: str, resource: dict[str, Any]) -> None:
        with private_file("anyscale-resource", yaml.safe_dump(resource).encode()) as path:
            proc = self._run(["cloud", "register", "--provider", "azure", "--name", name, "-f", path])
        if proc.returncode != 0:
            raise self._error(proc, "cloud register")

    def add_resource(self, cloud: str, resource: dict[str, Any]) -> None:
        with private_file("anyscale-resource", yaml.safe_dump(resource).encode()) as path:
            proc = self._run(["cloud", "resource", "create", "--cloud", cloud, "-f", path, "-y"])
        if proc.returncode != 0:
            raise self._error(proc, "cloud resource create")

    def delete_resource(self, cloud: str, resource_name: str) -> None:
        proc = self._run(["cloud", "resource", "delete", "--cloud", cloud, "--resource", resource_name, "-y"])
        if proc.returncode != 0:
            raise self._error(proc, "cloud resource delete")

    def delete_cloud(self, name: str) -> None:
        proc = self._run(["cloud", "delete", "--name", name, "-y"])
        if proc.returncode != 0:
            raise self._error(proc, "cloud delete")


def resource_by_name(cloud: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    for res in (cloud or {}).get("resources") or []:
        if res.get("name") == name:
            return dict(res)
    return None
