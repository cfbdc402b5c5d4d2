"""Fault injection rules: make a matching request fail the way Azure would.

A rule matches on method and a path regex (searched in the percent-decoded path, case-
insensitively as ARM ids are) and applies `times` times (None: until removed). Kinds:
- status/code/message: answer with that status and an ARM error envelope (429 carries
  Retry-After when `retry_after` is set);
- reset: close the connection without answering;
- lro_failed: accept the request, but the long-running operation it starts ends Failed
  with code/message (as quota and allocation failures do in real AKS);
- hold: answer normally, but only after `hold` seconds (the request is logged and takes effect
  at once): a slow API call that keeps the caller waiting, so a test can act while a chosen
  write is in flight instead of racing it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass, field
from typing import Any

_ids = itertools.count(1)


@dataclass
class FaultRule:
    path: str = ".*"
    method: str = "*"
    status: int = 500
    code: str = "InternalServerError"
    message: str = "Encountered internal server error. Diagnostic information: sandbox fault."
    times: int | None = 1
    retry_after: float | None = None
    reset: bool = False
    lro_failed: bool = False
    hold: float | None = None
    id: str = field(default_factory=lambda: f"fault-{next(_ids)}")
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path, re.IGNORECASE) is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        rule = cls(**known)
        re.compile(rule.path)  # fail early on a bad regex
        return rule


def take(rules: list[dict[str, Any]], method: str, path: str) -> FaultRule | None:
    """The first rule matching this request, with its use counted (rules are stored as dicts)."""
    for stored in rules:
        rule = FaultRule.from_dict(stored)
        if rule.matches(method, path):
            if rule.times is not None:
                stored["times"] = rule.times - 1
            stored["hits"] = rule.hits + 1
            return rule
    return None
