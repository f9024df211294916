#!/usr/bin/python3
"""Makes the torchvision benchmark networks: checkpoint, spec, ONNX export.

Run with Debian's python3 (torch 1.13, torchvision 0.14, onnx, PyYAML):

    /usr/bin/python3 bench/imagenet/export.py --out bench/peers/out [resnet18 resnet50 mobilenet_v2 vgg16]

For each network NAME (tvnets.BUILDERS) it writes OUT/tv_NAME/:

  model.pth        the state_dict (torch 1.13 zip format): torchvision's
                   seeded default initialisation, then random BatchNorm
                   affine parameters and running statistics (calibrated on
                   random data and perturbed: fixtures/make_fixtures.py's
                   init_weights), so that activations stay O(1) and a
                   folding mistake shows
  net.yaml         written by tools/torch2spec.py from the model and
                   model.pth; torch2spec checks it against the model in
                   float64 before it succeeds
  model.onnx       the eval-mode export (opset 13, batch 1, input "input",
                   output "output"), as a user would make it; ONNX Runtime
                   folds the BatchNorms itself          (not with --no-onnx)
  ref_input.f32,   one N(0,1) sample and the float32 PyTorch model's output
  ref_output.f32   on it; ort_bench.js checks ONNX Runtime against them
                                                        (not with --no-onnx)
  info.json        parameters, the float32 bytes of the checkpoint's
                   floating tensors, FLOPs and the op census of the ONNX
                   graph (when exported)

The output is deterministic: a rerun writes the same files. --keep skips a
network whose directory already holds what would be written; --specs DIR
copies each net.yaml to DIR/tv_NAME.yaml (bench/nets/tv_*.yaml are those
copies, so that bench/report can run the networks with synthetic weights
on a machine without torch).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
# One BLAS thread (Debian's torch calls OpenBLAS), set before torch loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(REPO, "bench", "peers"))
sys.path.insert(2, os.path.join(REPO, "fixtures"))

import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import make_fixtures as mf  # noqa: E402  (fixtures/make_fixtures.py)
import onnx_info  # noqa: E402  (bench/peers/onnx_info.py)
import tvnets  # noqa: E402


def fail(msg):
    sys.exit(f"export.py: {msg}")


def randomise(model):
    """Random BatchNorm parameters and statistics (a network without
    BatchNorm keeps torchvision's initialisation)."""
    if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        torch.manual_seed(1)
        mf.init_weights(model, tvnets.INPUT)
    return model.eval()


def check_vgg_pool(model):
    """VGG-16 is written without its adaptive pool: show that at 224x224 the
    pool changes nothing, on the very weights written."""
    full = tvnets.vgg16_with_pool()
    full.load_state_dict(model.state_dict())
    x = torch.randn(1, *tvnets.INPUT, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        d = float((full(x) - model(x)).abs().max())
    if d != 0:
        fail(f"vgg16: dropping the 7x7 adaptive pool changed the output by {d}")


def save_atomic(write, path):
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)


def torch2spec(name, out_dir):
    """tools/torch2spec.py on the model and its saved weights; its check
    must pass."""
    cmd = [sys.executable, os.path.join(REPO, "tools", "torch2spec.py"), "--model", f"tvnets:{name}",
           "--weights", os.path.join(out_dir, "model.pth"), "--input", ",".join(map(str, tvnets.INPUT)),
           "--name", "tv_" + name, "--out", os.path.join(out_dir, "net.yaml")]
    p = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{name}: torch2spec failed:\n{p.stdout}{p.stderr}")
    return p.stdout.strip()


def export_onnx(model, path):
    x = torch.randn(1, *tvnets.INPUT)
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["output"],
                      do_constant_folding=True, export_params=True, training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def export_net(name, out_root, with_onnx, keep, specs):
    out_dir = os.path.abspath(os.path.join(out_root, "tv_" + name))  # torch2spec runs elsewhere
    want = ["model.pth", "net.yaml", "info.json"] + (["model.onnx", "ref_input.f32", "ref_output.f32"] if with_onnx else [])
    if keep and all(os.path.exists(os.path.join(out_dir, f)) for f in want):
        print(f"tv_{name}: kept {out_dir}")
    else:
        write_net(name, out_dir, with_onnx)
    if specs:
        shutil.copyfile(os.path.join(out_dir, "net.yaml"), os.path.join(specs, f"tv_{name}.yaml"))


def write_net(name, out_dir, with_onnx):
    os.makedirs(out_dir, exist_ok=True)
    model = randomise(tvnets.BUILDERS[name]())
    if name == "vgg16":
        check_vgg_pool(model)
    sd = model.state_dict()
    save_atomic(lambda p: torch.save(sd, p), os.path.join(out_dir, "model.pth"))
    floats = sum(v.numel() for v in sd.values() if v.is_floating_point())
    info = {
        "name": "tv_" + name,
        "input": list(tvnets.INPUT),
        "weights": "random: torchvision's init (seeded), BatchNorm randomised",
        "params": sum(p.numel() for p in model.parameters()),
        "state_dict_floats": floats,
        "float32_bytes": 4 * floats,
        "torch": torch.__version__,
    }
    info["torch2spec"] = torch2spec(name, out_dir)

    if with_onnx:
        m = export_onnx(model, os.path.join(out_dir, "model.onnx"))
        x1 = torch.randn(1, *tvnets.INPUT, generator=torch.Generator().manual_seed(1000))
        with torch.no_grad():
            y1 = model(x1)
        ymax = float(y1.abs().max())
        if not 1e-3 <= ymax <= 1e4:
            fail(f"{name}: output max |y| {ymax}: the random weights blow up or vanish")
        x1.numpy().astype("<f4").tofile(os.path.join(out_dir, "ref_input.f32"))
        y1.numpy().astype("<f4").tofile(os.path.join(out_dir, "ref_output.f32"))
        a = onnx_info.analyse(m)
        info.update({"macs": a["macs"], "conv_macs": a["conv_macs"], "gemm_macs": a["gemm_macs"],
                     "mflop": a["flops"] / 1e6, "mflop_unpadded": 2 * a["macs_unpadded"] / 1e6,
                     "onnx_params": a["params"], "onnx_ops": a["ops"], "out_max": ymax})
    with open(os.path.join(out_dir, "info.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
        f.write("\n")
    mflop = f", {info['mflop']:.1f} MFLOP" if "mflop" in info else ""
    print(f"tv_{name}: {info['params']:,} parameters, {info['float32_bytes'] / 1e6:.1f} MB float32{mflop}")
    print("  " + info["torch2spec"].replace("\n", "\n  "))
    if "onnx_ops" in info:
        print("  ONNX ops: " + ", ".join(f"{k} {v}" for k, v in sorted(info["onnx_ops"].items())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory (one subdirectory tv_NAME per network)")
    ap.add_argument("--no-onnx", action="store_true", help="checkpoint, spec and info.json only")
    ap.add_argument("--keep", action="store_true", help="skip a network already exported to --out")
    ap.add_argument("--specs", help="also copy each net.yaml to SPECS/tv_NAME.yaml (bench/nets holds them)")
    ap.add_argument("nets", nargs="*", default=["resnet18", "resnet50", "mobilenet_v2"],
                    help=f"of {list(tvnets.BUILDERS)}")
    a = ap.parse_args()
    for n in a.nets:
        if n not in tvnets.BUILDERS:
            ap.error(f"unknown network {n!r}; known: {list(tvnets.BUILDERS)}")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.backends.mkldnn.enabled = False  # plain kernels: reproducible files
    for n in a.nets:
        export_net(n, a.out, not a.no_onnx, a.keep, a.specs)


if __name__ == "__main__":
    main()
