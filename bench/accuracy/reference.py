#!/usr/bin/python3
"""Writes io.safetensors for networks exported into bench/peers/out
(by bench/peers/export.py: resnet20, resnet56, resnet18; by
bench/imagenet/export.py: tv_NAME): --samples N(0,1) inputs (seeded), the
model's float32 outputs and its float64 ones, in the fixtures' format,
so that `go run ./bench/accuracy` holds acgen's packages to PyTorch's own
float32 error over more samples than the exports' three (the largest
error over three samples moves by half from one plan to the next).

    /usr/bin/python3 bench/accuracy/reference.py [--samples 32] resnet56 tv_resnet18 ...
    /usr/bin/python3 bench/accuracy/reference.py --e2e DIR e2e_inceptionv3acnet ...

A name tv_NAME is torchvision.models.NAME with 1000 classes; the others
are bench/peers/nets.py's, in their trained form, as export.py runs them.
Their weights are OUT/NAME/model.pth. A name e2e_PKG is a network that
`tools/test_torchvision.py NAME --keep DIR` generated as PKG (random
weights and BatchNorm statistics, its own input size; PKG ends in acnet
for the acnetified variant): its spec and weights are copied from DIR
into OUT/e2e_PKG. Needs Debian's python3-torch and python3-torchvision.
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "fixtures"))
sys.path.insert(1, os.path.join(REPO, "bench", "peers"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "peers", "out"))
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--e2e", help="the directory tools/test_torchvision.py --keep wrote (for e2e_PKG names)")
    ap.add_argument("nets", nargs="+")
    a = ap.parse_args()
    try:
        import torch
        import torchvision
        import make_fixtures as mf
    except ImportError as e:
        sys.exit(f"reference.py: {e} (needs Debian's python3-torch and python3-torchvision)")
    torch.set_num_threads(1)
    for name in a.nets:
        try:
            reference(a, name, torch, torchvision, mf)
        except (OSError, RuntimeError, KeyError) as e:
            sys.exit(f"reference.py: {name}: {e}")


def reference(a, name, torch, torchvision, mf):
    """Writes OUT/name/io.safetensors."""
    d = os.path.join(a.out, name)
    pth = os.path.join(d, "model.pth")
    if name.startswith("e2e_"):
        model, shape = e2e_model(a, name[4:], d, torch)
    elif not os.path.exists(pth):
        sys.exit(f"reference.py: {pth}: missing (run bench/peers/export.py or bench/imagenet/export.py first)")
    elif name.startswith("tv_"):
        build = getattr(torchvision.models, name[3:], None)
        if build is None:
            sys.exit(f"reference.py: torchvision has no model {name[3:]}")
        model = build(num_classes=1000)
        model.load_state_dict(torch.load(pth, map_location="cpu"))
        shape = (3, 224, 224)
    else:
        import export
        if name not in export.nets.NETS:
            sys.exit(f"reference.py: no network {name} in bench/peers/nets.py")
        model = export.build_unfused(name, ckpt_dir=a.out)
        shape = export.nets.NETS[name][1]
    model.eval()
    g = torch.Generator().manual_seed(7)
    x = torch.randn(a.samples, *shape, generator=g)
    with torch.no_grad():
        y = model(x)
        y64 = model.double()(x.double())
    mf.write_safetensors(os.path.join(d, "io.safetensors"), {"input": x, "output": y, "output64": y64})
    err = ((y.double() - y64).abs() / y64.abs().clamp(min=1)).max().item()
    print(f"{name}: PyTorch float32 against float64: {err:.3g} (max relative, {a.samples} samples)")


def e2e_model(a, pkg, d, torch):
    """The network tools/test_torchvision.py generated as pkg, with the
    weights it kept in a.e2e, copied into d with its spec."""
    import shutil
    import yaml
    sys.path.insert(0, os.path.join(REPO, "tools", "testdata", "models"))
    import tvacnets
    import tvmodels
    if not a.e2e:
        sys.exit(f"reference.py: e2e_{pkg} needs --e2e DIR")
    spec = os.path.join(a.e2e, pkg + ".yaml")
    with open(spec) as f:
        shape = tuple(yaml.safe_load(f)["input"])
    acnet = pkg.endswith("acnet")
    base = pkg.removesuffix("acnet")
    name = next((n for n in tvmodels.names() if n.replace("_", "") == base), None)
    if name is None:
        sys.exit(f"reference.py: e2e_{pkg}: no torchvision classifier {base}")
    model = tvacnets.build(name) if acnet else tvmodels.build(name)
    model.load_state_dict(torch.load(os.path.join(a.e2e, pkg + ".pth"), map_location="cpu"))
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(a.e2e, pkg + ".pth"), os.path.join(d, "model.pth"))
    shutil.copy(spec, os.path.join(d, "net.yaml"))
    return model, shape


if __name__ == "__main__":
    main()
