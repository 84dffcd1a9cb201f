"""`python -m bench --customers N`: time every engine step and its bare-DuckDB baseline.

Data comes from the demo generator at the requested size, in a temporary
folder. Each step runs `--repeat` times and the median is printed, beside
the median of its baseline from the same run and their ratio. Not part of
the test run: performance is measured here, never asserted in tests.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.steps import BASELINES, SETUP, STEPS, Workspace

try:   # the browser steps need Playwright and Chromium (requirements-dev.txt, tests/browser.py)
    import bench.browser  # noqa: F401  (it adds its steps to STEPS)
except ImportError as missing:
    print(f"bench: browser steps left out ({missing})", file=sys.stderr)


def median_seconds(fn, ws: Workspace, repeat: int) -> float:
    """The median time of `repeat` calls; a call that returns seconds (a browser step that
    times its own part) counts those."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        own = fn(ws)
        times.append(own if isinstance(own, float) else time.perf_counter() - started)
    return statistics.median(times)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--txns-per-customer", type=float, default=10.0)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="run only these steps (names as printed)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        ws = Workspace(Path(tmp), customers=args.customers, months=args.months,
                       txns_per_customer=args.txns_per_customer)
        try:
            run_steps(ws, args)
        finally:
            for close in reversed(ws.cleanup):
                close()
        print(f"peak memory of this process: {peak_rss_gb():.2f} GB")
    return 0


def run_steps(ws: Workspace, args) -> None:
    """Every step (or those named by --only) with its baseline, one line each."""
    print(f"bench: {args.customers:,} customers, ~{args.txns_per_customer:g} transactions each, "
          f"{args.months} months, median of {args.repeat}", flush=True)
    header = f"{'step':<34}{'seconds':>10}  {'baseline':<26}{'seconds':>10}{'ratio':>8}"
    print(header)
    print("-" * len(header), flush=True)
    for step in STEPS:
        if args.only and step.name not in args.only:
            continue
        repeat = 1 if step.once else step.repeat or args.repeat
        if step.prepare:
            step.prepare(ws)
        seconds = median_seconds(step.run, ws, repeat)
        line = f"{step.name:<34}{seconds:>10.3f}  "
        if step.baseline:
            SETUP.get(step.baseline, lambda _: None)(ws)
            base = median_seconds(BASELINES[step.baseline], ws, repeat)
            line += f"{step.baseline:<26}{base:>10.3f}{seconds / base:>7.2f}×"
        print(line + (f"   {ws.note.pop()}" if ws.note else ""), flush=True)


if __name__ == "__main__":
    sys.exit(main())
