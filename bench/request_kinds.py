"""Requests of a fresh 2-region `raks up` by kind: GET, PUT, PATCH, DELETE, POST, and LRO polls
(GETs of paths containing /operations/ or /operationResults/), per API. (Not named
requests.py: run as a script, that would shadow the `requests` package for every bench script.)

    .venv/bin/python bench/request_kinds.py
"""

from __future__ import annotations

from collections import Counter

from _counting import Bench


def kind(entry: dict[str, str]) -> str:
    path = entry["path"].lower()
    if entry["method"] == "GET" and ("/operations/" in path or "/operationresults/" in path):
        return "LRO poll"
    return entry["method"]


def main() -> None:
    bench = Bench()
    try:
        code, wall, entries = bench.raks("up", "--yes")
        print(
            f"fresh 2-region up (platform anyscale, instant profile): exit {code}, {wall:.2f} s, {len(entries)} requests"
        )
        by_kind = Counter((e["api"], kind(e)) for e in entries)
        for (api, k), n in sorted(by_kind.items()):
            print(f"  {api:<9} {k:<9} {n:>5}")
        totals = Counter(kind(e) for e in entries)
        print("  total    ", ", ".join(f"{k} {n}" for k, n in sorted(totals.items())))
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
