#!/usr/bin/python3
"""RepVGG-A0, MobileOne-S0 or UniRepLKNet-A on 3x224x224 (fixtures/reparam_nets.py and
reparam_family_nets.py, the official blocks' layouts at full width):
correctness of the generated package against PyTorch's unfused training
form, and its speed against ONNX Runtime on the deploy form (the family's
own switch_to_deploy or reparameterize, exported to ONNX), one thread,
batch 1, interleaved rounds. Not in CI: needs torch, onnx, Node with
bench/peers/node_modules (bench/peers/run.sh installs it) and a few
minutes.

    /usr/bin/python3 bench/reparam/run.py [--net mobileone_s0|unireplknet_a|repvit_m0_9] [--rounds 5] [--no-speed]

Writes bench/reparam/results-DATE.txt (RepVGG-A0) or results-NET-DATE.txt.
"""
import argparse
import copy
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "fixtures"))
import reparam_nets as rn  # noqa: E402
import reparam_family_nets as fn  # noqa: E402
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location("_mf", os.path.join(ROOT, "fixtures", "make_fixtures.py"))
mf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mf)

SHAPE = (3, 224, 224)

# Each network: its module, the module's name for torch2spec, and what it is.
NETS = {"repvgg_a0": (rn, "reparam_nets", "RepVGG-A0 (3x224x224, fixtures/reparam_nets.py repvgg_a0: 22 blocks)"),
        "mobileone_s0": (fn, "reparam_family_nets", "MobileOne-S0 (3x224x224, fixtures/reparam_family_nets.py "
                         "mobileone_s0: 43 MobileOneBlocks of 4 KxK branches)"),
        "unireplknet_a": (fn, "reparam_family_nets", "UniRepLKNet-A (3x224x224, fixtures/reparam_family_nets.py "
                          "unireplknet_a, the official form: 12 blocks, 10 DilatedReparamBlocks of kernel 13, GRN, "
                          "channels-first LayerNorms, layer scale)"),
        "repvit_m0_9": (fn, "reparam_family_nets", "RepViT-M0.9 (3x224x224, fixtures/reparam_family_nets.py "
                        "repvit_m0_9, the official configuration: 26 blocks, 23 RepVGGDW token mixers, SE, GELU)")}



def run(cmd, cwd, env=None):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    return p.stdout + p.stderr


def ns_per_op(out):
    return [float(m) for m in re.findall(r"\s([\d.]+) ns/op", out)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--net", choices=sorted(NETS), default="repvgg_a0")
    ap.add_argument("--no-speed", action="store_true", help="check the package against PyTorch only")
    ap.add_argument("--ort-max-other", default="0.15",
                    help="ort_bench.js -max-other: 0 times ONNX Runtime as the Go benchmarks are timed, whatever else runs")
    a = ap.parse_args()
    module, module_name, what = NETS[a.net]
    torch.set_num_threads(1)
    work = tempfile.mkdtemp(prefix="acgen-repvgg-")
    torch.manual_seed(7)
    model = getattr(module, a.net)()
    mf.init_weights(model, SHAPE)
    model.eval()
    torch.save(model.state_dict(), os.path.join(work, "model.pth"))
    x = torch.randn(2, *SHAPE)
    with torch.no_grad():
        y = model(x)
        y64 = copy.deepcopy(model).double()(x.double())
    scale = y64.abs().clamp(min=1)
    torch_err = float(((y.double() - y64).abs() / scale).max())
    run([sys.executable, os.path.join(ROOT, "tools", "torch2spec.py"), "--model", f"{module_name}:{a.net}",
         "--weights", os.path.join(work, "model.pth"), "--input", "3,224,224", "--name", "repvgg",
         "--out", os.path.join(work, "net.yaml")], os.path.join(ROOT, "fixtures"))
    deployed = module.deploy(copy.deepcopy(model))
    deployed_params = sum(p.numel() for p in deployed.parameters())
    onnx_dir = os.path.join(work, a.net)
    os.makedirs(onnx_dir)
    torch.onnx.export(deployed, x[:1], os.path.join(onnx_dir, "model.onnx"), opset_version=13,
                      input_names=["input"], output_names=["output"])
    mod = os.path.join(work, "mod")
    os.makedirs(mod)
    with open(os.path.join(mod, "go.mod"), "w") as f:
        f.write("module bench\n\ngo 1.21\n")
    pkg = os.path.join(mod, "repvgg")
    t0 = time.time()
    summary = run(["go", "run", "./cmd/acgen", "-spec", os.path.join(work, "net.yaml"), "-weights",
                   os.path.join(work, "model.pth"), "-out", pkg], ROOT)
    gen_s = time.time() - t0
    os.makedirs(os.path.join(pkg, "testdata"), exist_ok=True)
    with open(os.path.join(pkg, "testdata", "pytorch.bin"), "wb") as f:
        for t in (x, y):
            f.write(struct.pack(f"<{t.numel()}f", *t.flatten().tolist()))
    with open(os.path.join(pkg, "pytorch_test.go"), "w") as f:
        f.write(mf.go_pytorch_test("repvgg"))
    env = dict(os.environ, GOWORK="off", GOFLAGS="-mod=mod")
    errs, errs64 = [], []
    for want, into in ((y64.float(), errs64), (y, errs)):  # PyTorch's float64 outputs, then its float32 ones
        with open(os.path.join(pkg, "testdata", "pytorch.bin"), "wb") as f:
            for t in (x, want):
                f.write(struct.pack(f"<{t.numel()}f", *t.flatten().tolist()))
        for isa in ("avx512", "avx2", "go"):
            out = run(["go", "test", "-count=1", "-run", "TestMatchesPyTorch", "-v", "."], pkg, dict(env, ACGEN_ISA=isa))
            into += [(i, e) for _, i, e in re.findall(r"MAXERR (\S+) (\S+) (\S+)", out)]
    load_before = os.getloadavg()[0]
    times = {"avx512": [], "avx2": [], "ort": []}
    ort = os.path.join(ROOT, "bench", "peers", "ort_bench.js")
    for r in range(0 if a.no_speed else a.rounds):
        for isa in ("avx512", "avx2"):
            out = run(["go", "test", "-run", "^$", "-bench", "BenchmarkInfer$", "-benchtime", "2s", "-count", "1", "."],
                      pkg, dict(env, ACGEN_ISA=isa))
            times[isa] += ns_per_op(out)
        out = run(["node", ort, "-count", "1", "-benchtime", "2s", "-warmup", "1s", "-check", "none",
                   "-max-other", a.ort_max_other,
                   os.path.join(onnx_dir, "model.onnx")], os.path.join(ROOT, "bench", "peers"))
        times["ort"] += ns_per_op(out)
    med = {k: statistics.median(v) / 1e6 if v else float("nan") for k, v in times.items()}
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = [
        f"# bench/reparam/run.py, {time.strftime('%Y-%m-%d')}, CPU: {cpu}, one thread, batch 1, {a.rounds} interleaved rounds, medians",
        f"# {what}, random weights with calibrated BNs",
        f"# the family's own deploy form has {deployed_params:,} parameters",
        "# " + summary.strip().replace(mod, "(scratch module)").replace("\n", "\n# "),
        f"# acgen generated the package in {gen_s:.1f} s",
        f"# load average (1 min) before the timings {load_before:.1f}, after {os.getloadavg()[0]:.1f}, "
        f"on {os.cpu_count()} CPUs: above {os.cpu_count() / 2:.0f} other jobs share the cores and the times are not reliable",
        "",
        "max relative error vs PyTorch's unfused float32 outputs (2 inputs): " + ", ".join(f"{i} {e}" for i, e in errs),
        "max relative error vs PyTorch's unfused float64 outputs: " + ", ".join(f"{i} {e}" for i, e in errs64) +
        f" (PyTorch's own float32: {torch_err:.2g})",
        f"acgen AVX-512   {med['avx512']:8.2f} ms   ({', '.join(f'{v / 1e6:.2f}' for v in times['avx512'])})",
        f"acgen AVX2      {med['avx2']:8.2f} ms   ({', '.join(f'{v / 1e6:.2f}' for v in times['avx2'])})",
        f"ONNX Runtime    {med['ort']:8.2f} ms   ({', '.join(f'{v / 1e6:.2f}' for v in times['ort'])}; the family's deploy form, exported to ONNX)",
        f"AVX-512 / ORT   {med['avx512'] / med['ort']:8.2f}",
        f"AVX2 / ORT      {med['avx2'] / med['ort']:8.2f}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    name = "" if a.net == "repvgg_a0" else a.net + "-"
    with open(os.path.join(HERE, f"results-{name}{time.strftime('%Y-%m-%d')}.txt"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
