"""Object validation with the API server's field paths and wording (422 Invalid causes)."""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from raks.sandbox.kube.catalog import ResourceType
from raks.sandbox.kube.errors import FieldError, forbidden_field, invalid_value, not_supported, required

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]

# -- names ----------------------------------------------------------------------------------


def name_problem(rt: ResourceType, name: str) -> str | None:
    """Why `name` is not a valid name for this kind, or None."""
    if rt.group == "rbac.authorization.k8s.io":  # path segment names: "system:controller:x" is fine
        if name in (".", "..") or "/" in name or "%" in name:
            return "may not contain '/' or '%' and may not be '.' or '..'"
        return None
    if rt.plural == "namespaces":
        return _dns_label(name, _LABEL, DNS1123_LABEL_MSG)
    if rt.plural == "services":
        return _dns_label(name, _LABEL_1035, DNS1035_LABEL_MSG)
    if len(name) > 253:
        return "must be no more than 253 characters"
    return None if _SUBDOMAIN.match(name) else DNS1123_SUBDOMAIN_MSG


def _dns_label(name: str, pattern: re.Pattern[str], message: str) -> str | None:
    if len(name) > 63:
        return "must be no more than 63 characters"
    return None if pattern.match(name) else message


def _qualified_name_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _SUBDOMAIN.match(prefix)):
        return "prefix part " + DNS1123_SUBDOMAIN_MSG
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    return None if _QUALIFIED.match(name) else QUALIFIED_NAME_MSG


def _metadata_errors(rt: ResourceType, meta: dict[str, Any]) -> list[FieldError]:
    errors = []
    name = meta.get("name") or ""
    problem = name_problem(rt, name)
    if problem:
        errors.append(invalid_value("metadata.name", name, problem))
    for key, value in (meta.get("labels") or {}).items():
        if problem := _qualified_name_problem(key):
            errors.append(invalid_value("metadata.labels", key, problem))
        if len(value) > 63:
            errors.append(invalid_value("metadata.labels", value, "must be no more than 63 characters"))
        elif not _LABEL_VALUE.match(value):
            errors.append(invalid_value("metadata.labels", value, LABEL_VALUE_MSG))
    for key in meta.get("annotations") or {}:
        if problem := _qualified_name_problem(key):
            errors.append(invalid_value("metadata.annotations", key, problem))
    return errors


# -- quantities -----------------------------------------------------------------------------

_SUFFIX: dict[str, Decimal | int] = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}  # fmt: skip
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


def quantity(text: Any) -> Decimal | None:
    """A Kubernetes quantity ("100Gi", "1.5", "500m") as a number, None if it does not parse."""
    m = _QUANTITY.match(str(text).strip())
    if not m:
        return None
    try:
        return Decimal(m.group(1)) * Decimal(_SUFFIX[m.group(2) or ""])
    except InvalidOperation:
        return None


# -- decoding -------------------------------------------------------------------------------


def decode_problem(rt: ResourceType, obj: dict[str, Any]) -> str | None:
    """What a Go API server would fail to decode (a 400, before any validation), or None."""
    for field in ("labels", "annotations"):
        for value in ((obj.get("metadata") or {}).get(field) or {}).values():
            if not isinstance(value, str):
                return f"json: cannot unmarshal {_json_type(value)} into Go struct field ObjectMeta.metadata.{field} of type string"
    if rt.store_key in ("/secrets", "/configmaps"):
        for key, value in (obj.get("data") or {}).items():
            if not isinstance(value, str):
                return f"json: cannot unmarshal {_json_type(value)} into Go struct field {rt.kind}.data of type string"
            if rt.kind == "Secret":
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    return f"illegal base64 data in data[{key}]"
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else "string"


# -- per kind -------------------------------------------------------------------------------


def validate(rt: ResourceType, obj: dict[str, Any]) -> list[FieldError]:
    errors = _metadata_errors(rt, obj.get("metadata") or {})
    check = _CREATE_RULES.get(rt.store_key)
    if check:
        errors += check(obj)
    return errors


def validate_update(rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    check = _UPDATE_RULES.get(rt.store_key)
    return check(old, new) if check else []


def _pvc(obj: dict[str, Any]) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errors = []
    modes = spec.get("accessModes") or []
    if not modes:
        errors.append(required("spec.accessModes", "at least 1 access mode is required"))
    errors += [not_supported("spec.accessModes", m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES]
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if storage is None:
        errors.append(required("spec.resources[storage]"))
    elif quantity(storage) is None:
        errors.append(
            invalid_value(
                "spec.resources.requests[storage]",
                storage,
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            )
        )
    return errors


def _storage_class(obj: dict[str, Any]) -> list[FieldError]:
    errors = []
    if not obj.get("provisioner"):
        errors.append(required("provisioner"))
    policy = obj.get("reclaimPolicy")
    if policy not in (None, "Delete", "Retain"):
        errors.append(not_supported("reclaimPolicy", policy, ["Delete", "Retain"]))
    mode = obj.get("volumeBindingMode")
    if mode not in (None, "Immediate", "WaitForFirstConsumer"):
        errors.append(not_supported("volumeBindingMode", mode, ["Immediate", "WaitForFirstConsumer"]))
    return errors


def _workload(obj: dict[str, Any]) -> list[FieldError]:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not selector:
        return [required("spec.selector")]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        return [invalid_value("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")]
    return []


def _crd(obj: dict[str, Any]) -> list[FieldError]:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    errors = []
    expected = f"{names.get('plural')}.{spec.get('group')}"
    name = (obj.get("metadata") or {}).get("name")
    if name != expected:
        errors.append(invalid_value("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    versions = spec.get("versions") or []
    if not versions:
        errors.append(required("spec.versions", "must have exactly one version marked as storage version"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        errors.append(
            invalid_value("spec.versions", versions, "must have exactly one version marked as storage version")
        )
    return errors


_CREATE_RULES = {
    "/persistentvolumeclaims": _pvc,
    "storage.k8s.io/storageclasses": _storage_class,
    "apps/deployments": _workload,
    "apps/daemonsets": _workload,
    "apiextensions.k8s.io/customresourcedefinitions": _crd,
}


def _storage_class_update(old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    errors = []
    if (old.get("parameters") or {}) != (new.get("parameters") or {}):
        errors.append(forbidden_field("parameters", "updates to parameters are forbidden."))
    if old.get("provisioner") != new.get("provisioner"):
        errors.append(forbidden_field("provisioner", "updates to provisioner are forbidden."))
    if old.get("reclaimPolicy") != new.get("reclaimPolicy"):
        errors.append(forbidden_field("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    if old.get("volumeBindingMode") != new.get("volumeBindingMode"):
        errors.append(invalid_value("volumeBindingMode", new.get("volumeBindingMode"), "field is immutable"))
    return errors


def _pvc_update(old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    def fixed(spec: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in spec.items() if k != "volumeAttributesClassName"}
        resources = dict(out.get("resources") or {})
        resources.pop("requests", None)
        out["resources"] = resources
        return out

    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    if fixed(old_spec) != fixed(new_spec):
        return [
            forbidden_field(
                "spec",
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
            )
        ]
    size = quantity(((new_spec.get("resources") or {}).get("requests") or {}).get("storage"))
    capacity = quantity(((old.get("status") or {}).get("capacity") or {}).get("storage"))
    if size is not None and capacity is not None and size < capacity:
        return [forbidden_field("spec.resources.requests.storage", "field can not be less than status.capacity")]
    return []


def _workload_update(old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    before, after = (old.get("spec") or {}).get("selector"), (new.get("spec") or {}).get("selector")
    return [] if before == after else [invalid_value("spec.selector", after, "field is immutable")]


def _immutable_data(old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    if not old.get("immutable"):
        return []
    why = "field is immutable when `immutable` is set"
    errors = [forbidden_field("immutable", why)] if not new.get("immutable") else []
    for field in ("data", "binaryData", "stringData"):
        if (old.get(field) or {}) != (new.get(field) or {}):
            errors.append(forbidden_field(field, why))
    return errors


def _service_update(old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    before, after = (old.get("spec") or {}).get("clusterIP"), (new.get("spec") or {}).get("clusterIP")
    if before and after != before:
        return [invalid_value("spec.clusterIPs[0]", [after], "may not change once set")]
    return []


_UPDATE_RULES = {
    "storage.k8s.io/storageclasses": _storage_class_update,
    "/persistentvolumeclaims": _pvc_update,
    "apps/deployments": _workload_update,
    "apps/daemonsets": _workload_update,
    "/secrets": _immutable_data,
    "/configmaps": _immutable_data,
    "/services": _service_update,
}
