"""The three PATCH formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge.

Strategic merge patch merges the well-known keyed lists (containers by name, env by name, ...)
item by item and honours the `$patch: delete|replace` directives; other `$` directives
(`$setElementOrder`, `$retainKeys`) are accepted and ignored, and any other list is replaced, as
for a JSON merge patch.
"""

from __future__ import annotations

import copy
import json
from typing import Any

# Lists whose items are identified by key fields (patchMergeKey / listMapKeys in the Kubernetes
# API types). Server-side apply uses the same keys.
KEYED_LISTS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "imagePullSecrets": ("name",),
    "ownerReferences": ("uid",),
    "conditions": ("type",),
    "hostAliases": ("ip",),
    "resourceClaims": ("name",),
    "taints": ("key", "effect"),
}
# Lists of scalars merged as sets.
SET_LISTS = {"finalizers"}


class PatchError(ValueError):
    pass


def list_keys(field: str, items: list[Any]) -> tuple[str, ...] | None:
    """The key fields of a keyed list, or None for a list that is replaced as a whole."""
    if field == "ports":
        keys: tuple[str, ...] | None = (
            ("containerPort",) if any("containerPort" in i for i in items if isinstance(i, dict)) else ("port",)
        )
    else:
        keys = KEYED_LISTS.get(field)
    if keys is None or not all(isinstance(i, dict) and keys[0] in i for i in items):
        return None
    return keys


def item_id(keys: tuple[str, ...], item: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(item.get(k) for k in keys)


# -- JSON merge patch ---------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- strategic merge patch ----------------------------------------------------------------


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return _strip_directives(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in (value or [])]
        elif key.startswith("$"):
            continue
        elif value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        elif isinstance(value, dict):
            result[key] = strategic_merge_patch(result.get(key), value)
        else:
            result[key] = _strip_directives(value)
    return result


def _merge_list(field: str, old: list[Any], new: list[Any]) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in new):
        return [_strip_directives(i) for i in new if not (isinstance(i, dict) and "$patch" in i)]
    if field in SET_LISTS and all(not isinstance(i, dict | list) for i in new):
        return old + [v for v in new if v not in old]
    keys = list_keys(field, [i for i in new + old if not (isinstance(i, dict) and "$patch" in i and len(i) == 1)])
    if keys is None:
        return [_strip_directives(i) for i in new]
    result = copy.deepcopy(old)
    for item in new:
        ident = item_id(keys, item)
        index = next((n for n, o in enumerate(result) if isinstance(o, dict) and item_id(keys, o) == ident), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return copy.deepcopy(value)


# -- JSON patch -----------------------------------------------------------------------------


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError(f"invalid operation {json.dumps(op)}")
        doc = _apply_op(doc, op)
    return doc


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]] if path else []


def _apply_op(doc: Any, op: dict[str, Any]) -> Any:
    kind = op["op"]
    if kind == "test":
        if _get(doc, _pointer(op.get("path"))) != op.get("value"):
            raise PatchError(f"testing value {op.get('path')} failed")
        return doc
    if kind in ("move", "copy"):
        value = copy.deepcopy(_get(doc, _pointer(op.get("from"))))
        if kind == "move":
            doc = _remove(doc, _pointer(op.get("from")))
        return _add(doc, _pointer(op.get("path")), value)
    if "value" not in op and kind in ("add", "replace"):
        raise PatchError(f"missing value for {kind} operation")
    path = _pointer(op.get("path"))
    if kind == "add":
        return _add(doc, path, copy.deepcopy(op["value"]))
    if kind == "remove":
        return _remove(doc, path)
    if kind == "replace":
        _get(doc, path)  # must exist
        return _add(_remove(doc, path), path, copy.deepcopy(op["value"]), replace=True)
    raise PatchError(f"unexpected operation {kind!r}")


def _parent(doc: Any, path: list[str]) -> Any:
    if not path:
        raise PatchError("operation on the document root is not supported")
    return _get(doc, path[:-1])


def _get(doc: Any, path: list[str]) -> Any:
    node = doc
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(f"path /{'/'.join(path)} does not exist")
    return node


def _add(doc: Any, path: list[str], value: Any, replace: bool = False) -> Any:
    if not path:
        return value
    parent, last = _parent(doc, path), path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"invalid array index {last!r}")
    else:
        raise PatchError(f"path /{'/'.join(path)} does not exist")
    return doc


def _remove(doc: Any, path: list[str]) -> Any:
    parent, last = _parent(doc, path), path[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        parent.pop(int(last))
    else:
        raise PatchError(f"path /{'/'.join(path)} does not exist")
    return doc
