#!/usr/bin/env python3
"""Summarises Go-benchmark-format results (what run.sh writes) without benchstat.

    python3 bench/peers/summary.py [--out DIR] RESULTS.txt [...]

For each benchmark: the number of result lines, the median of their ns/op in
ms, the fastest line, the interquartile range of the lines and its half-width
relative to the median (±), and, when DIR/NET/info.json is there, the FLOPs
of the fused network and the GFLOP/s at the median. On a shared, noisy
machine the median and the minimum are the numbers to compare; the slow tail
is other people's work. Plain python3 (no torch needed).
"""

import argparse
import json
import os
import re
import statistics

LINE = re.compile(r"^(Benchmark\S+)\s+(\d+)\s+([0-9.]+) ns/op")


def quantile(xs, p):
    pos = (len(xs) - 1) * p
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "out"))
    ap.add_argument("--by-file", action="store_true",
                    help="also a table of each file's median per benchmark (ms)")
    ap.add_argument("results", nargs="+")
    args = ap.parse_args()
    runs, by_file = {}, {}
    for path in args.results:
        with open(path) as f:
            for line in f:
                m = LINE.match(line)
                if m:
                    runs.setdefault(m.group(1), []).append(float(m.group(3)))
                    by_file.setdefault(m.group(1), {}).setdefault(path, []).append(
                        float(m.group(3)))
    if args.by_file:
        names = [os.path.basename(p) for p in args.results]
        print(f"{'median ms per file':<38}" + "".join(f"{n:>12}" for n in names))
        for name in runs:
            cells = []
            for p in args.results:
                xs = by_file[name].get(p)
                cells.append(f"{statistics.median(xs) / 1e6:>12.4f}" if xs else f"{'-':>12}")
            print(f"{name:<38}" + "".join(cells))
        print()
    print(f"{'benchmark':<38}{'n':>4}{'median ms':>11}{'min ms':>10}{'q1..q3 ms':>22}{'±':>8}"
          f"{'MFLOP':>9}{'GFLOP/s':>9}")
    for name, xs in runs.items():
        xs = sorted(xs)
        med = statistics.median(xs)
        q1, q3 = quantile(xs, 0.25), quantile(xs, 0.75)
        dev = (q3 - q1) / 2 / med * 100
        net = name.split("/")[1] if "/" in name else ""
        info_path = os.path.join(args.out, net, "info.json")
        mflop = gflops = ""
        if net and os.path.exists(info_path):
            with open(info_path) as f:
                flops = 2 * json.load(f)["macs"]
            mflop = f"{flops / 1e6:.1f}"
            gflops = f"{flops / med:.1f}"
        spread = f"{q1 / 1e6:.3f}..{q3 / 1e6:.3f}"
        print(f"{name:<38}{len(xs):>4}{med / 1e6:>11.4f}{xs[0] / 1e6:>10.4f}{spread:>22}"
              f"{dev:>6.1f}%{mflop:>9}{gflops:>9}")


if __name__ == "__main__":
    main()
