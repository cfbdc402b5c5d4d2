"""Run the step graph: each step starts as soon as what it needs is done.

Regions never wait for each other; a failed step stops only what depends on it, the rest
finishes. `destroy` runs the same graph in reverse: a step goes once every step that needs it
is gone. The engine never prints: it reports StepResults through `on_event`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from raks.errors import EXIT_INTERRUPTED, RaksError
from raks.steps.base import ABSENT, DELETE, DELETED, KEPT, NOOP, Context, Diff, NeedsUnknown, Step

PENDING, RUNNING, CHANGING, DONE, FAILED, SKIPPED = "pending", "running", "changing", "done", "failed", "skipped"


@dataclass
class StepResult:
    key: str
    title: str
    region: str | None
    state: str = PENDING
    action: str = ""  # create | update | no change | delete (what the diff or destroy found)
    fields: list[str] = field(default_factory=list)
    note: str = ""
    error: BaseException | None = None
    started: float = 0.0
    ended: float = 0.0
    outputs: dict[str, Any] = field(default_factory=dict)
    outcome: str = ""  # destroy: what Step.destroy reported ("deleted", "absent", "kept: ...")

    @property
    def elapsed(self) -> float:
        end = self.ended or time.monotonic()
        return max(0.0, end - self.started) if self.started else 0.0

    @property
    def changed(self) -> bool:
        return self.action not in ("", NOOP)


class Interrupted(RaksError):
    """Ctrl-C during a run: `in_flight` are the keys of the steps that were running (let finish
    before the command returned). A RaksError, not a KeyboardInterrupt, so the CLI's error
    boundary (not Typer's silent exit 130) reports it."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, in_flight: list[str]) -> None:
        what = ", ".join(in_flight) or "nothing"
        super().__init__(f"interrupted (Ctrl-C); let the steps in flight finish: {what}; re-run to resume")
        self.in_flight = in_flight


Listener = Callable[[StepResult], None]
Work = Callable[[Step, StepResult], None]


class Engine:
    def __init__(
        self, steps: list[Step], ctx: Context, *, on_event: Listener | None = None, workers: int | None = None
    ) -> None:
        self.steps = {s.key: s for s in steps}
        self.workers = workers or max(4, len(steps))  # 1 = one step at a time (benchmarks)
        self.ctx = ctx
        self.on_event = on_event or (lambda r: None)
        self.results = {s.key: StepResult(s.key, s.title, s.region) for s in steps}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._needed_by = {k: tuple(s.key for s in steps if k in s.needs) for k in self.steps}
        self._planned: dict[str, StepResult] = {}

    def plan(self) -> dict[str, StepResult]:
        self.ctx.plan = True
        return self._run(apply=False)

    def apply(self) -> dict[str, StepResult]:
        self.ctx.plan = False
        return self._run(apply=True)

    def destroy(
        self,
        *,
        dry_run: bool = False,
        keep: dict[str, str] | None = None,
        planned: dict[str, StepResult] | None = None,
    ) -> dict[str, StepResult]:
        """Remove what the steps own, in reverse dependency order.

        Every step is first observed in dependency order, so outputs a delete needs (a
        principal id, a cluster's credentials) are in ctx.outputs; then each step's `destroy`
        runs once every step that needs it is gone. `keep`: step keys left in place, with why.
        `dry_run`: observe only (`raks plan --destroy`). `planned`: the results of a dry run on
        this same context: its observations are reused (each destroy still reads its own
        resource before deleting it), and progress says "delete" as soon as a delete starts."""
        ctx = self.ctx
        ctx.destroying = True
        ctx.removed.clear()
        self._planned = dict(planned or {})
        observed = self._planned
        if planned is None:
            ctx.plan = True
            observer = Engine(list(self.steps.values()), ctx, workers=self.workers)
            observed = observer._run(work=observer._observe)
        ctx.plan = dry_run
        for key, seen in observed.items():
            r = self.results[key]
            if seen.state in (FAILED, SKIPPED):
                # Unknown state: neither it nor anything it needs may be removed.
                r.state, r.error, r.note = seen.state, seen.error, seen.note
                self.on_event(r)
            elif key in (keep or {}):
                r.state, r.action, r.outcome = DONE, NOOP, KEPT
                r.note = (keep or {})[key]
                self.on_event(r)
        return self._run(work=self._destroy, reverse=True)

    # -- scheduling ------------------------------------------------------------------------
    def _waits_for(self, step: Step, reverse: bool) -> list[str]:
        """Forward: the steps it needs. Reverse (destroy): the steps that need it."""
        if reverse:
            return list(self._needed_by[step.key])
        return [d for d in step.needs if d in self.steps]

    def _run(self, *, apply: bool = False, work: Work | None = None, reverse: bool = False) -> dict[str, StepResult]:
        chosen: Work = work or (lambda step, r: self._converge(step, r, apply))
        pending = {k: s for k, s in self.steps.items() if self.results[k].state == PENDING}
        running: dict[Future[None], str] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="raks-step") as pool:
            try:
                while pending or running:
                    for key, step in list(pending.items()):
                        needs = self._waits_for(step, reverse)
                        blocked = [d for d in needs if self.results[d].state in (FAILED, SKIPPED)]
                        if blocked:
                            del pending[key]
                            self._skip(step, blocked[0], reverse)
                        elif all(self.results[d].state == DONE for d in needs):
                            del pending[key]
                            running[pool.submit(self._one, step, chosen)] = key
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        del running[fut]
            except KeyboardInterrupt as exc:
                # Start nothing more; leaving the `with` waits for the steps already running, so
                # no thread writes after the command returns (each step is resumable anyway).
                pool.shutdown(wait=False, cancel_futures=True)
                raise Interrupted([self.results[k].key for k in running.values()]) from exc
        return self.results

    def _skip(self, step: Step, because: str, reverse: bool = False) -> None:
        r = self.results[step.key]
        other = self.steps[because].title
        r.state, r.note = SKIPPED, (f"kept: {other} was not removed" if reverse else f"needs {other}")
        self.on_event(r)

    def _lock_for(self, step: Step) -> threading.Lock | None:
        if step.lock is None:
            return None
        with self._guard:
            return self._locks.setdefault(step.lock, threading.Lock())

    def _one(self, step: Step, work: Work) -> None:
        r = self.results[step.key]
        r.state, r.started = RUNNING, time.monotonic()
        self.on_event(r)
        lock = self._lock_for(step)
        try:
            if lock is not None:
                with lock:
                    work(step, r)
            else:
                work(step, r)
            r.state = DONE
        except Exception as exc:  # reported per step; the rest of the graph goes on
            r.state, r.error = FAILED, exc
        finally:
            r.ended = time.monotonic()
            self.on_event(r)

    def _converge(self, step: Step, r: StepResult, apply: bool) -> None:
        ctx = self.ctx
        try:
            observed = step.observe(ctx)
        except NeedsUnknown:
            observed = None
        desired = step.desired(ctx)
        diff: Diff = step.diff(ctx, desired, observed)
        r.action, r.fields, r.note = diff.action, diff.fields, diff.note
        r.title = step.title
        if apply and diff.changes:
            r.state = CHANGING
            self.on_event(r)
            observed = step.apply(ctx, diff, desired, observed)
        outputs = step.outputs(ctx, observed)
        if ctx.plan:
            outputs = {k: v for k, v in outputs.items() if v is not None}
        ctx.outputs[step.key] = outputs
        r.outputs = outputs

    def _observe(self, step: Step, r: StepResult) -> None:
        """Destroy's first pass: what exists, and the outputs later deletes need."""
        try:
            observed = step.observe(self.ctx)
        except NeedsUnknown:
            observed = None
        outputs = {k: v for k, v in step.outputs(self.ctx, observed).items() if v is not None}
        self.ctx.outputs[step.key] = outputs
        r.outputs = outputs

    def _destroy(self, step: Step, r: StepResult) -> None:
        planned = self._planned.get(step.key)
        if planned is not None and planned.action == DELETE and not self.ctx.plan:
            r.state, r.action = CHANGING, DELETE
            self.on_event(r)
        try:
            outcome = step.destroy(self.ctx)
        except NeedsUnknown:
            outcome = ABSENT  # something it is found through is gone, so it is too
        r.title, r.outcome = step.title, outcome
        if outcome.startswith(DELETED):
            r.action, r.note = DELETE, outcome.removeprefix(DELETED).strip(" :")
        else:
            r.action, r.note = NOOP, outcome
