#!/usr/bin/python3
"""RepVGG-A0 on 3x224x224 (fixtures/reparam_nets.py, the official block's
layout at full width): correctness of the generated package against
PyTorch's unfused training form, and its speed against ONNX Runtime on the
deploy form (switch_to_deploy, exported to ONNX), one thread, batch 1,
interleaved rounds. Not in CI: needs torch, onnx, Node with
bench/peers/node_modules (bench/peers/run.sh installs it) and a few
minutes.

    /usr/bin/python3 bench/reparam/run.py [--rounds 5]

Writes bench/reparam/results-DATE.txt.
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
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location("_mf", os.path.join(ROOT, "fixtures", "make_fixtures.py"))
mf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mf)

SHAPE = (3, 224, 224)



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
    a = ap.parse_args()
    torch.set_num_threads(1)
    work = tempfile.mkdtemp(prefix="acgen-repvgg-")
    torch.manual_seed(7)
    model = rn.repvgg_a0()
    mf.init_weights(model, SHAPE)
    model.eval()
    torch.save(model.state_dict(), os.path.join(work, "model.pth"))
    x = torch.randn(2, *SHAPE)
    with torch.no_grad():
        y = model(x)
    run([sys.executable, os.path.join(ROOT, "tools", "torch2spec.py"), "--model", "reparam_nets:repvgg_a0",
         "--weights", os.path.join(work, "model.pth"), "--input", "3,224,224", "--name", "repvgg",
         "--out", os.path.join(work, "net.yaml")], os.path.join(ROOT, "fixtures"))
    deployed = rn.deploy(copy.deepcopy(model))
    onnx_dir = os.path.join(work, "repvgg_a0")
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
    errs = []
    for isa in ("avx512", "avx2", "go"):
        out = run(["go", "test", "-count=1", "-run", "TestMatchesPyTorch", "-v", "."], pkg, dict(env, ACGEN_ISA=isa))
        errs += [(i, e) for _, i, e in re.findall(r"MAXERR (\S+) (\S+) (\S+)", out)]
    times = {"avx512": [], "avx2": [], "ort": []}
    ort = os.path.join(ROOT, "bench", "peers", "ort_bench.js")
    for r in range(a.rounds):
        for isa in ("avx512", "avx2"):
            out = run(["go", "test", "-run", "^$", "-bench", "BenchmarkInfer$", "-benchtime", "2s", "-count", "1", "."],
                      pkg, dict(env, ACGEN_ISA=isa))
            times[isa] += ns_per_op(out)
        out = run(["node", ort, "-count", "1", "-benchtime", "2s", "-warmup", "1s", "-check", "none",
                   os.path.join(onnx_dir, "model.onnx")], os.path.join(ROOT, "bench", "peers"))
        times["ort"] += ns_per_op(out)
    med = {k: statistics.median(v) / 1e6 for k, v in times.items()}
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = [
        f"# bench/reparam/run.py, {time.strftime('%Y-%m-%d')}, CPU: {cpu}, one thread, batch 1, {a.rounds} interleaved rounds, medians",
        f"# RepVGG-A0 (3x224x224, fixtures/reparam_nets.py repvgg_a0: 22 blocks), random weights with calibrated BNs",
        "# " + summary.strip().replace(mod, "(scratch module)").replace("\n", "\n# "),
        f"# acgen generated the package in {gen_s:.1f} s",
        "",
        "max relative error vs PyTorch's unfused float32 outputs (2 inputs): " + ", ".join(f"{i} {e}" for i, e in errs),
        f"acgen AVX-512   {med['avx512']:8.2f} ms   ({', '.join(f'{v / 1e6:.2f}' for v in times['avx512'])})",
        f"acgen AVX2      {med['avx2']:8.2f} ms   ({', '.join(f'{v / 1e6:.2f}' for v in times['avx2'])})",
        f"ONNX Runtime    {med['ort']:8.2f} ms   ({', '.join(f'{v / 1e6:.2f}' for v in times['ort'])}; the deploy form, switch_to_deploy, exported to ONNX)",
        f"AVX-512 / ORT   {med['avx512'] / med['ort']:8.2f}",
        f"AVX2 / ORT      {med['avx2'] / med['ort']:8.2f}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(HERE, f"results-{time.strftime('%Y-%m-%d')}.txt"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
