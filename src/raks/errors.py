"""raks' error hierarchy and the exit code each class maps to.

Every layer raises these; only the CLI's error boundary (`raks.cli.main.run`) turns them into a
one-line message and an exit code. The codes are a public contract (README, "Exit codes").
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_CLOUD = 4
EXIT_PARTIAL = 5
EXIT_CHANGES = 10
EXIT_INTERRUPTED = 130


class RaksError(Exception):
    """Base class: an error raks understands and can explain in one line."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(RaksError):
    """Bad raks.yaml, flag or environment variable. Raised before any cloud call."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[str] | str, *, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems), hint=hint)

    def one_line(self) -> str:
        # One line per problem: each names the field and what is allowed.
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class AuthError(RaksError):
    exit_code = EXIT_AUTH


class CloudError(RaksError):
    """A cloud call failed permanently; names where (region, step) and Azure's error code."""

    exit_code = EXIT_CLOUD

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        region: str | None = None,
        step: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.status = status
        self.region = region
        self.step = step

    def one_line(self) -> str:
        where = "/".join(p for p in (self.region, self.step) if p)
        parts = [f"{where}: " if where else "", f"{self.code}: " if self.code else "", self.message]
        line = "".join(parts).replace("\n", " ")
        return f"{line} ({self.hint})" if self.hint else line


class PartialFailure(RaksError):
    """Some regions failed, others finished."""

    exit_code = EXIT_PARTIAL


class PreflightError(ConfigError):
    """A preflight check failed (quota, VM size, version, provider, tool ...). Found before any
    write, so nothing was created: exit 2, like a configuration error. One line per failing check."""
