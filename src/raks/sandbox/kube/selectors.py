"""Label and field selectors, as `labelSelector=` / `fieldSelector=` query parameters.

Label selectors support `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`,
`k>n` and `k<n`; field selectors `path=v`, `path==v` and `path!=v` on the fields the kind
supports (a real server answers 400 for any other field).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from raks.sandbox.kube.errors import bad_request

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SET = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_OPS = ("!=", "==", "=", ">", "<")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        has = self.key in labels
        value = labels.get(self.key)
        match self.op:
            case "exists":
                return has
            case "!":
                return not has
            case "=" | "in":
                return has and value in self.values
            case "!=" | "notin":
                return not has or value not in self.values
            case _:
                return has and _compare(value, self.op, self.values[0])


def _compare(value: str | None, op: str, bound: str) -> bool:
    try:
        left, right = int(value or ""), int(bound)
    except ValueError:
        return False
    return left > right if op == ">" else left < right


def _split(text: str) -> list[str]:
    """Split on commas that are not inside a `(...)` value set."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts]


def _requirement(part: str) -> Requirement:
    if not part:
        raise ValueError("found '', expected: identifier")
    m = _SET.match(part)
    if m:
        values = tuple(v.strip() for v in m.group("values").split(",") if v.strip())
        return _checked(Requirement(m.group("key"), m.group("op"), values))
    if part.startswith("!"):
        return _checked(Requirement(part[1:].strip(), "!"))
    for op in _OPS:
        if op in part:
            key, _, value = part.partition(op)
            return _checked(Requirement(key.strip(), "=" if op == "==" else op, (value.strip(),)))
    return _checked(Requirement(part, "exists"))


def _checked(req: Requirement) -> Requirement:
    if not _KEY.match(req.key):
        raise ValueError(f"invalid label key {req.key!r}")
    if req.op in (">", "<"):
        if not re.fullmatch(r"-?\d+", req.values[0]):
            raise ValueError(f"for 'Gt', 'Lt' operators, the value must be an integer: {req.values[0]!r}")
        return req
    for value in req.values:
        if not _VALUE.match(value) or len(value) > 63:
            raise ValueError(f"invalid label value: {value!r}")
    return req


def label_selector(text: str | None) -> Callable[[dict[str, Any]], bool]:
    """A predicate over objects; 400 BadRequest for a selector that does not parse."""
    if not text or not text.strip():
        return lambda obj: True
    try:
        reqs = [_requirement(p) for p in _split(text)]
    except ValueError as e:
        raise bad_request(f"unable to parse requirement: {e}") from None

    def pred(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r.matches(labels) for r in reqs)

    return pred


def field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_selector(text: str | None, supported: tuple[str, ...]) -> Callable[[dict[str, Any]], bool]:
    if not text or not text.strip():
        return lambda obj: True
    checks: list[tuple[str, bool, str]] = []
    for part in _split(text):
        op = "!=" if "!=" in part else "==" if "==" in part else "="
        path, sep, value = part.partition(op)
        path = path.strip()
        if not sep or not path:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        if path not in ("metadata.name", "metadata.namespace", *supported):
            raise bad_request(f"field label not supported: {path}")
        checks.append((path, op == "!=", value.strip()))

    def pred(obj: dict[str, Any]) -> bool:
        return all((field_value(obj, p) == v) != negate for p, negate, v in checks)

    return pred
