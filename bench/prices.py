"""How long do prices and spot eviction bands of 6 regions take, next to one round trip?

Runs raks' Retail Prices client (azure-core over HTTPS) and its Resource Graph query (the real
azure-mgmt-resourcegraph SDK) together, as plan and `raks regions` do, for 6 regions and every pool
size of the default raks.yaml, against the sandbox with the Azure-like latency profile (every request
held `request` = 0.12 s, as one round trip). Then one single price request for one region and one
size, through the same client, in the same run. Target: prices + bands <= 2 round trips.

    .venv/bin/python bench/prices.py [--scale 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from raks.adapters.azure.arm import Arm
from raks.adapters.azure.prices import eviction_rates, vm_prices
from raks.adapters.sdk import preload
from raks.cli.cloud import sandbox_target_from
from raks.config import RaksConfig
from raks.sandbox.runner import Sandbox

SIX = ["uksouth", "swedencentral", "westeurope", "eastus", "westus2", "southcentralus"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="factor on Azure's durations (default 1.0)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (median shown)")
    args = parser.parse_args()
    sizes = sorted({p.vm_size for p in RaksConfig().pools})
    preload()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp), f"azure:{args.scale}")
        ep = sandbox.start()
        try:
            target = sandbox_target_from(ep, "bench")
            arm = Arm(target)
            both, singles, requests = [], [], 0
            with ThreadPoolExecutor(max_workers=2) as pool:
                for _ in range(args.repeat):
                    before = len(sandbox.world.requests)
                    start = time.monotonic()
                    prices = pool.submit(vm_prices, target, SIX, sizes)
                    bands = pool.submit(eviction_rates, arm, SIX, sizes)
                    sheet, rates = prices.result(), bands.result()
                    both.append(time.monotonic() - start)
                    requests = len(sandbox.world.requests) - before
                    assert sheet.error is None and rates.error is None, (sheet.error, rates.error)
            for _ in range(args.repeat):
                start = time.monotonic()
                one = vm_prices(target, SIX[:1], sizes[:1])
                singles.append(time.monotonic() - start)
                assert one.error is None, one.error
        finally:
            sandbox.stop()
    pair, single = statistics.median(both), statistics.median(singles)
    print(f"profile azure x {args.scale}: one request held {0.12 * args.scale:.3f}s")
    print(
        f"prices + eviction bands of {len(SIX)} regions x {len(sizes)} pool sizes ({', '.join(sizes)}): "
        f"{pair:.3f}s median of {args.repeat} ({requests} requests; {len(sheet.prices)} prices, "
        f"{len(rates.bands)} bands)"
    )
    print(f"  first run, with clients and TLS connections being set up: {both[0]:.3f}s")
    print(f"one price request (1 region, 1 size) through the same client: {single:.3f}s median of {args.repeat}")
    print(f"prices + bands / one round trip: {pair / single:.2f}x (target <= 2.0)")


if __name__ == "__main__":
    main()
