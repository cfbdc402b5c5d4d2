"""Engine.destroy: the step graph in reverse, failures isolated, kept steps untouched (plain values)."""

from __future__ import annotations

from typing import Any

from raks.config import RaksConfig
from raks.engine.runner import DONE, FAILED, SKIPPED, Engine
from raks.errors import CloudError
from raks.steps.base import Context, Step


class Fake(Step):
    def __init__(self, key: str, needs: tuple[str, ...] = (), *, log: list[tuple[str, bool]], fail: bool = False):
        self.key, self.needs, self.log, self.fail = key, needs, log, fail
        self.region = None if key.startswith("global/") else key.split("/")[0]
        self.title = key

    def observe(self, ctx: Context) -> dict[str, Any] | None:
        self.log.append((f"observe {self.key}", ctx.plan))
        return {"id": self.key}

    def outputs(self, ctx: Context, observed: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": (observed or {}).get("id")}

    def destroy(self, ctx: Context) -> str:
        # Every step it needs was observed first, so its outputs are there to use.
        assert all(ctx.outputs[d]["id"] == d for d in self.needs)
        self.log.append((self.key, ctx.plan))
        if self.fail:
            raise CloudError("refused", code="OperationNotAllowed")
        return "deleted"


def graph(log: list[tuple[str, bool]], failing: str = "") -> list[Step]:
    steps: list[Step] = [Fake("global/rg", log=log), Fake("global/identity", ("global/rg",), log=log)]
    for region in ("uksouth", "swedencentral"):
        steps += [
            Fake(f"{region}/vnet", ("global/rg",), log=log, fail=failing == f"{region}/vnet"),
            Fake(f"{region}/cluster", ("global/rg", f"{region}/vnet"), log=log, fail=failing == f"{region}/cluster"),
            Fake(f"{region}/pool", (f"{region}/cluster",), log=log),
            Fake(f"{region}/fic", ("global/identity", f"{region}/cluster"), log=log),
        ]
    return steps


def run(steps: list[Step], **kw: Any) -> dict[str, Any]:
    return Engine(steps, Context(cfg=RaksConfig(), subscription_id="sub")).destroy(**kw)


def test_a_step_goes_only_after_every_step_that_needs_it():
    log: list[tuple[str, bool]] = []
    results = run(graph(log))
    order = [key for key, _ in log if not key.startswith("observe ")]
    for step in graph([]):
        for need in step.needs:
            assert order.index(step.key) < order.index(need), (step.key, need)
    assert all(r.state == DONE and r.action == "delete" for r in results.values())


def test_a_failure_keeps_what_it_needs_and_the_other_region_finishes():
    log: list[tuple[str, bool]] = []
    results = run(graph(log, failing="swedencentral/cluster"))
    assert results["swedencentral/cluster"].state == FAILED
    for kept in ("swedencentral/vnet", "global/rg"):
        assert results[kept].state == SKIPPED and "was not removed" in results[kept].note
    assert all(results[f"uksouth/{s}"].state == DONE for s in ("vnet", "cluster", "pool", "fic"))
    assert results["global/identity"].state == DONE  # nothing that needs it failed
    assert "swedencentral/vnet" not in [k for k, _ in log]


def test_kept_steps_are_not_destroyed_and_a_dry_run_only_plans():
    log: list[tuple[str, bool]] = []
    results = run(graph(log), keep={"global/rg": "kept: uksouth remains"}, dry_run=True)
    assert "global/rg" not in [k for k, _ in log]
    assert (results["global/rg"].outcome, results["global/rg"].note) == ("kept", "kept: uksouth remains")
    assert log and all(plan for _, plan in log)  # every destroy was asked in plan mode


def test_a_destroy_after_its_dry_run_reuses_the_observations():
    log: list[tuple[str, bool]] = []
    steps = graph(log)
    ctx = Context(cfg=RaksConfig(), subscription_id="sub")
    planned = Engine(steps, ctx).destroy(dry_run=True)
    observed = len([k for k, _ in log if k.startswith("observe ")])
    results = Engine(steps, ctx).destroy(planned=planned)
    assert len([k for k, _ in log if k.startswith("observe ")]) == observed == len(steps)
    assert all(r.state == DONE and r.action == "delete" for r in results.values())
    assert [plan for k, plan in log[-len(steps) :]] == [False] * len(steps)
