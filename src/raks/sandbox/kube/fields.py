"""Field ownership (`metadata.managedFields`) and server-side apply.

A field set is a set of paths; a path is a tuple of tokens in the FieldsV1 notation:
`f:<field>` for a map key, `k:{"name":"x"}` for an item of a keyed list, `v:"x"` for a value in
a set list. A path in the set means the node is owned: leaves (scalars, atomic lists, empty maps)
and keyed-list items (written as `".": {}` in FieldsV1).

What is modelled: every write records its manager (`Update` for create/PUT/PATCH, `Apply` for
server-side apply); an apply merges the applied configuration over the live object (keyed lists
item by item), removes the fields its manager applied before and no longer applies (unless
another manager owns them), and conflicts, without `force`, with other managers owning a field
it sets to a different value.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from raks.sandbox.kube.patches import SET_LISTS, item_id, list_keys

Path = tuple[str, ...]

_SERVER_META = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
)


# -- paths ----------------------------------------------------------------------------------


def owned_paths(obj: dict[str, Any], *, status: bool | None) -> set[Path]:
    """The field set of an object's user fields. `status`: None = everything, False = all but
    .status (writes to a kind with a status subresource), True = only .status."""
    out: set[Path] = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind") or value is None:
            continue
        if status is not None and (key == "status") != status:
            continue
        if key == "metadata" and isinstance(value, dict):
            _walk({k: v for k, v in value.items() if k not in _SERVER_META}, ("f:metadata",), out)
            continue
        _walk_field(key, value, (f"f:{key}",), out)
    return out


def _walk(value: dict[str, Any], prefix: Path, out: set[Path]) -> None:
    for key, child in value.items():
        if child is not None:
            _walk_field(key, child, (*prefix, f"f:{key}"), out)


def _walk_field(name: str, value: Any, path: Path, out: set[Path]) -> None:
    if isinstance(value, dict) and value:
        _walk(value, path, out)
    elif isinstance(value, list) and value and (keys := list_keys(name, value)):
        for item in value:
            item_path = (*path, _item_token(keys, item))
            out.add(item_path)
            _walk(item, item_path, out)
    elif isinstance(value, list) and value and name in SET_LISTS and all(_scalar(v) for v in value):
        out.update((*path, f"v:{json.dumps(v)}") for v in value)
    else:
        out.add(path)


def _scalar(v: Any) -> bool:
    return not isinstance(v, dict | list)


def _item_token(keys: tuple[str, ...], item: dict[str, Any]) -> str:
    return "k:" + json.dumps({k: item.get(k) for k in keys}, separators=(",", ":"), sort_keys=True)


def _step(node: Any, token: str) -> tuple[bool, Any, Any]:
    """(found, child, index-or-key) for one token from `node`."""
    kind, rest = token[:2], token[2:]
    if kind == "f:" and isinstance(node, dict) and rest in node:
        return True, node[rest], rest
    if kind == "k:" and isinstance(node, list):
        wanted = json.loads(rest)
        for n, item in enumerate(node):
            if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items()):
                return True, item, n
    if kind == "v:" and isinstance(node, list):
        value = json.loads(rest)
        if value in node:
            return True, value, node.index(value)
    return False, None, None


def value_at(obj: Any, path: Path) -> tuple[bool, Any]:
    node = obj
    for token in path:
        found, node, _ = _step(node, token)
        if not found:
            return False, None
    return True, node


def remove_at(obj: dict[str, Any], path: Path, keep: set[Path]) -> None:
    """Remove the node at `path`, then any map or list left empty above it that nobody owns."""
    for depth in range(len(path), 0, -1):
        found, parent = value_at(obj, path[: depth - 1])
        ok, child, where = _step(parent, path[depth - 1]) if found else (False, None, None)
        if not ok:
            return
        if depth < len(path) and (child or path[:depth] in keep or not isinstance(child, dict | list)):
            return
        if isinstance(parent, dict):
            del parent[where]
        else:
            parent.pop(where)


def path_text(path: Path) -> str:
    """The path as the API server prints it in conflicts: `.spec.containers[name="a"].image`."""
    out = ""
    for token in path:
        kind, rest = token[:2], token[2:]
        if kind == "f:":
            out += f".{rest}"
        elif kind == "k:":
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(rest).items()) + "]"
        else:
            out += f"[={rest}]"
    return out


# -- FieldsV1 -------------------------------------------------------------------------------


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    owned_nodes = []
    for path in sorted(paths):
        node = root
        for token in path:
            node = node.setdefault(token, {})
        owned_nodes.append(node)
    for node in owned_nodes:
        if node and "." not in node:
            children = dict(node)
            node.clear()
            node["."] = {}  # the API server lists the node itself first
            node.update(children)
    return root


def from_fields_v1(fields: dict[str, Any], prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for token, child in (fields or {}).items():
        if token == ".":
            out.add(prefix)
        elif child:
            out |= from_fields_v1(child, (*prefix, token))
        else:
            out.add((*prefix, token))
    return out


# -- managedFields --------------------------------------------------------------------------


@dataclass(frozen=True)
class Writer:
    """Who writes: the field manager, the operation and the subresource ("" or "status")."""

    manager: str
    operation: str  # "Update" | "Apply"
    subresource: str
    api_version: str
    time: str

    def owns(self, entry: dict[str, Any]) -> bool:
        return (
            entry.get("manager") == self.manager
            and entry.get("operation") == self.operation
            and entry.get("subresource", "") == self.subresource
        )

    def entry(self, paths: set[Path]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(paths),
        }
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def _entries(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(((obj or {}).get("metadata") or {}).get("managedFields") or [])


def _with(
    entries: list[dict[str, Any]], writer: Writer, mine: set[Path], others: dict[int, set[Path]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    placed = False
    for n, entry in enumerate(entries):
        if writer.owns(entry):
            placed = True
            if mine:
                out.append(writer.entry(mine))
        elif others[n]:
            kept = dict(entry)
            kept["fieldsV1"] = to_fields_v1(others[n])
            out.append(kept if others[n] != from_fields_v1(entry.get("fieldsV1") or {}) else entry)
    if not placed and mine:
        out.append(writer.entry(mine))
    return out


def record_update(old: dict[str, Any] | None, new: dict[str, Any], writer: Writer, status: bool | None) -> None:
    """An Update takes the fields it changed (from every other manager) and drops removed ones."""
    entries = _entries(old)
    before = owned_paths(old, status=status) if old else set()
    after = owned_paths(new, status=status)
    changed = {p for p in after if value_at(old, p) != value_at(new, p)} if old else after
    touched = changed | (before - after)
    others = {n: from_fields_v1(e.get("fieldsV1") or {}) - touched for n, e in enumerate(entries)}
    mine = next((from_fields_v1(e.get("fieldsV1") or {}) for e in entries if writer.owns(e)), set())
    mine = ((mine - touched) | changed) & after
    new.setdefault("metadata", {})["managedFields"] = _with(entries, writer, mine, others)


def record_apply(old: dict[str, Any] | None, new: dict[str, Any], writer: Writer, applied: set[Path]) -> None:
    """An Apply owns exactly what it applied; others keep what it did not change."""
    entries = _entries(old)
    changed = {p for p in applied if old is None or value_at(old, p) != value_at(new, p)}
    others = {n: from_fields_v1(e.get("fieldsV1") or {}) - changed for n, e in enumerate(entries)}
    new.setdefault("metadata", {})["managedFields"] = _with(entries, writer, applied, others)


def apply_conflicts(
    live: dict[str, Any], applied: dict[str, Any], paths: set[Path], writer: Writer
) -> list[tuple[str, str]]:
    """[(path text, manager)] for leaves another manager owns and the apply would change."""
    out = []
    for entry in _entries(live):
        if writer.owns(entry):
            continue
        for path in sorted(paths & from_fields_v1(entry.get("fieldsV1") or {})):
            found, current = value_at(live, path)
            _, wanted = value_at(applied, path)
            if found and not isinstance(current, dict) and current != wanted:
                out.append((path_text(path), str(entry.get("manager"))))
    return out


def prune_dropped(merged: dict[str, Any], live: dict[str, Any], applied: set[Path], writer: Writer) -> None:
    """Remove what this manager applied last time and no longer applies, unless someone else owns it."""
    entries = _entries(live)
    previous = next((from_fields_v1(e.get("fieldsV1") or {}) for e in entries if writer.owns(e)), set())
    others: set[Path] = set()
    for entry in entries:
        if not writer.owns(entry):
            others |= from_fields_v1(entry.get("fieldsV1") or {})
    kept = applied | others
    gone = {p for p in previous - kept if not any(q[: len(p)] == p for q in kept)}
    for path in sorted(gone, key=len):
        if not any(path[:n] in gone for n in range(len(path))):  # its ancestor goes as a whole
            remove_at(merged, path, kept)


# -- apply merge ----------------------------------------------------------------------------


def apply_merge(live: Any, applied: Any, field: str = "") -> Any:
    """The applied configuration over the live object: maps merge, keyed lists merge by key,
    set lists take the union, anything else is replaced."""
    if isinstance(live, dict) and isinstance(applied, dict):
        out = copy.deepcopy(live)
        for key, value in applied.items():
            if value is not None:
                out[key] = apply_merge(out.get(key), value, key)
        return out
    if isinstance(live, list) and isinstance(applied, list):
        return _merge_items(field, live, applied)
    return copy.deepcopy(applied)


def _merge_items(field: str, live: list[Any], applied: list[Any]) -> list[Any]:
    if field in SET_LISTS and all(_scalar(v) for v in live + applied):
        return applied + [v for v in live if v not in applied]
    keys = list_keys(field, applied + live)
    if keys is None:
        return copy.deepcopy(applied)
    by_id = {item_id(keys, i): i for i in live}
    out = [apply_merge(by_id.get(item_id(keys, i)), i, field) for i in applied]
    applied_ids = {item_id(keys, i) for i in applied}
    return out + [copy.deepcopy(i) for i in live if item_id(keys, i) not in applied_ids]


def drop_nulls(value: Any) -> Any:
    """An apply configuration's nulls mean "not specified"."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value
