#!/usr/bin/python3
"""Times batch-1 inference of the benchmark networks in PyTorch on one thread.

    /usr/bin/python3 bench/peers/torch_bench.py --dir bench/peers/out [flags] [NET ...]

NET defaults to every network in nets.py. Weights come from DIR/NET/model.pth
as written by export.py (resnet20: fixtures/resnet20/model.pth); the input is
DIR/NET/ref_input.f32 when present, and every mode's output is checked against
DIR/NET/ref_output.f32 (the fused float32 model's) to 1e-4 relative.

Modes (--modes, comma-separated):
  eager-fused     the fused eval model (one conv with bias per ACBlock)
  eager-unfused   the trained-form eval model (3 convs + 3 BNs per ACBlock)
  jit-fused       torch.jit.trace + torch.jit.freeze of the fused model
  jit-unfused     the same for the unfused model (freeze folds each conv+bn,
                  but keeps the three branch convs of an ACBlock)
  ofi-fused       torch.jit.optimize_for_inference (trace, freeze, MKLDNN
                  layout conversion) of the fused model

All under torch.set_num_threads(1) (and OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1,
set before torch is loaded: Debian's torch calls OpenBLAS, whose worker
threads would otherwise run on the second core) and torch.no_grad(),
model.eval().

stdout: one Go-benchmark line per repetition,
    BenchmarkTorch/resnet20/eager-fused 	    1234	    812345 ns/op
(ns/op is the mean over the repetition's iterations, as `go test -bench`
prints it), for benchstat. Settings and the median/mean/min over all timed
iterations go to stderr.
"""

import argparse
import gc
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True


def _early_threads():
    """--threads N, read before torch is imported: Debian's torch does its
    im2col convolutions with OpenBLAS (openblas-pthread), whose own worker
    threads torch.set_num_threads does not limit. Left alone, they use the
    second core and spin, so "one thread" would really be two, and very
    sensitive to whatever else runs on the machine."""
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _early_threads()

import export  # noqa: E402
import nets  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

MODES = ["eager-fused", "eager-unfused", "jit-fused", "jit-unfused", "ofi-fused"]
DEFAULT_MODES = "eager-fused,eager-unfused,jit-fused,ofi-fused"


def parse_duration(s):
    """'1s', '500ms', '200x' -> ('ns', value) or ('iters', n)."""
    if s.endswith("x") and s[:-1].isdigit():
        return ("iters", int(s[:-1]))
    for suffix, mult in (("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9)):
        if s.endswith(suffix):
            try:
                return ("ns", float(s[: -len(suffix)]) * mult)
            except ValueError:
                break
    raise argparse.ArgumentTypeError(f"bad duration {s!r} (1s, 500ms, 200x)")


def go_line(name, n, ns_per_op):
    ns = f"{ns_per_op:.0f}" if ns_per_op >= 100 else f"{ns_per_op:.1f}"
    return f"{name} \t{n:>8}\t{ns:>10} ns/op"


def run_for(fn, x, dur, sink):
    kind, v = dur
    start = time.perf_counter_ns()
    n = 0
    while True:
        if kind == "iters":
            if n >= v:
                return n
        elif n > 0 and time.perf_counter_ns() - start >= v:
            return n
        t = time.perf_counter_ns()
        fn(x)
        dt = time.perf_counter_ns() - t
        if sink is not None:
            sink.append(dt)
        n += 1


_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy():
    """Busy CPU-seconds of the whole machine so far (all CPUs), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(t) for t in f.readline().split()[1:9]]
    except OSError:
        return float("nan")
    return (sum(v) - v[3] - v[4]) / _HZ


def others_load(seconds):
    b0, c0 = machine_busy(), time.process_time()
    time.sleep(seconds)
    return (machine_busy() - b0 - (time.process_time() - c0)) / seconds


def make(mode, model, fused, x):
    m = fused if mode.endswith("-fused") else model
    if mode.startswith("eager"):
        return m
    traced = torch.jit.trace(m, x)
    if mode.startswith("jit"):
        return torch.jit.freeze(traced.eval())
    if mode.startswith("ofi"):
        return torch.jit.optimize_for_inference(traced.eval())
    raise ValueError(mode)


def q(sorted_xs, p):
    pos = (len(sorted_xs) - 1) * p
    lo, hi = int(pos), min(int(pos) + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__[__doc__.index("Modes"):])
    ap.add_argument("--dir", default=os.path.join(nets.HERE, "out"),
                    help="export.py's output directory (default bench/peers/out)")
    ap.add_argument("nets", nargs="*", default=list(nets.NETS))
    ap.add_argument("--modes", default=DEFAULT_MODES, help=f"of {MODES}; default {DEFAULT_MODES}")
    ap.add_argument("--count", type=int, default=5, help="repetitions (output lines) per mode")
    ap.add_argument("--benchtime", type=parse_duration, default=parse_duration("1s"),
                    help="per repetition: duration (1s, 500ms) or iterations (200x)")
    ap.add_argument("--warmup", type=parse_duration, default=parse_duration("1s"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mkldnn", choices=["on", "off"], default="on",
                    help="torch.backends.mkldnn.enabled (default on, PyTorch's default)")
    ap.add_argument("--prefix", default="BenchmarkTorch")
    ap.add_argument("--max-other", type=float, default=0.15,
                    help="redo a repetition during which other processes used more than this "
                         "many CPUs on average (/proc/stat minus our own CPU time): a busy "
                         "neighbour vCPU slows a single thread down; 0: no check (0.15)")
    ap.add_argument("--max-retries", type=int, default=20,
                    help="redo a repetition at most this often, then keep it and say so (20)")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    for m in modes:
        if m not in MODES:
            ap.error(f"unknown mode {m!r}; known: {MODES}")
    for n in args.nets:
        if n not in nets.NETS:
            ap.error(f"unknown net {n!r}; known: {list(nets.NETS)}")

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.backends.mkldnn.enabled = args.mkldnn == "on"
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} thread(s), mkldnn "
          f"{args.mkldnn}", file=sys.stderr)

    for name in args.nets:
        shape = nets.NETS[name][1]
        ndir = os.path.join(args.dir, name)
        model = export.build_unfused(name, ckpt_dir=args.dir)
        fused = export.fuse(model)
        ref = None
        if os.path.exists(os.path.join(ndir, "ref_input.f32")):
            x = torch.from_numpy(np.fromfile(os.path.join(ndir, "ref_input.f32"), "<f4").copy())
            x = x.reshape(1, *shape)
            ref = torch.from_numpy(np.fromfile(os.path.join(ndir, "ref_output.f32"), "<f4").copy())
        else:
            x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(0))
        info = {}
        if os.path.exists(os.path.join(ndir, "info.json")):
            import json
            with open(os.path.join(ndir, "info.json")) as f:
                info = json.load(f)
        flops = 2 * info["macs"] if "macs" in info else 0

        for mode in modes:
            with torch.no_grad():
                fn = make(mode, model, fused, x)
                y = fn(x)
                if ref is not None:
                    err = float((y.reshape(-1) - ref).abs().max()) / float(ref.abs().max())
                    if not err < 1e-4:
                        sys.exit(f"torch_bench: {name} {mode}: output differs from the "
                                 f"reference by {err:.2e} (relative)")
                    check = f"; check rel err {err:.1e}"
                else:
                    check = ""
                run_for(fn, x, args.warmup, None)
                full = f"{args.prefix}/{name}/{mode}"
                all_t, rep_medians = [], []
                cpu_acc = wall_acc = 0.0
                discarded = noisy = 0
                for r in range(args.count):
                    tries = 0
                    while True:
                        gc.collect()
                        times = []
                        b0, c0, w0 = machine_busy(), time.process_time(), time.perf_counter()
                        n = run_for(fn, x, args.benchtime, times)
                        wall = time.perf_counter() - w0
                        own = time.process_time() - c0
                        others = (machine_busy() - b0 - own) / wall
                        if args.max_other <= 0 or not others > args.max_other:
                            break
                        if tries >= args.max_retries:
                            noisy += 1
                            print(f"# {full}: rep {r + 1} kept although others used "
                                  f"{others:.2f} CPUs", file=sys.stderr, flush=True)
                            break
                        tries += 1
                        discarded += 1
                        for _ in range(60):  # wait (up to a minute) for a quiet second
                            if not others_load(1.0) > args.max_other:
                                break
                    cpu_acc += own
                    wall_acc += wall
                    print(go_line(full, n, sum(times) / n), flush=True)
                    rep_medians.append(statistics.median(times))
                    all_t += times
                cpu_ratio = cpu_acc / wall_acc
            all_t.sort()
            med = q(all_t, 0.5)
            gf = (f"; {flops / 1e6:.1f} MFLOP -> {flops / med:.1f} GFLOP/s at the median"
                  if flops else "")
            print(f"# {full}: {len(all_t)} runs in {args.count} reps: median {med / 1e6:.3f} ms,"
                  f" mean {sum(all_t) / len(all_t) / 1e6:.3f} ms, min {all_t[0] / 1e6:.3f} ms,"
                  f" p10 {q(all_t, 0.1) / 1e6:.3f}, p90 {q(all_t, 0.9) / 1e6:.3f};"
                  f" rep medians {min(rep_medians) / 1e6:.3f}..{max(rep_medians) / 1e6:.3f} ms"
                  f"{gf}{check}; process CPU/wall {cpu_ratio:.2f}"
                  + (f"; {discarded} reps redone for others' load > {args.max_other} CPUs"
                     + (f", {noisy} kept noisy" if noisy else "") if args.max_other > 0 else ""),
                  file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
