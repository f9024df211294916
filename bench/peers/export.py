#!/usr/bin/python3
"""Builds the benchmark networks, fuses them in PyTorch and exports ONNX.

Run with Debian's python3 (the one with torch 1.13 and onnx):

    /usr/bin/python3 bench/peers/export.py --out bench/peers/out [resnet20 resnet56 resnet18]

For each network NAME it writes OUT/NAME/:

  net.yaml           acgen spec of the unfused (trained-form) network, in the
                     style of fixtures/*/net.yaml
  model.pth          unfused state_dict (torch 1.13 zip format), what acgen reads
  model.safetensors  the same tensors without num_batches_tracked
  io.safetensors     input [3, C, H, W] N(0,1), output (float32 model), output64
                     (float64 copy), as in fixtures/ (see fixtures/README.md)
  model.onnx         the FUSED network (every ACBlock one Conv2d with bias, every
                     other conv+bn folded), opset 13, batch 1, input "input",
                     output "output"
  ref_input.f32      one sample [1, C, H, W], raw little-endian float32
  ref_output.f32     the fused float32 PyTorch model's output on it
  info.json          parameters, FLOPs of the fused graph, fusion errors

and OUT/noop/model.onnx, a graph that does next to nothing (global average
pooling of a 1x3x32x32 input), to measure ORT's per-call overhead.

resnet20 takes its weights from fixtures/resnet20/model.pth. resnet56 and
resnet18 are random: fixed seed, PyTorch's default conv/linear init, and the
fixtures' BatchNorm initialisation (random affine parameters, running
statistics calibrated on random data and then perturbed; make_fixtures.py's
init_weights), so that folding mistakes show and activations stay O(1).

Checks before anything is written:
  * the fused model matches the unfused one (max |diff| / max |out| < 1e-4,
    float32; < 1e-10 in float64);
  * the spec, read back with PyYAML and run by make_fixtures.py's independent
    interpreter on the re-loaded model.pth, reproduces the float64 module and
    binds every checkpoint tensor exactly once;
  * the ONNX graph passes onnx.checker and holds no BatchNormalization.
"""

import argparse
import copy
import json
import os
import sys

sys.dont_write_bytecode = True
# One BLAS thread (Debian's torch calls OpenBLAS), set before torch loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import nets  # noqa: E402  (puts fixtures/ on sys.path)

import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import yaml  # noqa: E402

import make_fixtures as mf  # noqa: E402  (fixtures/make_fixtures.py)
import onnx_info  # noqa: E402

REPO = os.path.normpath(os.path.join(nets.HERE, "..", ".."))
HEADER = ("# Written by bench/peers/export.py; do not edit by hand.\n"
          "# Regenerate with: /usr/bin/python3 bench/peers/export.py --out DIR")
N_SAMPLES = 3


# ------------------------------------------------------------ networks

def build_unfused(name, ckpt_dir=None):
    """The trained-form network in eval mode. Weights: the committed
    checkpoint, else OUT/NAME/model.pth when ckpt_dir is given and holds one,
    else the deterministic random initialisation."""
    ctor, shape, seed, _, committed = nets.NETS[name]
    torch.manual_seed(seed)
    model = ctor()
    path = None
    if committed is not None:
        path = os.path.join(REPO, committed)
    elif ckpt_dir is not None and os.path.exists(os.path.join(ckpt_dir, name, "model.pth")):
        path = os.path.join(ckpt_dir, name, "model.pth")
    if path is not None:
        model.load_state_dict(mf.load_checkpoint_sd(path))
    else:
        mf.init_weights(model, shape)
    model.eval()
    return model


def _fused_conv(conv, weight, bias):
    f = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                  padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=True,
                  dtype=weight.dtype)
    with torch.no_grad():
        f.weight.copy_(weight)
        f.bias.copy_(bias)
    return f


def _fold(conv, bn):
    """conv followed by an eval-mode BatchNorm -> one conv with bias."""
    w, b = nets.ACBlock._fuse_bn_tensor(conv, bn)
    return _fused_conv(conv, w, b)


def fuse(model):
    """Deploy form: each ACBlock -> one Conv2d with bias (BNs folded into the
    three branches, 1xK kernel added into the centre row and Kx1 into the
    centre column of the KxK one); each nn.Sequential(conv, bn) and each of
    the model's `fold_pairs` -> one conv with bias. Returns a new module."""
    m = copy.deepcopy(model).eval()

    def walk(mod):
        for cname, child in list(mod.named_children()):
            if isinstance(child, nets.ACBlock):
                assert child.crop == 0, "cropping ACBlocks are not used here"
                with torch.no_grad():
                    k, b = child.get_equivalent_kernel_bias()
                setattr(mod, cname, _fused_conv(child.square_conv, k, b))
            elif (isinstance(child, nn.Sequential) and len(child) == 2
                  and isinstance(child[0], nn.Conv2d) and isinstance(child[1], nn.BatchNorm2d)):
                with torch.no_grad():
                    setattr(mod, cname, _fold(child[0], child[1]))
            else:
                walk(child)

    walk(m)
    for cpath, bpath in getattr(m, "fold_pairs", []):
        conv, bn = m.get_submodule(cpath), m.get_submodule(bpath)
        with torch.no_grad():
            setattr(m, cpath, _fold(conv, bn))
        setattr(m, bpath, nn.Identity())
    left = [n for n, x in m.named_modules() if isinstance(x, (nets.ACBlock, nn.BatchNorm2d))]
    assert not left, f"unfused modules left: {left}"
    return m.eval()


def rel_err(a, b):
    return float((a - b).abs().max()) / max(float(b.abs().max()), 1e-30)


# ------------------------------------------------------------ files

def write_spec(path, name, input_shape, layers, output=None):
    lines = [HEADER, f"name: {name}", f"input: {mf.yaml_value(list(input_shape))}", "layers:"]
    for layer in layers:
        body = ", ".join(f"{k}: {mf.yaml_value(v)}" for k, v in layer.items())
        lines.append(f"  - {{{body}}}")
    if output is not None:
        lines.append(f"output: {output}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def export_onnx(model, shape, path):
    x = torch.randn(1, *shape)
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["output"], do_constant_folding=True,
                      export_params=True, training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = {n.op_type for n in m.graph.node}
    assert "BatchNormalization" not in ops, ops
    return m


def export_net(name, out_root, log=print):
    ctor, shape, seed, output, committed = nets.NETS[name]
    out_dir = os.path.join(out_root, name)
    os.makedirs(out_dir, exist_ok=True)

    model = build_unfused(name)
    fused = fuse(model)

    # ---- fusion checks, float32 and float64, on N_SAMPLES random inputs
    g = torch.Generator().manual_seed(1000 + seed)
    x = torch.randn(N_SAMPLES, *shape, generator=g)
    with torch.no_grad():
        y = model(x)
        yf = fused(x)
        model64 = copy.deepcopy(model).double()
        y64 = model64(x.double())
        yf64 = fuse(model64).double()(x.double())
    err32 = rel_err(yf, y)
    err64 = rel_err(yf64, y64)
    assert err32 < 1e-4, f"{name}: fused vs unfused rel err {err32}"
    assert err64 < 1e-10, f"{name}: fused vs unfused rel err (float64) {err64}"
    ymax = float(y.abs().max())
    assert 1e-2 <= ymax <= 1e3, f"{name}: output max abs {ymax}"

    # ---- checkpoint, spec, io (the fixtures' formats)
    sd = model.state_dict()
    torch.save(sd, os.path.join(out_dir, "model.pth"))
    st = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    mf.write_safetensors(os.path.join(out_dir, "model.safetensors"), st)
    mf.write_safetensors(os.path.join(out_dir, "io.safetensors"),
                         {"input": x, "output": y, "output64": y64})
    layers = model.spec_layers()
    write_spec(os.path.join(out_dir, "net.yaml"), name, shape, layers, output)

    with open(os.path.join(out_dir, "net.yaml")) as f:
        spec = yaml.safe_load(f)
    assert spec["layers"] == layers and spec["input"] == list(shape)
    lsd = mf.load_checkpoint_sd(os.path.join(out_dir, "model.pth"))
    lsd = {k: v.double() for k, v in lsd.items() if not k.endswith("num_batches_tracked")}
    stats = {}
    with torch.no_grad():
        ys, used = mf.run_spec(spec, lsd, x.double(), stats)
    unused = set(lsd) - used
    assert not unused, f"{name}: checkpoint keys the spec does not bind: {sorted(unused)}"
    spec_err = float((ys.reshape(N_SAMPLES, -1) - y64.reshape(N_SAMPLES, -1)).abs().max())
    assert spec_err < 1e-9, f"{name}: spec interpreter differs from the module by {spec_err}"
    act_max = max(v for _, v in stats["layer_max"])

    # ---- fused ONNX + a batch-1 reference for ort_bench.js --check
    onnx_path = os.path.join(out_dir, "model.onnx")
    m = export_onnx(fused, shape, onnx_path)
    x1 = x[:1].contiguous()
    with torch.no_grad():
        y1 = fused(x1)
    x1.numpy().astype("<f4").tofile(os.path.join(out_dir, "ref_input.f32"))
    y1.numpy().astype("<f4").tofile(os.path.join(out_dir, "ref_output.f32"))

    info = onnx_info.analyse(m)
    acbs = sum(isinstance(x_, nets.ACBlock) for x_ in model.modules())
    # MACs of the trained (unfused) form, for reference: three branches per ACBlock
    unfused_macs = 0
    hooks = []
    for mod in model.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            def hook(mo, inp, out):
                nonlocal unfused_macs
                if isinstance(mo, nn.Conv2d):
                    unfused_macs += out[0].numel() * mo.weight[0].numel()
                else:
                    unfused_macs += mo.weight.numel()
            hooks.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        model(x1)
    for h in hooks:
        h.remove()

    summary = {
        "name": name,
        "input": list(shape),
        "weights": committed or f"random (seed {seed})",
        "acblocks": acbs,
        "params_unfused": sum(p.numel() for p in model.parameters()),
        "params_fused": info["params"],
        "macs": info["macs"],
        "conv_macs": info["conv_macs"],
        "gemm_macs": info["gemm_macs"],
        "mflop": info["flops"] / 1e6,
        "mflop_unpadded": 2 * info["macs_unpadded"] / 1e6,
        "mflop_unfused": 2 * unfused_macs / 1e6,
        "onnx_ops": info["ops"],
        "fuse_rel_err32": err32,
        "fuse_rel_err64": err64,
        "spec_err64": spec_err,
        "out_max": ymax,
        "act_max": act_max,
    }
    with open(os.path.join(out_dir, "info.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")
    log(f"{name:<9} {tuple(shape)}  {acbs} ACBlocks  params {summary['params_unfused']:,}"
        f" unfused / {info['params']:,} fused  {info['flops'] / 1e6:.2f} MFLOP fused"
        f" ({summary['mflop_unfused']:.2f} unfused)  fuse rel err {err32:.1e} (f64 {err64:.1e})"
        f"  spec err {spec_err:.1e}  max|out| {ymax:.3g}  max act {act_max:.3g}")
    log("          ONNX ops: " + ", ".join(f"{k} {v}" for k, v in sorted(info["ops"].items())))
    return summary


def export_noop(out_root):
    """OUT/noop/model.onnx: GlobalAveragePool + Flatten of a 1x3x32x32 input, to
    measure the fixed cost of one onnxruntime-node session.run call."""
    from onnx import TensorProto, helper
    g = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["output"])], "noop",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="bench/peers/export.py")
    onnx.checker.check_model(m)
    os.makedirs(os.path.join(out_root, "noop"), exist_ok=True)
    onnx.save(m, os.path.join(out_root, "noop", "model.onnx"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory (one subdirectory per net)")
    ap.add_argument("nets", nargs="*", default=list(nets.NETS), help=f"of {list(nets.NETS)}")
    args = ap.parse_args()
    for n in args.nets:
        if n not in nets.NETS:
            ap.error(f"unknown net {n!r}; known: {list(nets.NETS)}")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.backends.mkldnn.enabled = False  # plain kernels: reproducible files
    os.makedirs(args.out, exist_ok=True)
    for n in args.nets:
        export_net(n, args.out)
    export_noop(args.out)


if __name__ == "__main__":
    main()
