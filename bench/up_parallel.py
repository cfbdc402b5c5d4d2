"""How parallel is `raks up`? Wall time vs the critical path vs one step at a time.

Runs `up` (plan + apply: the real SDKs over HTTPS, the real anyscale CLI, Helm release records)
against the sandbox with the Azure-like latency profile scaled down, for 2 and 6 regions, and
the same steps with one worker. Two critical paths over the step graph:
- "profile": each step's duration is what the latency profile makes Azure take (what the
  issue's target is stated against);
- "measured": each step's duration is what it took in this run (includes the anyscale CLI's
  ~1 s start-up per call, which no profile models); wall / measured = scheduling overhead.

    .venv/bin/python bench/up_parallel.py [--scale 0.05] [--skip-sequential]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from raks.adapters.azure.arm import Arm
from raks.cli.cloud import context_extra, sandbox_target_from
from raks.config import RaksConfig
from raks.engine.runner import Engine
from raks.sandbox.profiles import Profile
from raks.sandbox.runner import Sandbox
from raks.steps import graph
from raks.steps.anyscale_cloud import prefetch
from raks.steps.base import Context

SIX = ["uksouth", "swedencentral", "westeurope", "eastus", "westus2", "southcentralus"]


def step_seconds(key: str, cfg: RaksConfig, profile: Profile) -> float:
    """What the sandbox makes each step wait, plus a read and a write round trip."""
    suffix = key.split("/", 1)[1]
    table = {
        "storage-account": "storage.create",
        "nsg": "network.nsg",
        "public-ip": "network.publicip",
        "nat-gateway": "network.natgateway",
        "vnet": "network.vnet",
        "cluster": "aks.create",
    }
    seconds = profile.seconds(table[suffix]) if suffix in table else 0.0
    if suffix.startswith("pool-"):
        pool = next(p for p in cfg.pools if p.name == suffix[5:])
        if pool.mode != "system":  # system pools come with the cluster
            gpu = "nvidia.com/gpu.count" in pool.labels
            seconds = profile.seconds("agentpool.create.gpu" if gpu else "agentpool.create")
    return seconds + 2 * profile.seconds("request")


def pool_chain(cfg: RaksConfig, keys: list[str]) -> dict[str, str]:
    """Each user pool's create waits for the region's previous one: raks serialises pool creates per
    VNet (steps/pools.py, AKS's subnet-ownership race), so in the profile model they form a chain."""
    users = {f"pool-{p.name}" for p in cfg.pools if p.mode != "system"}
    before: dict[str, str] = {}
    last: dict[str, str] = {}
    for key in sorted(keys):
        region, _, suffix = key.partition("/")
        if suffix in users:
            if region in last:
                before[key] = last[region]
            last[region] = key
    return before


def critical_path(cfg: RaksConfig, sub: str, seconds: Callable[[str], float], *, serial_pools: bool = False) -> float:
    """The longest chain of `needs` through the step graph, each step taking seconds(key); with
    serial_pools, a region's pool creates also wait for each other (the measured step times
    already include that wait)."""
    steps = {s.key: s for s in graph.build(cfg, sub)}
    chain = pool_chain(cfg, list(steps)) if serial_pools else {}
    memo: dict[str, float] = {}

    def finish(key: str) -> float:
        if key not in memo:
            needs = [*steps[key].needs, *([chain[key]] if key in chain else [])]
            before = max((finish(d) for d in needs if d in steps), default=0.0)
            memo[key] = before + seconds(key)
        return memo[key]

    return max(finish(k) for k in steps)


def run_up(regions: list[str], scale: float, workers: int | None) -> tuple[float, float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp), f"azure:{scale}")
        ep = sandbox.start()
        try:
            target = sandbox_target_from(ep, "bench")
            cfg = RaksConfig(regions=regions)
            arm = Arm(target)

            def context() -> Context:
                ctx = Context(cfg, target.subscription_id, arm, extra=context_extra(target))
                prefetch(ctx)  # as the CLI does (raks.cli.session.new_context)
                return ctx

            start = time.monotonic()
            Engine(graph.build(cfg, target.subscription_id), context()).plan()
            results = Engine(graph.build(cfg, target.subscription_id), context(), workers=workers).apply()
            wall = time.monotonic() - start
            failed = [r for r in results.values() if r.state != "done"]
            if failed:
                raise SystemExit(f"up failed: {[(r.key, r.error) for r in failed]}")
            cp = critical_path(
                cfg,
                target.subscription_id,
                lambda key: step_seconds(key, cfg, sandbox.world.profile),
                serial_pools=True,
            )
            measured = critical_path(cfg, target.subscription_id, lambda key: results[key].elapsed)
            return wall, cp, measured, len(sandbox.world.requests)
        finally:
            sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 0.05: long enough that the fixed ~1.5 s of a run (plan phase, anyscale CLI start-up) does not
    # dominate; at 0.02 the 2-region ratio is 1.10-1.13 for that reason alone (README, Performance).
    parser.add_argument("--scale", type=float, default=0.05, help="factor on Azure's durations (default 0.05)")
    parser.add_argument("--skip-sequential", action="store_true")
    args = parser.parse_args()
    print(f"profile azure x {args.scale} (AKS create {300 * args.scale:.1f}s, GPU pool {480 * args.scale:.1f}s)")
    for regions in (SIX[:2], SIX):
        wall, cp, measured, requests = run_up(regions, args.scale, None)
        print(
            f"{len(regions)} regions: wall {wall:6.2f}s | critical path from the profile {cp:6.2f}s, "
            f"wall/cp {wall / cp:5.3f} | from measured step times {measured:6.2f}s, wall/cp {wall / measured:5.3f} "
            f"| {requests} requests"
        )
        if not args.skip_sequential:
            seq, _, _, _ = run_up(regions, args.scale, 1)
            print(f"{len(regions)} regions: one step at a time {seq:6.2f}s, parallel is {seq / wall:5.2f}x faster")


if __name__ == "__main__":
    main()
