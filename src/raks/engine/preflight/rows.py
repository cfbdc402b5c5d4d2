"""A preflight finding, and the verdict over many."""

from __future__ import annotations

from dataclasses import dataclass

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Row:
    """One finding: where, what, how it stands, the figure behind it and what to do."""

    region: str  # an Azure region, "global" or "tools"
    check: str
    status: str  # ok | warn | fail
    figure: str
    fix: str = ""

    def line(self) -> str:
        fix = f" (fix: {self.fix})" if self.fix else ""
        return f"{self.region}/{self.check}: {self.figure}{fix}"

    def as_dict(self) -> dict[str, str]:
        return {
            "region": self.region,
            "check": self.check,
            "status": self.status,
            "figure": self.figure,
            "fix": self.fix,
        }
