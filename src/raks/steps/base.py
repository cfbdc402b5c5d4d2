"""The step model: each step owns one resource (or a small family of them).

A step is idempotent: `observe` reads what exists (None when absent), `desired` says what raks
wants, `diff` compares only the fields raks owns, and `apply` writes only on a difference.
Outputs a later step needs (clientId, principalId, issuer URL, subnet id) go through the
context; during a plan an output of something not yet created is UNKNOWN ("known after apply").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from raks.config import RaksConfig
from raks.errors import CloudError

if TYPE_CHECKING:
    from raks.adapters.azure.arm import Arm


class _Unknown:
    """A value only known once an earlier step has run (plan mode)."""

    def __repr__(self) -> str:
        return "(known after apply)"

    def __str__(self) -> str:
        return "(known after apply)"


UNKNOWN: Any = _Unknown()


class NeedsUnknown(Exception):
    """Raised when observing needs a value that is not known yet: the resource cannot exist."""


CREATE, UPDATE, NOOP, DELETE = "create", "update", "no change", "delete"

# What `Step.destroy` reports. In a plan (ctx.plan) nothing is deleted: DELETED then means "would
# be deleted". A step may add detail after the word ("kept: holds the data", "deleted with the
# cluster"); the engine reads the first word(s).
DELETED, ABSENT, KEPT, NOT_OURS = "deleted", "absent", "kept", "not ours"


@dataclass
class Diff:
    action: str  # create | update | no change | delete
    fields: list[str] = field(default_factory=list)  # dotted paths that differ (update)
    note: str = ""

    @property
    def changes(self) -> bool:
        return self.action in (CREATE, UPDATE, DELETE)


@dataclass
class Context:
    """What steps share during one command: config, ARM, and the outputs of finished steps."""

    cfg: RaksConfig
    subscription_id: str
    arm: Arm | None = None
    plan: bool = False
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    retry_delay: float = 5.0  # base delay of the few domain retries (PrincipalNotFound)
    extra: dict[str, Any] = field(default_factory=dict)
    # `raks down`: outputs of absent resources are UNKNOWN (not an error), the data (storage
    # account, container) goes only with --delete-data, and `removed` collects the ids of what
    # this destroy deleted (or, in a plan, would delete) so a resource group can tell what is left.
    destroying: bool = False
    delete_data: bool = False
    removed: set[str] = field(default_factory=set)
    # Locks taken around one operation rather than a whole step (e.g. node pool creates on one
    # VNet, steps/aks.py); shared by contexts copied with dataclasses.replace.
    locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    locks_guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def named_lock(self, name: str) -> threading.Lock:
        """The one lock of this name for the whole command."""
        with self.locks_guard:
            return self.locks.setdefault(name.lower(), threading.Lock())

    def out(self, step_key: str, name: str) -> Any:
        value = self.outputs.get(step_key, {}).get(name, UNKNOWN)
        if value is UNKNOWN and not (self.plan or self.destroying):
            raise CloudError(f"internal: output '{name}' of step '{step_key}' is missing")
        return value

    @property
    def azure(self) -> Arm:
        if self.arm is None:
            raise CloudError("internal: no Azure connection in this context")
        return self.arm


class Step:
    """One node of the step graph."""

    key: str = ""
    title: str = ""
    region: str | None = None
    needs: tuple[str, ...] = ()
    lock: str | None = None  # steps sharing a lock never run at the same time

    @property
    def in_region(self) -> str:
        """The region of a regional step."""
        if self.region is None:
            raise ValueError(f"step {self.key} is not regional")
        return self.region

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        raise NotImplementedError

    def desired(self, ctx: Context) -> dict[str, Any]:
        raise NotImplementedError

    def diff(self, ctx: Context, desired: dict[str, Any], observed: dict[str, Any] | None) -> Diff:
        raise NotImplementedError

    def apply(
        self, ctx: Context, diff: Diff, desired: dict[str, Any], observed: dict[str, Any] | None
    ) -> dict[str, Any]:
        raise NotImplementedError

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        return {}

    def destroy(self, ctx: Context) -> str:
        """Remove what this step owns (only what carries raks' marks) and say what happened:
        DELETED, ABSENT, KEPT or NOT_OURS, optionally with detail ("kept: holds data").

        Runs after every step that needs this one was destroyed; ctx.outputs holds every step's
        outputs as observed before the destroy began. With ctx.plan set, observe only: say what
        would happen and change nothing (`raks plan --destroy`). Must be safe to re-run."""
        raise NotImplementedError(f"{self.key}: raks does not know how to remove this step's resources")


# -- comparing only what raks owns ----------------------------------------------------------
def get_path(data: Any, dotted: str) -> Any:
    cur = data
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def same(desired: Any, observed: Any) -> bool:
    """`desired` is contained in `observed`: extra fields Azure adds (defaults, read-only ids,
    provisioning state) are not drift. ARM ids compare case-insensitively. UNKNOWN never matches."""
    if desired is UNKNOWN:
        return False
    if isinstance(desired, dict):
        return isinstance(observed, dict) and all(same(v, observed.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(observed, list) or len(desired) != len(observed):
            return False
        if all(isinstance(d, dict) and "name" in d for d in desired):
            by_name = {str(o.get("name", "")).lower(): o for o in observed if isinstance(o, dict)}
            return all(same(d, by_name.get(str(d["name"]).lower())) for d in desired)
        return all(same(d, o) for d, o in zip(desired, observed, strict=True))
    if isinstance(desired, str) and isinstance(observed, str) and desired.startswith("/subscriptions/"):
        return desired.lower() == observed.lower()
    if isinstance(desired, bool) or isinstance(observed, bool):
        return desired is observed or desired == observed
    return bool(desired == observed)


def differing(desired: dict[str, Any], observed: dict[str, Any], paths: Iterable[str]) -> list[str]:
    """The owned paths whose desired value is not what Azure has."""
    out = []
    for path in paths:
        want = get_path(desired, path)
        if want is None:
            continue
        if not same(want, get_path(observed, path)):
            out.append(path)
    return out


def retry_on_codes(fn: Callable[[], Any], codes: set[str], attempts: int, delay: float) -> Any:
    """Retry a call on specific Azure error codes (e.g. PrincipalNotFound while a new identity
    replicates). Transient HTTP errors are azure-core's job, not this."""
    import time

    for attempt in range(attempts):
        try:
            return fn()
        except CloudError as exc:
            if exc.code not in codes or attempt == attempts - 1:
                raise
            time.sleep(delay * (2**attempt))
    return None
