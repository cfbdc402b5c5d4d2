"""How long does preflight of 6 regions take, next to one ARM write round trip?

Runs raks' preflight (the real SDKs over HTTPS) against the sandbox with the Azure-like latency
profile (every ARM request held `request` = 0.12 s, as one round trip to ARM), then a PUT of a
resource group through the SDK in the same run. Preflight sends all its reads at once, so it
should cost a few round trips, not one per read.

    .venv/bin/python bench/preflight.py [--scale 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from raks.adapters.azure.arm import Arm
from raks.cli.cloud import sandbox_target_from
from raks.config import RaksConfig
from raks.engine import preflight
from raks.sandbox.runner import Sandbox

SIX = ["uksouth", "swedencentral", "westeurope", "eastus", "westus2", "southcentralus"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="factor on Azure's durations (default 1.0)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (median shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp), f"azure:{args.scale}")
        ep = sandbox.start()
        try:
            target = sandbox_target_from(ep, "bench")
            cfg = RaksConfig(regions=SIX)
            arm = Arm(target)
            preflights, reads = [], 0
            for _ in range(args.repeat):
                before = len(sandbox.world.requests)
                report = preflight.run(cfg, arm, target.subscription_id, strict_tools=False)
                preflights.append(report.seconds)
                reads = len(sandbox.world.requests) - before
            writes = []
            for i in range(args.repeat):
                start = time.monotonic()
                arm.put("resource_group", f"bench-rg-{i}", body={"location": "uksouth"})
                writes.append(time.monotonic() - start)
        finally:
            sandbox.stop()
    pf, put = statistics.median(preflights), statistics.median(writes)
    print(f"profile azure x {args.scale}: one ARM request held {0.12 * args.scale:.3f}s")
    print(
        f"preflight of {len(SIX)} regions: {pf:.3f}s median of {args.repeat} ({reads} ARM reads, {len(report.rows)} rows)"
    )
    print(f"  first run, with SDK clients and TLS connections being set up: {preflights[0]:.3f}s")
    print(f"one ARM write round trip (PUT resource group via the SDK): {put:.3f}s median of {args.repeat}")
    print(f"preflight / one write: {pf / put:.2f}x; one write per read would take {reads * put:.2f}s")


if __name__ == "__main__":
    main()
