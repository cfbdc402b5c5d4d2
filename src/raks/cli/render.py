"""Turning step results into what a person or a pipeline reads."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from raks.engine.runner import CHANGING, DONE, FAILED, RUNNING, SKIPPED, StepResult
from raks.errors import CloudError, RaksError
from raks.steps.base import ABSENT, CREATE, DELETE, KEPT, NOOP, NOT_OURS, UPDATE

SCHEMA_VERSION = 1
SYMBOL = {CREATE: "+", UPDATE: "~", NOOP: "=", DELETE: "-", "": "?"}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true")


def can_prompt() -> bool:
    """Ask only when a person can answer: stdin and stderr on a terminal, not in CI."""
    return not in_ci() and sys.stdin.isatty() and sys.stderr.isatty()


def interactive() -> bool:
    """A live view (colours, redrawn table) only on a terminal, never in CI or with NO_COLOR."""
    if in_ci() or os.environ.get("NO_COLOR"):
        return False
    return sys.stderr.isatty()


def region_label(r: StepResult) -> str:
    return r.region or "global"


def ordered(results: dict[str, StepResult]) -> list[StepResult]:
    regions: list[str] = []
    for r in results.values():
        if region_label(r) not in regions:
            regions.append(region_label(r))
    return sorted(results.values(), key=lambda r: regions.index(region_label(r)))


def error_line(r: StepResult) -> str:
    exc = r.error
    if isinstance(exc, CloudError):
        code = f"{exc.code}: " if exc.code else ""
        hint = f" ({exc.hint})" if exc.hint else ""
        return f"{region_label(r)}/{r.key.split('/', 1)[1]}: {code}{exc.message}{hint}"
    if isinstance(exc, RaksError):
        return f"{region_label(r)}/{r.key.split('/', 1)[1]}: {exc.one_line()}"
    return f"{region_label(r)}/{r.key.split('/', 1)[1]}: internal error: {type(exc).__name__}: {exc}"


def plan_text(results: dict[str, StepResult], header: str) -> str:
    lines = [header]
    region = None
    counts = {CREATE: 0, UPDATE: 0, NOOP: 0}
    for r in ordered(results):
        if region_label(r) != region:
            region = region_label(r)
            lines.append(region)
        if r.state == FAILED:
            lines.append(f"  ! error     {r.title}: {error_line(r)}")
            continue
        counts[r.action] = counts.get(r.action, 0) + 1
        detail = f" ({', '.join(r.fields)})" if r.action == UPDATE and r.fields else ""
        note = f" — {r.note}" if r.note else ""
        lines.append(f"  {SYMBOL.get(r.action, '?')} {r.action:<9} {r.title}{detail}{note}")
    lines.append(f"Plan: {counts[CREATE]} to create, {counts[UPDATE]} to update, {counts[NOOP]} unchanged.")
    return "\n".join(lines) + "\n"


def _detail(note: str, word: str) -> str:
    """'kept: holds the data' -> 'holds the data'."""
    return note.removeprefix(word).strip(" :")


def destroy_text(results: dict[str, StepResult], header: str) -> str:
    """The destroy plan (and result): what goes, what stays and why. Absent steps are counted,
    not listed."""
    lines = [header]
    region = None
    counts = {DELETE: 0, KEPT: 0, NOT_OURS: 0, ABSENT: 0}
    for r in ordered(results):
        if r.state == FAILED:
            line = f"  ! error     {r.title}: {error_line(r)}"
        elif r.state == SKIPPED:
            counts[KEPT] += 1
            line = f"  = kept      {r.title} — {_detail(r.note, KEPT)}"
        elif r.action == DELETE:
            counts[DELETE] += 1
            line = f"  - delete    {r.title}" + (f" — {r.note}" if r.note else "")
        elif r.outcome.startswith(NOT_OURS):
            counts[NOT_OURS] += 1
            line = f"  ! not ours  {r.title} — {_detail(r.note, NOT_OURS)}"
        elif r.outcome.startswith(KEPT):
            counts[KEPT] += 1
            line = f"  = kept      {r.title} — {_detail(r.note, KEPT)}"
        else:
            counts[ABSENT] += 1
            continue
        if region_label(r) != region:
            region = region_label(r)
            lines.append(region)
        lines.append(line)
    lines.append(
        f"Destroy: {counts[DELETE]} to delete, {counts[KEPT]} kept, {counts[NOT_OURS]} not managed by raks, "
        f"{counts[ABSENT]} already gone."
    )
    return "\n".join(lines) + "\n"


def step_json(r: StepResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": r.key,
        "region": r.region,
        "title": r.title,
        "action": r.action or None,
        "fields": list(r.fields),
        "state": r.state,
        "seconds": round(r.elapsed, 3),
    }
    if r.outcome:
        out["outcome"] = r.outcome
    if r.error is not None:
        out["error"] = {
            "code": getattr(r.error, "code", None),
            "message": str(getattr(r.error, "message", r.error)),
        }
    return out


class Progress:
    """Step progress on stderr: a live table on a terminal, timestamped lines elsewhere."""

    def __init__(self, live: bool) -> None:
        self.live = live and interactive()
        self._rows: dict[str, StepResult] = {}
        self._lock = threading.Lock()
        self._live: Any = None

    def __enter__(self) -> Progress:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(stderr=True), refresh_per_second=8, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(None, None, None)

    def event(self, r: StepResult) -> None:
        with self._lock:
            self._rows[r.key] = r
            if self._live is not None:
                self._live.update(self._table())
            elif r.state in (CHANGING, DONE, FAILED, SKIPPED) and (r.state != DONE or r.changed):
                stamp = time.strftime("%H:%M:%S")
                what = {
                    CHANGING: f"{r.action} started{expectation(r)}",
                    DONE: f"{r.action} done in {r.elapsed:.1f}s",
                }.get(r.state, r.state)
                if r.state == FAILED:
                    what = f"failed: {error_line(r)}"
                elif r.state == SKIPPED:
                    what = f"skipped ({r.note})"
                elif r.state == DONE and r.action == DELETE and r.note:
                    what += f" ({r.note})"  # e.g. a pool that goes with its cluster
                print(f"{stamp} {region_label(r):<14} {r.title}: {what}", file=sys.stderr, flush=True)

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("region", "step", "state", "time", "Azure typically"):
            table.add_column(col)
        style = {RUNNING: "cyan", CHANGING: "yellow", DONE: "green", FAILED: "red", SKIPPED: "dim"}
        for r in ordered(self._rows):
            state = r.state if r.state != DONE else ("done" if r.changed else "no change")
            if r.state == CHANGING:
                state = f"{r.action}…"
            typical = expectation(r).removeprefix(" (Azure: typically ").removesuffix(")")
            table.add_row(
                region_label(r), r.title, f"[{style.get(r.state, '')}]{state}[/]", f"{r.elapsed:5.1f}s", typical
            )
        return table


def render_failures(failures: list[StepResult]) -> None:
    for r in failures:
        print(f"error: {error_line(r)}", file=sys.stderr)


def expectation(r: StepResult) -> str:
    """' (Azure: typically ~5 min)' for a step Azure takes long over; '' otherwise."""
    from raks.steps.durations import human, typical_seconds

    seconds = typical_seconds(r.key, r.title, r.action)
    return f" (Azure: typically {human(seconds)})" if seconds and seconds >= 30 else ""


def estimate_line(steps: Any, results: dict[str, StepResult], *, sandbox: bool) -> str | None:
    """How long this `up` should take on Azure: the critical path of the step graph under Azure's
    typical durations (steps.durations), for the steps that change something."""
    from raks.steps.durations import critical_path, human, typical_seconds

    seconds = {k: typical_seconds(k, r.title, r.action) or 0.0 for k, r in results.items() if r.changed and r.action}
    total = critical_path(list(steps), seconds)
    if total < 60:
        return None
    where = "against Azure; the sandbox runs it scaled down" if sandbox else "on Azure"
    longest = max(seconds, key=lambda k: seconds[k])
    return (
        f"Expected time {where}: {human(total)} (the longest chain of steps at Azure's typical durations; "
        f"longest step {results[longest].title}, {human(seconds[longest])})."
    )
