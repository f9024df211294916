#!/usr/bin/python3
"""End to end on every convolutional classifier torchvision lists, plain
and passed through tools/acnetify.py: torch2spec, acgen, the generated
package's own tests, and its outputs against PyTorch's on every
instruction set. Needs torch, torchvision, PyYAML (Debian: python3-torch
python3-torchvision python3-yaml) and Go; it takes hours on two cores, so
CI does not run it:

    /usr/bin/python3 tools/test_torchvision.py > tools/testdata/torchvision-e2e.txt

For each network of torchvision.models.list_models(module=torchvision.models)
but the ViT, Swin and MaxViT families (tools/testdata/models/tvmodels.py),
at 64x64 (Inception-v3: 75x75), and for each variant (plain; acnetified, as
tools/testdata/models/tvacnets.py builds it, where acnetify finds a KxK
conv feeding a BatchNorm):
  * random weights (tvmodels.randomize: He-normal convolutions and linear
    layers, random affine parameters in every BatchNorm, the ACBlock
    branches' included), BatchNorm statistics calibrated on random inputs
    and then moved at random (calibrate), and the classifier scaled so
    that the outputs are of order 1 (tvmodels.scale_output);
  * tools/torch2spec.py writes the spec from the saved state_dict, as a
    user runs it (`--model tvmodels:NAME --weights FILE`);
  * acgen (built once from this checkout) writes the package;
  * the package's test binary is built once and run: its own tests (golden
    vectors on every instruction set, allocations, concurrency, lengths),
    then, with ACGEN_ISA=avx512, avx2 and go in turn, Infer on 16 random
    inputs (on ill-conditioned networks such as EfficientNet-V2-S one
    input's float32 error varies by orders of magnitude from the next,
    and the largest of 3 told two float32 implementations of the same
    accuracy apart by 2.5x either way);
  * each instruction set's outputs are compared with PyTorch's float32
    outputs on the same inputs, relative to max(1, |y|) as
    templates/pytorchtest.go does. A network passes within 1e-4 or, where
    PyTorch's own float32 is further than 1e-4 from a float64 copy of the
    model, within 2x that error of the float64 outputs.
The table gives per network: converted, acgen ok (generated, own tests
pass), the largest error per instruction set against PyTorch's float32,
PyTorch's float32 against its float64, layers, ACBlocks, and seconds (of
torch2spec, acgen, and building and running the package's tests).

Arguments: network names to run only those; --all runs the giants too
(the larger members of families whose small members run); --variant plain
or acnet; --acgen-flags "-no-winograd" passes flags to acgen; --keep DIR keeps the generated packages there, and the specs and
checkpoints.
"""
import argparse
import copy
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = os.path.join(HERE, "testdata", "models")
sys.path.insert(0, MODELS)
sys.dont_write_bytecode = True
import tvacnets  # noqa: E402  (after the path it lives on)
import tvmodels  # noqa: E402

ISAS = ("avx512", "avx2", "go")
SAMPLES = 16
TOL = 1e-4
# Left out always: RegNetY-128GF's 645M parameters would need some 18 GB
# (the model, its float64 copy, the checkpoint, acgen's float64 check).
NEVER = {"regnet_y_128gf": "645M parameters: too big for this machine"}
# The larger members of families whose smaller members run (as
# tools/test_torch2spec.py skips them): --all runs them too.
GIANTS = ("convnext_base", "convnext_large", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_m",
          "efficientnet_v2_l", "regnet_x_16gf", "regnet_x_32gf", "regnet_y_16gf", "regnet_y_32gf",
          "resnext101_32x8d", "resnext101_64x4d", "wide_resnet101_2", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
          "vgg19", "vgg19_bn")
TIMEOUT = 3 * 3600  # seconds, for any one command

# Written into each generated package beside its own tests: Infer's
# outputs on testdata/e2e_in.bin, after the name of the instruction set
# that computed them, to $E2E_OUT.
E2E_TEST = """package PKG

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
)

func TestE2EOutputs(t *testing.T) {
	path := os.Getenv("E2E_OUT")
	if path == "" {
		t.Skip("tools/test_torchvision.py runs this, with E2E_OUT set")
	}
	raw, err := os.ReadFile("testdata/e2e_in.bin")
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, len(raw)/4)
	for i := range in {
		in[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	out := []byte(ISA() + "\\n")
	got := make([]float32, OutputLen)
	for lo := 0; lo+InputLen <= len(in); lo += InputLen {
		if err := Infer(got, in[lo:lo+InputLen]); err != nil {
			t.Fatal(err)
		}
		for _, v := range got {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
"""


def calibrate(model, side, gen):
    """BatchNorm statistics as training leaves them: the running mean and
    variance of what each BatchNorm sees, over two batches of random
    inputs (every BatchNorm in training mode, the rest of the network in
    eval mode, so that auxiliary heads and dropout stay off), then moved
    at random (the mean by N(0, 0.1) standard deviations, the variance
    times U(0.8, 1.25)), so that a folding mistake shows. With the
    statistics tvmodels.randomize draws instead (mean N(0, 0.1), variance
    U(0.5, 1.5), whatever the BatchNorm's input), activations grow through
    deep networks (1e5 in an acnetified EfficientNet-B0) until their
    outputs are differences of huge numbers, which no float32 inference
    computes well and which acgen refuses as ill-conditioned."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    with torch.no_grad():
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # a cumulative average
            bn.train()
        for _ in range(2):
            model(torch.randn(8, 3, side, side, generator=gen))
        for bn in bns:
            bn.momentum = 0.1
            std = bn.running_var.sqrt()
            bn.running_mean.add_(torch.randn(bn.num_features, generator=gen) * 0.1 * std)
            bn.running_var.mul_(torch.rand(bn.num_features, generator=gen) * 0.45 + 0.8)
    model.eval()


def first_line(text):
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return lines[0][:200] if lines else ""


def run(args, **kw):
    """Runs a command; returns (ok, combined output, seconds)."""
    t = time.time()
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, **kw)
        ok, out = p.returncode == 0, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        ok, out = False, f"timed out after {TIMEOUT} s"
    return ok, out, time.time() - t


def rel_err(got, want):
    """Largest |got - want| / max(1, |want|), NaN if any value is NaN."""
    d = (got.double() - want.double()).abs() / want.double().abs().clamp(min=1)
    return float("nan") if torch.isnan(d).any() else float(d.max())


def go_env():
    env = dict(os.environ, GOWORK="off", GOFLAGS="-mod=mod")
    env.pop("ACGEN_ISA", None)
    return env


class Runner:
    def __init__(self, work, go):
        self.work, self.go = work, go
        self.acgen = os.path.join(work, "acgen")
        ok, out, _ = run([go, "build", "-o", self.acgen, "./cmd/acgen"], cwd=ROOT, env=go_env())
        if not ok:
            sys.exit("test_torchvision: building acgen: " + first_line(out))
        self.mod = os.path.join(work, "mod")
        os.makedirs(self.mod, exist_ok=True)
        with open(os.path.join(self.mod, "go.mod"), "w") as f:
            f.write("module e2e\n\ngo 1.21\n")

    def network(self, name, variant, seed):
        """One row of the table, as a dict."""
        s = tvacnets.side(name)
        row = {"network": name, "variant": variant, "input": f"{s}x{s}", "converted": "", "acgen": "",
               "layers": "", "acblocks": "", "f32_f64": "", "acgen_f64": "", "note": "", "times": []}
        for isa in ISAS:
            row[isa] = ""
        gen = torch.Generator().manual_seed(seed)
        model = (tvacnets.build(name) if variant == "acnet" else tvmodels.build(name)).eval()
        blocks = sum(isinstance(m, tvacnets.acnetify_module.ACBlock) for m in model.modules())
        if variant == "acnet" and blocks == 0:
            return None  # no KxK conv feeds a BatchNorm (ConvNeXt): the plain network again
        row["acblocks"] = str(blocks)
        tvmodels.randomize(model, gen)
        calibrate(model, s, gen)
        tvmodels.scale_output(model, torch.randn(4, 3, s, s, generator=gen))
        x = torch.randn(SAMPLES, 3, s, s, generator=gen)
        with torch.no_grad():
            y32 = model(x)
        pkg = re.sub(r"[^a-z0-9]", "", name) + ("acnet" if variant == "acnet" else "")
        weights = os.path.join(self.work, pkg + ".pth")
        torch.save(model.state_dict(), weights)
        with torch.no_grad():
            model64 = copy.deepcopy(model).double()
            del model
            y64 = model64(x.double())
        del model64
        f32 = rel_err(y32, y64)
        row["f32_f64"] = f"{f32:.1e}"

        spec = os.path.join(self.work, pkg + ".yaml")
        ok, out, secs = run([sys.executable, os.path.join(HERE, "torch2spec.py"), "--model",
                             f"{'tvacnets' if variant == 'acnet' else 'tvmodels'}:{name}", "--weights", weights,
                             "--input", f"3,{s},{s}", "--name", pkg, "--out", spec], cwd=MODELS)
        row["times"].append(secs)
        if not ok:
            row["converted"], row["note"] = "no", first_line(out).removeprefix("torch2spec: ")
            return row
        row["converted"] = "yes"
        m = re.search(r"wrote .*: (\d+) layers", out)
        row["layers"] = m.group(1) if m else "?"

        dir_ = os.path.join(self.mod, pkg)
        ok, out, secs = run([self.acgen, "-q", "-spec", spec, "-weights", weights, "-out", dir_, "-pkg", pkg] + ACGEN_FLAGS)
        row["times"].append(secs)
        if not KEEP:
            os.remove(weights)
        if not ok:
            row["acgen"], row["note"] = "no", "acgen: " + first_line(out)
            return row
        os.makedirs(os.path.join(dir_, "testdata"), exist_ok=True)
        with open(os.path.join(dir_, "testdata", "e2e_in.bin"), "wb") as f:
            f.write(x.numpy().astype("<f4").tobytes())
        with open(os.path.join(dir_, "e2e_test.go"), "w") as f:
            f.write(E2E_TEST.replace("PKG", pkg, 1))
        t = time.time()
        binary = os.path.join(dir_, pkg + ".test")
        ok, out, _ = run([self.go, "test", "-c", "-o", binary, "./" + pkg], cwd=self.mod, env=go_env())
        if ok:
            ok, out, _ = run([binary, "-test.count=1"], cwd=dir_, env=go_env())
        if not ok:
            row["times"].append(time.time() - t)
            fails = [l for l in out.splitlines() if "FAIL" in l or "error" in l.lower() or ".go:" in l]
            row["acgen"], row["note"] = "no", "package tests: " + first_line("\n".join(fails) or out)
            return row
        row["acgen"] = "yes"
        worst = {}
        for isa in ISAS:
            path = os.path.join(dir_, f"out-{isa}.bin")
            ok, out, _ = run([binary, "-test.run", "^TestE2EOutputs$", "-test.count=1"], cwd=dir_,
                             env=dict(go_env(), ACGEN_ISA=isa, E2E_OUT=path))
            if not ok:
                row[isa], row["note"] = "fail", f"{isa}: " + first_line(out)
                continue
            with open(path, "rb") as f:
                got_isa, _, data = f.read().partition(b"\n")
            if got_isa.decode() != isa:
                row[isa], row["note"] = "fail", f"ACGEN_ISA={isa} ran {got_isa.decode()}"
                continue
            got = torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(y32.shape)
            worst[isa] = (rel_err(got, y32), rel_err(got, y64))
            row[isa] = f"{worst[isa][0]:.1e}"
        row["times"].append(time.time() - t)
        if worst:
            row["acgen_f64"] = f"{max(e64 for _, e64 in worst.values()):.1e}"
        if not KEEP:
            shutil.rmtree(dir_)
        bad = [isa for isa, (e32, e64) in worst.items()
               if not (e32 <= TOL or (f32 > TOL and e64 <= 2 * f32))]
        if bad or len(worst) < len(ISAS):
            row["note"] = row["note"] or f"beyond the tolerance on {', '.join(bad)}"
            row["ok"] = False
        else:
            row["ok"] = True
            beyond = [isa for isa, (e32, e64) in worst.items() if e32 > TOL]
            if beyond:
                row["note"] = (f"float32 {f32:.1e} from float64: within 2x of it against float64 "
                               f"({', '.join(f'{isa} {worst[isa][1]:.1e}' for isa in beyond)})")
        return row


KEEP = None
ACGEN_FLAGS = []  # --acgen-flags


def cpu_name():
    """The model name /proc/cpuinfo gives, with its family and model
    numbers (a virtual machine's name may not say which generation)."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                info.setdefault(k.strip(), v.strip())
    except OSError:
        return platform.processor() or "an unknown CPU"
    name = info.get("model name", "an unknown CPU")
    if "cpu family" in info and "model" in info:
        name += f", family {info['cpu family']} model {info['model']}"
    return name


def main():
    global KEEP, ACGEN_FLAGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="networks to run (default: every one)")
    ap.add_argument("--all", action="store_true", help="run the giants too")
    ap.add_argument("--variant", choices=("plain", "acnet"), help="only this variant")
    ap.add_argument("--keep", help="keep the generated packages in this directory")
    ap.add_argument("--acgen-flags", default="", help="more flags for acgen, space-separated (such as -no-winograd)")
    a = ap.parse_args()
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not os.path.exists(go):
        sys.exit("test_torchvision: needs the go command")
    import torchvision
    torch.set_num_threads(1)
    names = tvmodels.names()
    unknown = [n for n in a.names if n not in names]
    if unknown:
        sys.exit(f"test_torchvision: not a torchvision classifier: {', '.join(unknown)}")
    variants = [a.variant] if a.variant else ["plain", "acnet"]
    skip = dict(NEVER)
    if not a.all and not a.names:
        skip.update((n, "a larger member of its family (--all runs it)") for n in GIANTS)
    go_version = subprocess.run([go, "version"], capture_output=True, text=True).stdout.strip()
    work = a.keep or tempfile.mkdtemp(prefix="test_torchvision.")
    KEEP = a.keep
    ACGEN_FLAGS = a.acgen_flags.split()
    os.makedirs(work, exist_ok=True)
    started = time.time()
    rows = []
    try:
        runner = Runner(work, go)
        for i, name in enumerate(names):
            if a.names and name not in a.names:
                continue
            for v, variant in enumerate(variants):
                if name in skip:
                    rows.append({"network": name, "variant": variant, "skipped": skip[name]})
                    continue
                r = runner.network(name, variant, 5000 + 2 * i + (variant == "acnet"))
                if r is not None:
                    rows.append(r)
                    print(f"{name} {variant}: {r['converted']} {r['acgen']} "
                          f"{' '.join(r[isa] for isa in ISAS)} {r['note']}", file=sys.stderr, flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    table(rows, torchvision.__version__, go_version, time.time() - started)
    return 0 if all(r.get("ok") or "skipped" in r for r in rows) else 1


def table(rows, tv_version, go_version, secs):
    print(f"""End to end on torchvision {tv_version}'s convolutional classifiers (torch {torch.__version__}, {go_version}),
on {cpu_name()} ({os.cpu_count()} cores, shared): tools/test_torchvision.py.
Each network plain and acnetified (tools/acnetify.py: every KxK conv feeding a BatchNorm an ACBlock; none
where it finds no such conv), random weights and BatchNorm statistics (the ACBlock branches' too), outputs
scaled to order 1; torch2spec writes the spec, acgen the package, whose own tests then run; the columns
avx512, avx2 and go are the largest error of its Infer (ACGEN_ISA=each) on {SAMPLES} random inputs against PyTorch's
float32 outputs, relative to max(1, |y|). Within 1e-4, or, where PyTorch's float32 is further than that from
its float64 (column f32-f64), within 2x of that against the float64 outputs (column acgen-f64, the largest
over the instruction sets; the note says so). Seconds:
torch2spec + acgen + building and running the package's tests.
""")
    head = ("network", "variant", "input", "converted", "acgen ok", *ISAS, "f32-f64", "acgen-f64", "layers", "ACBlocks",
            "seconds", "note")
    lines = []
    for r in rows:
        if "skipped" in r:
            lines.append((r["network"], r["variant"], "", "skipped", "", "", "", "", "", "", "", "", "", r["skipped"]))
            continue
        t = " + ".join(f"{x:.0f}" for x in r["times"])
        lines.append((r["network"], r["variant"], r["input"], r["converted"], r["acgen"], *(r[i] for i in ISAS),
                      r["f32_f64"], r["acgen_f64"], r["layers"], r["acblocks"], t, r["note"]))
    widths = [max(len(str(l[j])) for l in lines + [head]) for j in range(len(head))]
    for l in [head] + lines:
        print("  ".join(str(c).ljust(w) for c, w in zip(l, widths)).rstrip())
    done = [r for r in rows if "skipped" not in r]
    skipped = sorted({r["network"] for r in rows if "skipped" in r})
    for variant in ("plain", "acnet"):
        vr = [r for r in done if r["variant"] == variant]
        if vr:
            print(f"\n{variant}: {sum(r['converted'] == 'yes' for r in vr)} of {len(vr)} converted, "
                  f"{sum(r['acgen'] == 'yes' for r in vr)} generated and passed their own tests, "
                  f"{sum(bool(r.get('ok')) for r in vr)} matched PyTorch on every instruction set.", end="")
    print(f"\nSkipped: {', '.join(skipped) if skipped else 'none'}. Total {secs / 3600:.1f} h.")


if __name__ == "__main__":
    sys.exit(main())
