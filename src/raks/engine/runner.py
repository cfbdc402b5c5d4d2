"""Run the step graph: each step starts as soon as what it needs is done.

Regions never wait for each other; a failed step stops only what depends on it, the rest
finishes. The engine never prints: it reports StepResults through `on_event`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from raks.steps.base import NOOP, Context, Diff, NeedsUnknown, Step

PENDING, RUNNING, CHANGING, DONE, FAILED, SKIPPED = "pending", "running", "changing", "done", "failed", "skipped"


@dataclass
class StepResult:
    key: str
    title: str
    region: str | None
    state: str = PENDING
    action: str = ""  # create | update | no change (what the diff found)
    fields: list[str] = field(default_factory=list)
    note: str = ""
    error: BaseException | None = None
    started: float = 0.0
    ended: float = 0.0
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def elapsed(self) -> float:
        end = self.ended or time.monotonic()
        return max(0.0, end - self.started) if self.started else 0.0

    @property
    def changed(self) -> bool:
        return self.action not in ("", NOOP)


Listener = Callable[[StepResult], None]


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

    def plan(self) -> dict[str, StepResult]:
        self.ctx.plan = True
        return self._run(apply=False)

    def apply(self) -> dict[str, StepResult]:
        self.ctx.plan = False
        return self._run(apply=True)

    # -- scheduling ------------------------------------------------------------------------
    def _run(self, *, apply: bool) -> dict[str, StepResult]:
        pending = dict(self.steps)
        running: dict[Future[None], str] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="raks-step") as pool:
            try:
                while pending or running:
                    for key, step in list(pending.items()):
                        needs = [d for d in step.needs if d in self.steps]
                        blocked = [d for d in needs if self.results[d].state in (FAILED, SKIPPED)]
                        if blocked:
                            del pending[key]
                            self._skip(step, blocked[0])
                        elif all(self.results[d].state == DONE for d in needs):
                            del pending[key]
                            running[pool.submit(self._one, step, apply)] = key
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        del running[fut]
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return self.results

    def _skip(self, step: Step, because: str) -> None:
        r = self.results[step.key]
        r.state, r.note = SKIPPED, f"needs {self.steps[because].title}"
        self.on_event(r)

    def _lock_for(self, step: Step) -> threading.Lock | None:
        if step.lock is None:
            return None
        with self._guard:
            return self._locks.setdefault(step.lock, threading.Lock())

    def _one(self, step: Step, apply: bool) -> None:
        r = self.results[step.key]
        r.state, r.started = RUNNING, time.monotonic()
        self.on_event(r)
        lock = self._lock_for(step)
        try:
            if lock is not None:
                with lock:
                    self._converge(step, r, apply)
            else:
                self._converge(step, r, apply)
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
