#!/usr/bin/python3
"""Tests tools/acnetify.py on torchvision's classifiers and on small
networks built to trip it. Needs torch and torchvision (Debian:
python3-torch python3-torchvision) and, for the torch2spec part, PyYAML:

    /usr/bin/python3 tools/test_acnetify.py [-v]
    ACNETIFY_TORCH2SPEC=all /usr/bin/python3 tools/test_acnetify.py -k torch2spec

For each torchvision network (random weights, small inputs):
  * the conv + BatchNorm pairs acnetify finds are exactly the ones read off
    the autograd graph of a training-mode pass (a ConvolutionBackward with a
    KxK kernel whose only user is a NativeBatchNormBackward), a count made
    without module hooks, torch functions or torch.fx;
  * the acnetified network computes what the original did, in eval and in
    training mode (new branches' gamma 0), and keeps its weights and
    statistics in the square branches;
  * with every BatchNorm given random parameters and statistics it runs
    forward and backward in training mode, with gradients reaching every
    branch;
  * with every BatchNorm on its running statistics (auxiliary heads
    included), it equals in float64 within 1e-9 the network with each
    ACBlock folded into one KxK conv by the paper's rule (written here, not
    taken from acnetify or the fixtures): each branch's BN folded into its
    conv, the 1xK kernel added to the centre row, the Kx1 to the centre
    column.
ResNet-18 and MobileNetV2, acnetified, also go through tools/torch2spec.py,
whose own float64 check must pass, and, where the go command is found,
through acgen: the generated package's Infer must match PyTorch's float32
within 1e-4 (templates/pytorchtest.go). ACNETIFY_TORCH2SPEC=all tries every
network and prints which convert. The small networks cover what the
torchvision ones lack: conv biases, cropping, 'same' padding, convs whose
output or weight something else reads, a BatchNorm fed twice, no example
input, a read acnetify cannot see, and the command line.
"""
import collections
import copy
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from acnetify import ACBlock, acnetify, find_conv_bn_pairs  # noqa: E402

# name -> (the torchvision call, input side). Inception-v3's auxiliary head
# (a 5x5 conv + BN, run in training mode only) needs the full 299x299 input.
NETS = {
    "resnet18": ("resnet18(num_classes=10)", 64),
    "mobilenet_v2": ("mobilenet_v2(num_classes=10)", 64),
    "efficientnet_b0": ("efficientnet_b0(num_classes=10)", 64),
    "densenet121": ("densenet121(num_classes=10)", 64),
    "shufflenet_v2_x1_0": ("shufflenet_v2_x1_0(num_classes=10)", 64),
    "regnet_y_400mf": ("regnet_y_400mf(num_classes=10)", 64),
    "googlenet": ("googlenet(num_classes=10, aux_logits=True, init_weights=False)", 64),
    "inception_v3": ("inception_v3(num_classes=10, aux_logits=True, init_weights=False)", 299),
    "convnext_tiny": ("convnext_tiny(num_classes=10)", 64),
    "squeezenet1_0": ("squeezenet1_0(num_classes=10)", 64),
    "vgg11_bn": ("vgg11_bn(num_classes=10)", 32),
    "mnasnet0_5": ("mnasnet0_5(num_classes=10)", 64),
}


def build(name):
    return eval("torchvision.models." + NETS[name][0])


# ------------------------------------------------------------ helpers

def tensors(out):
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for o in out for t in tensors(o)] if isinstance(out, (tuple, list)) else []


EVAL, TRAIN, ALL_EVAL = "eval", "train", "all branches in eval"


def run(model, x, mode, seed=0):
    """One forward pass that leaves buffers and training flags as they were;
    dropout and stochastic depth drawn from seed. ALL_EVAL is eval mode for
    every module but the network itself, whose training flag turns on the
    branches run only in training (GoogLeNet's and Inception-v3's auxiliary
    heads): every BatchNorm then uses its running statistics, so folding is
    exact, and the auxiliary heads' blocks are checked too."""
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    flags = [(m, m.training) for m in model.modules()]
    model.train(mode == TRAIN)
    model.training = mode != EVAL
    torch.manual_seed(seed)
    try:
        return model(x)
    finally:
        with torch.no_grad():
            for b, v in saved:
                b.copy_(v)
        for m, t in flags:
            m.training = t


def autograd_pairs(model, x):
    """conv path -> BatchNorm path for each KxK conv (K odd > 1, dilation 1)
    whose output is read by a BatchNorm and by nothing else, read off the
    autograd graph of one training-mode pass."""
    owner = {id(p): path for path, m in model.named_modules() for p in m.parameters(recurse=False)}
    roots = [t.grad_fn for t in tensors(run(model, x, TRAIN)) if t.grad_fn is not None]
    seen, users, stack = set(roots), collections.Counter(), list(roots)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is None:
                continue
            users[nxt] += 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    pairs = {}
    for n in seen:
        if n.name() != "NativeBatchNormBackward0":
            continue
        src = n.next_functions[0][0]
        if src is None or src.name() != "ConvolutionBackward0" or users[src] != 1:
            continue
        w = src.next_functions[1][0].variable
        k = w.shape[2]
        if w.shape[3] != k or k == 1 or k % 2 == 0 or tuple(src._saved_dilation) != (1, 1):
            continue
        pairs[owner[id(w)]] = owner[id(n.next_functions[1][0].variable)]
    return pairs


def kxk_convs(model):
    return sum(isinstance(m, nn.Conv2d) and m.kernel_size[0] == m.kernel_size[1] > 1 for m in model.modules())


def randomise_bns(model, x, seed):
    """Every BatchNorm2d gets weight U(0.5, 1.5), bias N(0, 0.3) and running
    statistics measured by two training-mode passes on random data (so
    activations stay O(1) through a deep network) and then perturbed: mean
    shifted by N(0, 0.2)·std, variance scaled by U(0.7, 1.4)."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            if bn.affine:
                bn.weight.copy_(torch.rand(bn.num_features, generator=g) * 1.0 + 0.5)
                bn.bias.copy_(torch.randn(bn.num_features, generator=g) * 0.3)
            bn.reset_running_stats()
            bn.saved_momentum, bn.momentum = bn.momentum, None
        training = model.training
        model.train()
        for _ in range(2):
            model(torch.randn(x.shape, generator=g, dtype=x.dtype))
        model.train(training)
        for bn in bns:
            bn.momentum = bn.saved_momentum
            del bn.saved_momentum
            if bn.running_var is None:
                continue
            std = bn.running_var.sqrt()
            bn.running_mean.add_(torch.randn(bn.num_features, generator=g, dtype=std.dtype) * 0.2 * std)
            bn.running_var.mul_(torch.rand(bn.num_features, generator=g, dtype=std.dtype) * 0.7 + 0.7)


def fold(block):
    """The ACBlock as one KxK conv with bias, by the paper's rule."""
    def bn(conv, norm):
        std = (norm.running_var + norm.eps).sqrt()
        gamma = norm.weight if norm.weight is not None else torch.ones_like(std)
        beta = norm.bias if norm.bias is not None else torch.zeros_like(std)
        bias = conv.bias if conv.bias is not None else torch.zeros_like(std)
        s = gamma / std
        return conv.weight * s[:, None, None, None], beta + (bias - norm.running_mean) * s

    sq = block.square_conv
    k = sq.kernel_size[0]
    c = k // 2
    weight, bias = bn(sq, block.square_bn)
    weight = weight.clone()
    hw, hb = bn(block.hor_conv, block.hor_bn)
    vw, vb = bn(block.ver_conv, block.ver_bn)
    weight[:, :, c:c + 1, :] += hw  # 1xK into the centre row
    weight[:, :, :, c:c + 1] += vw  # Kx1 into the centre column
    out = nn.Conv2d(sq.in_channels, sq.out_channels, k, stride=sq.stride, padding=sq.padding,
                    groups=sq.groups, bias=True).to(weight.dtype)
    with torch.no_grad():
        out.weight.copy_(weight)
        out.bias.copy_(bias + hb + vb)
    return out


def folded(model):
    m = copy.deepcopy(model)
    for path, block in [(p, b) for p, b in m.named_modules() if isinstance(b, ACBlock)]:
        parent, _, name = path.rpartition(".")
        setattr(m.get_submodule(parent) if parent else m, name, fold(block))
    return m


def rel(a, b):
    a, b = tensors(a), tensors(b)
    assert len(a) == len(b) and all(x.shape == y.shape for x, y in zip(a, b))
    return max(float((x - y).abs().max() / y.abs().max().clamp(min=1)) for x, y in zip(a, b))


def fx_traceable(model):
    try:
        torch.fx.symbolic_trace(model)
        return "yes"
    except Exception:
        return "no"


# ------------------------------------------------------------ torchvision

class TorchVision(unittest.TestCase):
    rows = []

    @classmethod
    def tearDownClass(cls):
        print()
        print(f"{'network':<20}{'fx':>4}{'KxK':>5}{'pairs':>6}{'autograd':>9}{'start':>10}{'fold f64':>10}  skipped (not 1x1)")
        for r in cls.rows:
            print(f"{r[0]:<20}{r[1]:>4}{r[2]:>5}{r[3]:>6}{r[4]:>9}{r[5]:>10.1e}{r[6]:>10.1e}  {r[7]}")

    def test_networks(self):
        for name, (_, side) in NETS.items():
            with self.subTest(name):
                self.network(name, side)

    def network(self, name, side):
        # float32 throughout but for the fold check: it is the fold that
        # needs float64, and Inception-v3 at 299x299 is slow in float64.
        torch.manual_seed(0)
        model = build(name)
        x = torch.randn(2, 3, side, side)
        traceable = fx_traceable(model)
        want = autograd_pairs(model, x)
        original = copy.deepcopy(model)
        modes = (EVAL, TRAIN, ALL_EVAL)
        before = [run(model, x, m, seed=1) for m in modes]

        pairs, skipped = find_conv_bn_pairs(model, x)
        self.assertEqual(dict(pairs), want)
        self.assertEqual(len(pairs), len(want))
        notes = [why for path, why in skipped if not path]
        self.assertEqual(notes, [])
        acnetify(model, x)
        blocks = {p: m for p, m in model.named_modules() if isinstance(m, ACBlock)}
        self.assertEqual(sorted(blocks), sorted(want))

        # Weights, statistics and keys: the square branch is the original.
        sd, old = model.state_dict(), original.state_dict()
        for conv, bn in want.items():
            self.assertTrue(torch.equal(sd[conv + ".square_conv.weight"], old[conv + ".weight"]))
            for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
                self.assertTrue(torch.equal(sd[f"{conv}.square_bn.{k}"], old[f"{bn}.{k}"]), (conv, k))
            self.assertFalse(any(k.startswith(bn + ".") for k in sd))
            for br in ("ver", "hor"):
                self.assertTrue(torch.equal(sd[f"{conv}.{br}_bn.weight"], torch.zeros_like(old[bn + ".weight"])))
        keys = {k for k in sd if not any(k.startswith(c + ".") for c in want)}
        self.assertEqual(keys, {k for k in old if not any(k.startswith(p + ".") for p in list(want) + list(want.values()))})

        # It starts where the original was, in every mode (in float32 the
        # zero branches add exact zeros: the difference is 0).
        start = max(rel(run(model, x, m, seed=1), b) for m, b in zip(modes, before))
        self.assertLessEqual(start, 1e-6)

        # Training: random BNs everywhere, forward and backward, gradients in every branch.
        randomise_bns(model, x, seed=1)
        model.train()
        torch.manual_seed(2)
        sum(t.sum() for t in tensors(model(x))).backward()
        for path, b in blocks.items():
            for conv in (b.square_conv, b.ver_conv, b.hor_conv):
                self.assertTrue(torch.isfinite(conv.weight.grad).all(), path)
                self.assertGreater(float(conv.weight.grad.abs().sum()), 0, path)
        model.zero_grad(set_to_none=True)

        # Eval: the folded network equals the trained form, in float64.
        fold_err = 0.0
        if blocks:
            model, x = model.double(), x.double()
            with torch.no_grad():
                fold_err = rel(run(folded(model), x, ALL_EVAL), run(model, x, ALL_EVAL))
            self.assertLessEqual(fold_err, 1e-9)

        reasons = collections.Counter(re.sub(r"(goes to \S+) in (the model's forward|[^ )]+)", r"\1", why) for _, why in skipped if why != "1x1")
        self.rows.append((name, traceable, kxk_convs(original), len(pairs), len(want), start, fold_err,
                          "; ".join(f"{n} {why}" for why, n in reasons.items()) or "-"))


# ------------------------------------------------------------ small networks

class Edges(nn.Module):
    """What acnetify must tell apart, in a forward torch.fx cannot trace
    (the shape is unpacked and a branch depends on the data)."""

    def __init__(self):
        super().__init__()
        self.biased = nn.Conv2d(3, 8, 3, padding=1, bias=True)    # swapped: bias folds
        self.bn_biased = nn.BatchNorm2d(8, eps=1e-3, momentum=0.3)
        self.crop = nn.Conv2d(8, 8, 5, stride=2, padding=0)       # swapped: K=5 p=0 crops
        self.bn_crop = nn.BatchNorm2d(8)
        self.same = nn.Conv2d(8, 8, 3, padding="same", groups=4)  # swapped: 'same', groups
        self.bn_same = nn.BatchNorm2d(8)
        self.shared_out = nn.Conv2d(8, 8, 3, padding=1)           # output also added
        self.bn_shared = nn.BatchNorm2d(8)
        self.relu_first = nn.Conv2d(8, 8, 3, padding=1)           # conv -> relu -> bn
        self.bn_after_relu = nn.BatchNorm2d(8)
        self.dilated = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.bn_dilated = nn.BatchNorm2d(8)
        self.reflect = nn.Conv2d(8, 8, 3, padding=1, padding_mode="reflect")
        self.bn_reflect = nn.BatchNorm2d(8)
        self.twice = nn.Conv2d(8, 8, 3, padding=1)                # one conv, two BNs
        self.bn_twice_a = nn.BatchNorm2d(8)
        self.bn_twice_b = nn.BatchNorm2d(8)
        self.sum_a = nn.Conv2d(8, 8, 3, padding=1)                # two convs added, then BN
        self.sum_b = nn.Conv2d(8, 8, 3, padding=1)
        self.bn_sum = nn.BatchNorm2d(8)
        self.no_bn = nn.Conv2d(8, 8, 3, padding=1)
        self.tied = nn.Conv2d(8, 8, 3, padding=1)                 # its weight read in forward too
        self.bn_tied = nn.BatchNorm2d(8)
        self.stats_free = nn.Conv2d(8, 8, 3, padding=1)
        self.bn_stats_free = nn.BatchNorm2d(8, track_running_stats=False)
        self.unused = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))  # never run: by order
        self.tail = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        b, c, h, w = x.size()
        x = F.relu(self.bn_biased(self.biased(x)))
        x = F.relu(self.bn_crop(self.crop(x)))
        x = F.relu(self.bn_same(self.same(x)))
        s = self.shared_out(x)
        x = F.relu(self.bn_shared(s)) + s
        x = self.bn_after_relu(F.relu(self.relu_first(x)))
        x = self.bn_dilated(self.dilated(x))
        x = self.bn_reflect(self.reflect(x))
        x = self.bn_twice_a(self.twice(x)) + self.bn_twice_b(self.twice(x))
        x = self.bn_sum(self.sum_a(x) + self.sum_b(x))
        if float(x.mean()) > 1e9:  # never, but torch.fx cannot know
            x = self.unused(x)
        x = self.no_bn(x)
        x = self.bn_tied(self.tied(x)) * self.tied.weight.std()
        x = self.bn_stats_free(self.stats_free(x))
        x = self.tail(x)
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


class SmallNetworks(unittest.TestCase):
    def test_edges(self):
        torch.manual_seed(0)
        model = Edges().double()
        x = torch.randn(2, 3, 19, 17, dtype=torch.float64)
        self.assertEqual(fx_traceable(model), "no")
        randomise_bns(model, x, seed=3)
        before = run(model, x, EVAL), run(model, x, TRAIN, seed=1)
        pairs, skipped = find_conv_bn_pairs(model, x)
        self.assertEqual(pairs, [("biased", "bn_biased"), ("crop", "bn_crop"), ("same", "bn_same"),
                                 ("unused.0", "unused.1"), ("tail.0", "tail.1")])
        why = dict(skipped)
        self.assertEqual(set(why), {"shared_out", "relu_first", "dilated", "reflect", "twice", "sum_a", "sum_b",
                                    "no_bn", "tied", "stats_free"})
        for conv, want in (("shared_out", "feeds bn_shared but its output is also read by add"), ("relu_first", "relu"),
                           ("dilated", "dilation 2"), ("reflect", "padding_mode 'reflect'"),
                           ("twice", "feeds several BatchNorm2d: bn_twice_a, bn_twice_b"),
                           ("sum_a", "add"), ("no_bn", "feeds no BatchNorm2d"),
                           ("tied", "its weight is also used by std in the model's forward"),
                           ("stats_free", "without running statistics")):
            self.assertIn(want, why[conv], conv)
        lines = []
        acnetify(model, x, log=lines.append)
        self.assertIn("acnetify: 5 ACBlocks", lines)
        self.assertEqual(model.crop.crop, 2)
        for b in (model.biased.square_bn, model.biased.ver_bn, model.biased.hor_bn):
            self.assertEqual((b.eps, b.momentum), (1e-3, 0.3))
        self.assertIsInstance(model.bn_biased, nn.Identity)
        after = run(model, x, EVAL), run(model, x, TRAIN, seed=1)
        self.assertLessEqual(max(rel(after[0], before[0]), rel(after[1], before[1])), 1e-12)
        randomise_bns(model, x, seed=4)
        model.eval()
        with torch.no_grad():
            self.assertLessEqual(rel(folded(model)(x), model(x)), 1e-9)

    def test_hidden_reader(self):
        """A read acnetify cannot see (through numpy: no torch function
        returns a tensor) is caught by its check, and the model restored."""
        class Hidden(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv, self.bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)

            def forward(self, x):
                c = self.conv(x)
                return self.bn(c) + torch.from_numpy(c.numpy())

        torch.manual_seed(0)
        model = Hidden()
        x = torch.randn(2, 3, 9, 9)
        self.assertEqual(find_conv_bn_pairs(model, x)[0], [("conv", "bn")])
        with self.assertRaisesRegex(ValueError, "output moved by .*; the model is left as it was"):
            acnetify(model, x)
        self.assertIs(type(model.conv), nn.Conv2d)
        self.assertIs(type(model.bn), nn.BatchNorm2d)

    def test_no_affine(self):
        """A BatchNorm2d without affine parameters: its ACBlock has none
        either (no gamma to zero, so the start moves) and still folds."""
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4, affine=False)).double()
        x = torch.randn(2, 3, 9, 9, dtype=torch.float64)
        lines = []
        acnetify(model, x, log=lines.append)
        self.assertIn("without affine parameters", lines[0])
        self.assertEqual(sorted(k for k in model.state_dict() if "weight" in k or "bias" in k),
                         ["0.hor_conv.weight", "0.square_conv.weight", "0.ver_conv.weight"])
        randomise_bns(model, x, seed=6)
        model.eval()
        with torch.no_grad():
            self.assertLessEqual(rel(folded(model)(x), model(x)), 1e-9)

    def test_without_example_input(self):
        """Without an input only Sequential order counts: all of VGG's and
        MobileNetV2's pairs (Conv2dNormActivation is a Sequential), none of
        ResNet's (its convs and BNs are attributes called in forward)."""
        for name, side, found in (("vgg11_bn", 32, 8), ("mobilenet_v2", 64, 18), ("resnet18", 64, 0)):
            torch.manual_seed(0)
            model = build(name)
            pairs, skipped = find_conv_bn_pairs(model)
            self.assertEqual(len(pairs), found)
            self.assertEqual(sorted(pairs), sorted(find_conv_bn_pairs(model, torch.randn(2, 3, side, side))[0])
                             if found else [])
            if not found:
                self.assertIn("no example input", dict(skipped)["conv1"])

    def test_branch_gamma(self):
        torch.manual_seed(0)
        model = acnetify(build("resnet18"), torch.randn(2, 3, 32, 32), branch_gamma=1 / 3)
        self.assertTrue(torch.equal(model.layer1[0].conv1.hor_bn.weight, torch.full((64,), 1 / 3)))
        self.assertTrue(torch.equal(model.layer1[0].conv1.square_bn.weight, torch.ones(64)))

    def test_cli(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "acnet.pth")
            p = subprocess.run([sys.executable, os.path.join(HERE, "acnetify.py"), "--model", "torchvision.models:vgg11_bn",
                                "--input", "3,32,32", "--out", out], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("acnetify: 8 ACBlocks", p.stdout)
            self.assertIn("features.0.square_conv.weight", torch.load(out))
            p = subprocess.run([sys.executable, os.path.join(HERE, "acnetify.py"), "--model", "torchvision.models:vgg11_bn",
                                "--input", "3x32x32"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(p.stderr.strip().splitlines(), ["acnetify: --input 3x32x32: want C,H,W such as 3,224,224"])


# ------------------------------------------------------------ torch2spec

NETS_PY = """
import sys
import torch
import torchvision
sys.path.insert(0, {tools!r})
from acnetify import acnetify
{defs}
"""


def go_tool():
    """The go command, or None: the acgen stage needs Go, the rest does not."""
    return shutil.which("go") or next((g for g in ("/usr/local/go/bin/go",) if os.path.exists(g)), None)


class Torch2Spec(unittest.TestCase):
    """The acnetified networks through tools/torch2spec.py and, where Go is
    installed, acgen: random BN statistics in every branch, the state_dict
    saved as a user saves it, and the generated package's Infer held to
    PyTorch's float32 outputs by templates/pytorchtest.go (1e-4)."""

    def test_torch2spec(self):
        names = list(NETS) if os.environ.get("ACNETIFY_TORCH2SPEC") == "all" else ["resnet18", "mobilenet_v2"]
        must = {"resnet18", "mobilenet_v2"}
        side = {n: NETS[n][1] for n in names}
        defs = "\n".join(
            f"def {n}():\n    torch.manual_seed(0)\n"
            f"    return acnetify(torchvision.models.{NETS[n][0]}, torch.randn(2, 3, {side[n]}, {side[n]}))\n"
            for n in names)
        go, rows = go_tool(), []
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "acnets.py"), "w") as f:
                f.write(NETS_PY.format(tools=HERE, defs=defs))
            sys.path.insert(0, tmp)
            try:
                nets = importlib.import_module("acnets")
            finally:
                sys.path.remove(tmp)
            if go:
                acgen = os.path.join(tmp, "acgen")
                subprocess.run([go, "build", "-o", acgen, "./cmd/acgen"], cwd=os.path.dirname(HERE), check=True)
                with open(os.path.join(tmp, "go.mod"), "w") as f:
                    f.write("module acnets\n\ngo 1.21\n")
            for n in names:
                model = getattr(nets, n)()
                blocks = sum(isinstance(m, ACBlock) for m in model.modules())
                x = torch.randn(2, 3, side[n], side[n])
                randomise_bns(model, x, seed=5)
                weights, spec = os.path.join(tmp, n + ".pth"), os.path.join(tmp, n + ".yaml")
                torch.save(model.state_dict(), weights)
                p = subprocess.run([sys.executable, os.path.join(HERE, "torch2spec.py"), "--model", f"acnets:{n}",
                                    "--weights", weights, "--input", f"3,{side[n]},{side[n]}", "--out", spec],
                                   cwd=tmp, capture_output=True, text=True)
                diff = re.search(r"max relative difference (\S+)", p.stdout)
                spec_blocks = re.search(r"(\d+) ACBlocks", p.stdout)
                got = p.stderr.strip().splitlines()
                acgen_err = "-"
                if p.returncode == 0 and go:
                    model.eval()
                    with torch.no_grad():
                        y = model(x)
                    acgen_err = self.acgen(go, acgen, tmp, n, spec, weights, x, y)
                rows.append((n, blocks, p.returncode == 0, diff.group(1) if diff else "-", acgen_err,
                             (got[0] if got else "") + (f" (+{len(got) - 1} more)" if len(got) > 1 else "")))
                if n in must:
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertLessEqual(float(diff.group(1)), 1e-9)
                    self.assertEqual(int(spec_blocks.group(1)), blocks)
                    if go:
                        self.assertRegex(acgen_err, r"^[0-9.e+-]+ \(")
                        self.assertLessEqual(float(acgen_err.split()[0]), 1e-4)
        print()
        print(f"{'network':<20}{'ACBlocks':>9}  {'torch2spec':<11}{'f64 diff':>9}{'acgen f32':>18}  first refusal")
        for r in rows:
            print(f"{r[0]:<20}{r[1]:>9}  {'converts' if r[2] else 'refuses':<11}{r[3]:>9}{r[4]:>18}  {r[5]}")
        if not go:
            print("(no go command: acgen not tried)")

    def acgen(self, go, acgen, tmp, name, spec, weights, x, y):
        """Generates the package and runs its Infer on x against y: the
        largest relative error the package's test reports, or what failed."""
        pkg = os.path.join(tmp, name)
        p = subprocess.run([acgen, "-q", "-spec", spec, "-weights", weights, "-out", pkg, "-pkg", name],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return "acgen: " + (p.stderr.strip().splitlines() or ["failed"])[0]
        os.makedirs(os.path.join(pkg, "testdata"), exist_ok=True)
        with open(os.path.join(pkg, "testdata", "pytorch.bin"), "wb") as f:
            f.write(x.numpy().astype("<f4").tobytes() + y.numpy().astype("<f4").tobytes())
        with open(os.path.join(os.path.dirname(HERE), "templates", "pytorchtest.go")) as f:
            template = f.read().split("package templates\n", 1)[1]
        with open(os.path.join(pkg, "pytorch_test.go"), "w") as f:
            f.write(f"package {name}\n" + template)
        p = subprocess.run([go, "test", "-count=1", "-run", "TestMatchesPyTorch", "-v", "./" + name], cwd=tmp,
                           capture_output=True, text=True, env=dict(os.environ, GOWORK="off"))
        m = re.search(r"MAXERR \S+ (\S+) (\S+)", p.stdout)
        if p.returncode != 0 or not m:
            fails = [l.strip() for l in (p.stdout + p.stderr).splitlines() if "error" in l.lower() or "FAIL" in l]
            return "go test: " + (fails[0] if fails else "failed")
        return f"{m.group(2)} ({m.group(1)})"


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main()
