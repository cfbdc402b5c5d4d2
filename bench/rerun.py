"""Requests and wall time of a converged `raks up` re-run and of `raks plan`, per region.

A fresh 2-region `up` (platform anyscale, the `instant` profile), then `up` again and `plan`:
their requests from the emulator's log, by region (global: resource group, identity, storage,
role assignments, the Anyscale cloud), API (arm/kube/anyscale) and method. Target: a converged
re-run makes 0 writes and at most 15 reads per region.

    .venv/bin/python bench/rerun.py
"""

from __future__ import annotations

from collections import Counter

from _counting import REGIONS, Bench, is_write, table


def main() -> None:
    bench = Bench()
    try:
        code, wall, _ = bench.raks("up", "--yes")
        assert code == 0, "the first up failed"
        print(f"fresh up: {wall:.2f} s")
        for argv in (("up", "--yes"), ("plan",)):
            code, wall, entries = bench.raks(*argv)
            writes = [e for e in entries if is_write(e)]
            counts = table(entries, bench)
            print(
                f"\n`raks {' '.join(argv)}` on a converged deployment: exit {code}, {wall:.2f} s, "
                f"{len(entries)} requests, {len(writes)} writes"
            )
            per_region: Counter[str] = Counter()
            for (region, api, method), n in sorted(counts.items()):
                print(f"  {region:<14} {api:<9} {method:<6} {n:>4}")
                if region in REGIONS and (method == "GET" or (api == "arm" and method == "POST")):
                    per_region[region] += n  # regional POSTs are listClusterUserCredential: reads
            for region in REGIONS:
                verdict = "ok" if per_region[region] <= 15 else "OVER the target of 15"
                print(f"  reads in {region}: {per_region[region]} ({verdict})")
            if writes:
                print("  writes:", *sorted({f"{e['method']} {e['path']}" for e in writes}), sep="\n    ")
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
