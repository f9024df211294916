#!/usr/bin/python3
"""Tests tools/torch2spec.py as a user runs it, beside their own code: a
package named acnet laid out as the official code's, networks written the
way the official code and today's users write them
(testdata/models/official_like.py, newops.py, written_norms.py), models it must refuse
without leaving a file (broken_models.py), checkpoints saved the ways
trainers save them, and every convolutional classifier torchvision lists
(testdata/models/tvmodels.py). Needs torch and h5py (Debian: python3-torch
python3-h5py); the torchvision run needs python3-torchvision and is
skipped without it:

    /usr/bin/python3 tools/test_torch2spec.py

The torchvision run prints its table on standard output; it is committed
as tools/testdata/torchvision-table.txt:

    TORCH2SPEC_ALL=1 /usr/bin/python3 tools/test_torch2spec.py Torchvision > tools/testdata/torchvision-table.txt

(without TORCH2SPEC_ALL=1, the larger members of each family are skipped).

.ci/run runs it when that Python has torch, and skips it otherwise (CI
never depends on torch).
"""
import collections
import contextlib
import gc
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import torch
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "testdata", "models")
sys.path.insert(0, MODELS)
import broken_models  # noqa: E402  (after the path it lives on)
import newops  # noqa: E402
import written_norms  # noqa: E402
import official_like  # noqa: E402


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


interp = load("_test_spec_interp", os.path.join(HERE, "..", "fixtures", "spec_interp.py"))


def torch2spec(*args, out=None, env=None):
    """Runs torch2spec from the models' directory, as a user runs it from
    their repository; returns exit code, stdout, stderr and the spec ("" if
    --out holds no file). out: the --out path (default: a fresh one)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = out or os.path.join(tmp, "net.yaml")
        p = subprocess.run([sys.executable, os.path.join(HERE, "torch2spec.py"), *args, "--out", out],
                           cwd=MODELS, capture_output=True, text=True, env={**os.environ, **(env or {})})
        spec = ""
        if os.path.exists(out):
            with open(out) as f:
                spec = f.read()
    return p.returncode, p.stdout, p.stderr, spec


class Case(unittest.TestCase):
    def assertOneLineEach(self, stderr, *wants):
        self.assertNotIn("Traceback", stderr)
        lines = stderr.strip().splitlines()
        self.assertEqual(len(lines), len(wants), stderr)
        for line, want in zip(lines, wants):
            self.assertTrue(line.startswith("torch2spec: "), line)
            self.assertIn(want, line)


class Torch2Spec(Case):

    def test_official_layouts(self):
        for model, layers, name in (("wrn", "13 layers, 1 ACBlocks", "wrn"), ("quick", "10 layers, 2 ACBlocks", "quick"),
                                    ("modern", "14 layers, 0 ACBlocks", "modern"),
                                    ("se_linear", "12 layers, 0 ACBlocks", "selinear")):
            code, stdout, stderr, spec = torch2spec("--model", "official_like:" + model, "--input", "3,16,16")
            self.assertEqual(code, 0, stderr)
            self.assertIn(layers, stdout)
            self.assertIn(f"name: {name}\n", spec)

    def test_spec_records_its_check(self):
        code, _, stderr, spec = torch2spec("--model", "official_like:wrn", "--input", "3,16,16")
        self.assertEqual(code, 0, stderr)
        checked = [l for l in spec.splitlines() if l.startswith("# Checked by tools/torch2spec.py: ")]
        self.assertEqual(len(checked), 1, spec)
        self.assertRegex(checked[0], r"max relative difference \d\.\de[-+]\d+ against the model in float64 "
                                     r"\(torch " + torch.__version__.replace(".", r"\.") + r"\)$")

    def test_every_unsupported_node_in_one_run(self):
        code, _, stderr, spec = torch2spec("--model", "official_like:exotic", "--input", "3,16,16")
        self.assertEqual(code, 1)
        self.assertEqual(spec, "")
        self.assertOneLineEach(stderr, "act: Mish", "up: Upsample", "elu: ELU", "repeat", "mul")

    def test_user_mistakes_are_one_line(self):
        for args, want in (
                (["--model", "official_like:broken"], "broken() raised ValueError: a bug in the user's factory"),
                (["--model", "official_like:nosuch"], "official_like has no nosuch"),
                (["--model", "nomodule:build"], "cannot import nomodule"),
                (["--model", "official_like"], "want MODULE:CALLABLE"),
                (["--model", "official_like:two_inputs"], "TwoInputs.forward takes 2 inputs (x, y): acgen networks take one"),
                (["--model", "official_like:wrn", "--input", "3x16x16"], "want C,H,W")):
            args = args if "--input" in args else args + ["--input", "3,16,16"]
            code, _, stderr, _ = torch2spec(*args)
            self.assertEqual(code, 1, args)
            self.assertOneLineEach(stderr, want)

    def test_checkpoints(self):
        model = official_like.wrn()
        sd = model.state_dict()
        with tempfile.TemporaryDirectory() as tmp:
            def path(name):
                return os.path.join(tmp, name)
            torch.save(model, path("whole.pth"))
            torch.save({"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": {}}, path("trainer.pth"))
            torch.save({k: v for k, v in sd.items() if k != "fc.bias"}, path("short.pth"))
            with h5py.File(path("finish.hdf5"), "w") as f:  # the official save_hdf5's layout
                for k, v in sd.items():
                    f.create_dataset(k.replace("/", "+"), data=v.numpy())
                f.create_dataset("deps", data=[8, 8, 16])
            for name in ("trainer.pth", "finish.hdf5"):
                code, _, stderr, _ = torch2spec("--model", "official_like:wrn", "--input", "3,16,16", "--weights", path(name))
                self.assertEqual(code, 0, name + ": " + stderr)
            code, _, stderr, _ = torch2spec("--model", "official_like:wrn", "--input", "3,16,16", "--weights", path("whole.pth"))
            self.assertOneLineEach(stderr, "save its weights instead: torch.save(model.state_dict(), path)")
            code, _, stderr, _ = torch2spec("--model", "official_like:wrn", "--input", "3,16,16", "--weights", path("short.pth"))
            self.assertOneLineEach(stderr, "key fc.bias missing from the file")


class FailsClosed(Case):
    """A run that refuses the model, fails its own check or crashes in the
    model's code leaves nothing at --out: no file where there was none, the
    old file untouched where there was one, and no temporary file."""

    CASES = (("official_like:exotic", "3,16,16", "up: Upsample is not an op"),
             ("broken_models:batch_dependent", "3,8,8", "the spec differs from the model by"),
             ("broken_models:shape_bug", "3,8,8", "features.1.fc: running the model on a 3,8,8 input: "
                                                  "RuntimeError: mat1 and mat2 shapes cannot be multiplied"))

    def test_nothing_at_out(self):
        for model, shape, want in self.CASES:
            for before in (None, "# a spec written by hand\n"):
                with self.subTest(model=model, existing=before is not None), tempfile.TemporaryDirectory() as tmp:
                    out = os.path.join(tmp, "net.yaml")
                    if before is not None:
                        with open(out, "w") as f:
                            f.write(before)
                    code, _, stderr, spec = torch2spec("--model", model, "--input", shape, out=out)
                    self.assertEqual(code, 1, stderr)
                    self.assertIn(want, stderr)
                    self.assertNotIn("Traceback", stderr)
                    self.assertEqual(spec, before or "")
                    self.assertEqual(os.listdir(tmp), [] if before is None else ["net.yaml"])

    def test_model_crash_is_one_line_traceback_on_request(self):
        code, _, stderr, _ = torch2spec("--model", "broken_models:shape_bug", "--input", "3,8,8")
        self.assertEqual(code, 1)
        self.assertEqual(stderr.strip().splitlines(), [
            "torch2spec: features.1.fc: running the model on a 3,8,8 input: RuntimeError: mat1 and mat2 shapes "
            "cannot be multiplied (2x8 and 12x10)"])
        code, _, stderr, _ = torch2spec("--model", "broken_models:shape_bug", "--input", "3,8,8",
                                        env={"TORCH2SPEC_TRACEBACK": "1"})
        self.assertEqual(code, 1)
        self.assertIn("Traceback", stderr)
        self.assertIn("in forward", stderr)
        self.assertTrue(stderr.strip().splitlines()[-1].startswith("torch2spec: features.1.fc: "), stderr)

    def test_load_hooks_get_the_metadata(self):
        """The state_dict's _metadata reaches the model's load hook (with a
        DataParallel's `module.` stripped from it too); without it the
        hook's exception is one line naming the model."""
        torch.manual_seed(0)
        model = broken_models.versioned()
        with tempfile.TemporaryDirectory() as tmp:
            saved = {"plain.pth": model.state_dict(),
                     "dataparallel.pth": torch.nn.DataParallel(model).state_dict(),
                     "nometa.pth": dict(model.state_dict())}
            for name, sd in saved.items():
                torch.save(sd, os.path.join(tmp, name))
            for name in ("plain.pth", "dataparallel.pth"):
                code, _, stderr, spec = torch2spec("--model", "broken_models:versioned", "--input", "3,8,8",
                                                   "--weights", os.path.join(tmp, name))
                self.assertEqual(code, 0, name + ": " + stderr)
            code, _, stderr, spec = torch2spec("--model", "broken_models:versioned", "--input", "3,8,8",
                                               "--weights", os.path.join(tmp, "nometa.pth"))
            self.assertEqual(code, 1)
            self.assertEqual(spec, "")
            self.assertOneLineEach(stderr, "Versioned: loading the weights: ValueError: version should be 1 or 2, not None")


class NewOps(unittest.TestCase):
    """The ops acgen's spec gained for torchvision's networks, in one
    hand-written network (testdata/models/newops.py)."""

    @classmethod
    def setUpClass(cls):
        torch.manual_seed(1)
        cls.model = newops.newops().eval()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.weights = os.path.join(cls.tmp.name, "newops.pth")
        torch.save(cls.model.state_dict(), cls.weights)
        cls.code, cls.stdout, cls.stderr, cls.text = torch2spec(
            "--model", "newops:newops", "--input", "3,18,16", "--weights", cls.weights)
        cls.spec = yaml.safe_load(cls.text) if cls.text else None

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def layer(self, name):
        return next(l for l in self.spec["layers"] if l["name"] == name)

    def test_converts(self):
        self.assertEqual(self.code, 0, self.stderr)
        want = {
            "stem.0": {"op": "conv", "out": 8, "kernel": [1, 5], "padding": [0, 2]},
            "stem.1": {"op": "conv", "out": 8, "kernel": [3, 1], "stride": [2, 1], "padding": [1, 0]},
            "pool": {"op": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True},
            "avg": {"op": "avgpool", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
            "norm": {"op": "layernorm"},
            "block.block.2": {"op": "layernorm", "eps": 1e-06},
            "block.block.3": {"op": "conv", "out": 32, "kernel": 1},  # an nn.Linear over channels
            "block.block.4": {"op": "gelu", "approximate": "tanh"},
            "block.layer_scale": {"op": "scale"},
            "chunk": {"op": "split", "sizes": [4, 4]},
            "view_1": {"op": "channel_shuffle", "groups": 2},
            "head": {"op": "adaptive_avgpool", "size": [2, 3]},
            "out_scale": {"op": "scale"},
        }
        for name, fields in want.items():
            got = self.layer(name)
            self.assertEqual({k: got.get(k) for k in fields}, fields, name)
        self.assertEqual(self.layer("shuffle.branch2.0")["inputs"], ["chunk:1"])
        self.assertEqual(self.layer("cat_1")["inputs"], ["chunk:0", "shuffle.branch2.7"])
        ops = [l["op"] for l in self.spec["layers"]]
        self.assertEqual(ops.count("concat"), 1)  # torch.cat([x], 1) is no layer
        self.assertIn("gelu", ops)
        self.assertIn("mul", ops)

    def test_interpreter_catches_a_wrong_field(self):
        """Each new field changed in the written spec makes the float64
        check fail: the interpreter reads it, and from the spec."""
        self.assertEqual(self.code, 0, self.stderr)
        sd = {k: v.double() for k, v in self.model.state_dict().items()}
        x = torch.randn(3, 3, 18, 16, dtype=torch.float64)
        with torch.no_grad():
            want = self.model.double()(x)
            self.model.float()
            got, _ = interp.run_spec(self.spec, sd, x)
        self.assertLess(float((got - want).abs().max()), 1e-9)
        mistakes = {"pool": {"ceil_mode": False}, "avg": {"count_include_pad": True},
                    "stem.1": {"stride": [1, 2]}, "block.block.2": {"eps": 1e-5},
                    "block.block.4": {"approximate": "none"}, "view_1": {"groups": 4},
                    "head": {"size": [3, 2]}, "chunk": {"sizes": [2, 6]}}
        for name, change in mistakes.items():
            with self.subTest(layer=name, change=change):
                spec = yaml.safe_load(self.text)
                next(l for l in spec["layers"] if l["name"] == name).update(change)
                try:
                    with torch.no_grad():
                        got, _ = interp.run_spec(spec, sd, x)
                    caught = got.shape != want.shape or float((got - want).abs().max()) > 1e-9
                except (RuntimeError, AssertionError, KeyError, ValueError):
                    caught = True
                self.assertTrue(caught)

    def test_interpreter_rules_match_pytorch(self):
        """The interpreter's own pooling, adaptive pooling, shuffle,
        LayerNorm and GELU rules against PyTorch's functionals."""
        F = torch.nn.functional
        g = torch.Generator().manual_seed(2)
        for n in range(5, 12):
            h = torch.randn(2, 3, n, n + 3, dtype=torch.float64, generator=g)
            for k, s, p in ((2, 2, 0), (3, 2, 1), (3, 2, 0), (3, 3, 1), (2, 1, 1), (5, 3, 2)):
                for ceil in (False, True):
                    layer = {"kernel": k, "stride": s, "padding": p, "ceil_mode": ceil}
                    self.assertTrue(torch.equal(interp.pool(h, layer, "maxpool"), F.max_pool2d(h, k, s, p, ceil_mode=ceil)))
                    for include in (True, False):
                        got = interp.pool(h, {**layer, "count_include_pad": include}, "avgpool")
                        ref = F.avg_pool2d(h, k, s, p, ceil_mode=ceil, count_include_pad=include)
                        self.assertEqual(got.shape, ref.shape, (n, layer))
                        self.assertLess(float((got - ref).abs().max()), 1e-12, (n, layer, include))
            for size in ((1, 1), (2, 3), (7, 7), (n, n + 3), (3, 1)):
                self.assertLess(float((interp.adaptive_avgpool(h, list(size)) - F.adaptive_avg_pool2d(h, size)).abs().max()), 1e-12)
        h = torch.randn(2, 12, 3, 4, dtype=torch.float64, generator=g)
        for groups in (2, 3, 4):
            ref = h.view(2, groups, 12 // groups, 3, 4).transpose(1, 2).reshape(2, 12, 3, 4)
            self.assertTrue(torch.equal(interp.channel_shuffle(h, groups), ref))
        w, b = torch.rand(12, dtype=torch.float64) + 0.5, torch.randn(12, dtype=torch.float64)
        ref = F.layer_norm(h.permute(0, 2, 3, 1), (12,), w, b, 1e-6).permute(0, 3, 1, 2)
        self.assertLess(float((interp.layernorm(h, w, b, 1e-6) - ref).abs().max()), 1e-12)
        for approximate in ("none", "tanh"):
            self.assertLess(float((interp.gelu(h, approximate) - F.gelu(h, approximate=approximate)).abs().max()), 1e-14)


class WrittenNorms(Case):
    """LayerNorm over channels and GRN written out in PyTorch operations
    (testdata/models/written_norms.py; UniRepLKNet's official form in
    fixtures/reparam_family_nets.py), recognised from the traced graph."""

    def convert(self, model, env=None):
        code, _, stderr, text = torch2spec("--model", model, "--input", "3,12,10", env=env)
        self.assertEqual(code, 0, stderr)
        return {l["name"]: l for l in yaml.safe_load(text)["layers"]}

    def test_converts(self):
        layers = self.convert("written_norms:net")
        want = {"norm1": {"op": "layernorm", "eps": 1e-06}, "fc1": {"op": "conv", "out": 24, "kernel": 1},
                "grn": {"op": "grn", "eps": None}, "gamma": {"op": "scale"}, "norm": {"op": "layernorm", "eps": 1e-06}}
        for name, fields in want.items():
            self.assertEqual({k: layers[name].get(k) for k in fields}, fields, name)
        self.assertEqual(self.convert("written_norms:net_grn_eps")["grn"].get("eps"), 1e-05)
        self.assertEqual(self.convert("written_norms:net_no_beta")["grn"]["op"], "grn")

    def test_unireplknet_official(self):
        env = {"PYTHONPATH": os.path.join(HERE, "..", "fixtures")}
        for model in ("unireplknet_official", "unireplknet_official_deploy"):
            layers = self.convert("reparam_family_nets:" + model, env=env)
            ops = [l["op"] for l in layers.values()]
            self.assertEqual(ops.count("grn"), 5, model)
            self.assertEqual(ops.count("layernorm"), 6, model)  # the stem's two, three downsamples', the head's
            self.assertEqual(layers["stages.2.1.act.1"]["op"], "grn")
            self.assertEqual(layers["downsample_layers.0.1"]["op"], "layernorm")

    def test_refusals_name_the_reason(self):
        for model, want in (
                ("net_beta_unused", "grn: a GRN written out (torch.norm over H and W of a channels-last tensor, "
                                    "/ its mean over channels + eps, (gamma * N + 1) * x + beta) without adding grn.beta"),
                ("net_one_dim", "grn: norm: torch.norm(p=2, dim=(1,), keepdim=True) of a channels-last tensor"),
                ("net_eps_outside", "norm1: sqrt: sqrt of the variance, eps added after it")):
            code, _, stderr, spec = torch2spec("--model", "written_norms:" + model, "--input", "3,12,10")
            self.assertEqual(code, 1, model)
            self.assertEqual(spec, "")
            self.assertOneLineEach(stderr, want)

    def test_interpreter_grn_matches_the_formula(self):
        g = torch.Generator().manual_seed(3)
        h = torch.randn(2, 12, 5, 7, dtype=torch.float64, generator=g)
        gamma, beta = torch.randn(1, 1, 1, 12, dtype=torch.float64, generator=g), torch.randn(1, 1, 1, 12, dtype=torch.float64, generator=g)
        x = h.permute(0, 2, 3, 1)
        n = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
        ref = ((gamma * (n / (n.mean(dim=-1, keepdim=True) + 1e-6)) + 1) * x + beta).permute(0, 3, 1, 2)
        self.assertLess(float((interp.grn(h, gamma, beta, 1e-6) - ref).abs().max()), 1e-12)
        self.assertLess(float((interp.grn(h, gamma, None, 1e-6) - (ref - beta.permute(0, 3, 1, 2))).abs().max()), 1e-12)


def have_torchvision():
    try:
        import torchvision  # noqa: F401
        return True
    except ImportError:
        return False


@unittest.skipUnless(have_torchvision(), "needs torchvision (Debian: python3-torchvision)")
class Torchvision(unittest.TestCase):
    """torch2spec on every convolutional classifier torchvision lists, as a
    user runs it: --model tvmodels:NAME --weights FILE, random weights
    (tvmodels.randomize), outputs scaled to order 1."""

    # Inception-v3's stem and reductions need 75x75 at least; AlexNet and
    # the rest take 64x64 (AlexNet's and VGG's adaptive pools then grow
    # 1x1 and 2x2 maps to 6x6 and 7x7).
    INPUT = {"inception_v3": 75}
    # Left out always: RegNetY-128GF's 645M parameters would need some
    # 18 GB (the float32 model, the checkpoint, the float64 copies).
    NEVER = {"regnet_y_128gf": "645M parameters: too big to test here"}
    # The larger members of families whose smaller members run: about
    # two thirds of the run's time. TORCH2SPEC_ALL=1 runs them too (as the
    # committed table was made).
    GIANTS = ("convnext_base", "convnext_large", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_m",
              "efficientnet_v2_l", "regnet_x_16gf", "regnet_x_32gf", "regnet_y_16gf", "regnet_y_32gf",
              "resnext101_32x8d", "resnext101_64x4d", "wide_resnet101_2", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
              "vgg19", "vgg19_bn")

    HEADER = """torch2spec on torchvision {torchvision}'s convolutional classifiers (torch {torch}):
random weights, BatchNorm statistics randomised, outputs scaled to order 1; max diff is torch2spec's own
check (its spec run by fixtures/spec_interp.py against the model, float64, relative to max(1, |y|)). It is
exactly 0 where the interpreter calls the same float64 kernels as the model (conv, batch_norm, linear);
the ops it computes by their rules (ConvNeXt's LayerNorm, GELU) differ in the last bits.
Regenerate: TORCH2SPEC_ALL=1 /usr/bin/python3 tools/test_torch2spec.py Torchvision > tools/testdata/torchvision-table.txt
"""

    def test_every_convolutional_classifier(self):
        import torchvision
        import tvmodels
        t2s = load("_test_torch2spec", os.path.join(HERE, "torch2spec.py"))
        torch.set_num_threads(1)
        rows, everything = [], os.environ.get("TORCH2SPEC_ALL") == "1"
        skip = dict(self.NEVER)
        if not everything:
            skip.update((name, "a larger member of its family (TORCH2SPEC_ALL=1 runs it)") for name in self.GIANTS)
        with tempfile.TemporaryDirectory() as tmp:
            weights, out = os.path.join(tmp, "weights.pth"), os.path.join(tmp, "net.yaml")
            for i, name in enumerate(tvmodels.names()):
                if name in skip:
                    rows.append((name, "", "skipped", "", "", "", skip[name]))
                    continue
                size = self.INPUT.get(name, 64)
                gen = torch.Generator().manual_seed(1000 + i)
                model = tvmodels.build(name).eval()
                tvmodels.randomize(model, gen)
                params = sum(p.numel() for p in model.parameters())
                tvmodels.scale_output(model, torch.randn(2, 3, size, size, generator=gen))
                torch.save(model.state_dict(), weights)
                del model
                args = t2s.parser().parse_args(["--model", "tvmodels:" + name, "--weights", weights,
                                                "--input", f"3,{size},{size}", "--out", out])
                note, stdout = "", io.StringIO()
                try:
                    with contextlib.redirect_stdout(stdout):
                        r = t2s.run(args)
                    converted, diff, layers = "yes", f"{r['diff']:.1e}", str(len(r["layers"]))
                    if r["idle"]:
                        note = f"{len(r['idle'])} keys of modules unused in eval (e.g. {r['idle'][0]})"
                except t2s.Unsupported as e:
                    converted, diff, layers = "no", "", ""
                    note = str(e).splitlines()[0]
                except Exception as e:  # noqa: BLE001  (a crash is a row of the table, then a failure)
                    converted, diff, layers = "CRASH", "", ""
                    note = f"{type(e).__name__}: {t2s.first_line(e)}"
                rows.append((name, f"{size}x{size}", converted, diff, layers, f"{params / 1e6:.1f}M", note))
                print(f"{name}: {converted} {diff} {note}", file=sys.stderr, flush=True)
                with contextlib.suppress(FileNotFoundError):
                    os.remove(out)
                gc.collect()
        head = ("network", "input", "converted", "max diff", "layers", "params", "note or refusal")
        widths = [max(len(r[j]) for r in rows + [head]) for j in range(len(head))]
        print(self.HEADER.format(torchvision=torchvision.__version__, torch=torch.__version__))
        for r in [head] + rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        counts = collections.Counter(r[2] for r in rows)
        print(f"\n{counts['yes']} of {len(rows)} converted, {counts['skipped']} skipped.")
        failed = [r for r in rows if r[2] not in ("yes", "skipped")]
        self.assertEqual(failed, [])


if __name__ == "__main__":
    unittest.main()
