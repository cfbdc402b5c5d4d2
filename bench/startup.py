"""`raks --help` start-up vs `python -c "import typer"` (median of N runs each), and which
azure / kubernetes / pydantic modules `raks --help` imports (target: none; ratio ≤ 1.5).

    .venv/bin/python bench/startup.py [--n 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

PROBE = """
import sys
from raks.cli.main import main
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    main(["--help"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("azure", "kubernetes", "pydantic", "pydantic_core"))
print("\\n".join(heavy))
"""


def median_wall(argv: list[str], n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=15)
    n = parser.parse_args().n
    typer = median_wall([sys.executable, "-c", "import typer"], n)
    raks = median_wall([sys.executable, "-m", "raks", "--help"], n)
    print(f"python -c 'import typer': {typer * 1000:.0f} ms (median of {n})")
    print(f"raks --help:              {raks * 1000:.0f} ms (median of {n})")
    print(f"ratio: {raks / typer:.2f} (target ≤ 1.5)")
    heavy = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout.split()
    print(f"azure/kubernetes/pydantic modules imported by raks --help: {len(heavy)}", *heavy[:20], sep="\n  ")


if __name__ == "__main__":
    main()
