#!/usr/bin/env python3
"""ACNet for a network you already have: every KxK convolution that feeds a
BatchNorm becomes an ACBlock, ready to train.

ACNet (Ding et al., ICCV 2019) trains each KxK convolution + BatchNorm as
three: the KxK one, a 1xK and a Kx1, each with its own BatchNorm, summed.
After training the three fold back into one KxK convolution, so the
deployed network costs what the original did; acgen does that fold.

    import torch, torchvision
    from acnetify import acnetify

    def build():  # the --model callable of tools/torch2spec.py
        return acnetify(torchvision.models.resnet18(num_classes=10), torch.randn(2, 3, 32, 32))

    model = build()   # or acnetify(a pretrained model): it starts out computing what that did
    ...               # train it as before; make the optimizer after acnetify
    torch.save(model.state_dict(), "model.pth")

then `tools/torch2spec.py --model mynet:build --weights model.pth ...` and
`acgen -spec net.yaml -weights model.pth ...`.

acnetify swaps a torch.nn.Conv2d for an ACBlock when its kernel is KxK with
K odd and > 1, it is not dilated, pads with zeros by the same amount on both
axes, strides alike on both axes (any stride, any groups), and its output
goes to one torch.nn.BatchNorm2d with running statistics and nowhere else.
The ACBlock takes the conv's place in the module tree (so its keys are
`<conv path>.square_conv.weight`, `.square_bn.*`, `.ver_conv.weight`,
`.ver_bn.*`, `.hor_conv.weight`, `.hor_bn.*`: the official code's) and the
BatchNorm's place becomes an nn.Identity, so the block's output is what the
BatchNorm's was.

Finding what feeds what needs no torch.fx: acnetify runs the model once in
eval and once in training mode on the example input (restoring every buffer
and the random state afterwards), watching every module call and every torch
function call, and pairs a conv with a BatchNorm when the tensor the conv
returned is the very tensor the BatchNorm reads and nothing else reads it.
Without an example input, and for a conv the example input never reaches,
it pairs only a conv directly followed by a BatchNorm2d in a plain
nn.Sequential, where nothing else can read the conv's output.

As a command, it acnetifies a model and saves the result's state_dict:

    python3 tools/acnetify.py --model torchvision.models:resnet18 --input 3,224,224 \\
        --weights resnet18.pth --out resnet18_acnet.pth

This file needs only torch: copy it beside your training code.
"""

import argparse
import contextlib
import importlib
import sys

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode


class ACBlock(nn.Module):
    """The Asymmetric Convolution Block in its training form, computing what
    acnet/acb.py's ACBlock of the official code (DingXiaoH/ACNet) computes
    with deploy=False and zero padding, under the same submodule names.

    The 1xK and Kx1 branches slide along the centre row and centre column of
    the KxK window: the 1xK one is padded p - K//2 rows and p columns, the
    Kx1 one p rows and p - K//2 columns. When p < K//2 that would be a
    negative padding, so their input is cropped by K//2 - p instead (rows for
    the 1xK branch, columns for the Kx1 one). bias=True, which the official
    block lacks, puts a bias on all three convolutions."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, use_affine=True, bias=False):
        super().__init__()
        k, p = kernel_size, padding

        def conv(kernel, pad):
            return nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=pad,
                             dilation=dilation, groups=groups, bias=bias)

        # Built in the official order (square conv and BN, Kx1 conv, 1xK
        # conv, their BNs), so a seeded build draws the same initial weights.
        self.square_conv = conv((k, k), p)
        self.square_bn = nn.BatchNorm2d(out_channels, affine=use_affine)
        short = p - k // 2  # the asymmetric branches' padding across their short side
        self.crop = max(0, -short)
        self.ver_conv = conv((k, 1), (p, max(0, short)))
        self.hor_conv = conv((1, k), (max(0, short), p))
        self.ver_bn = nn.BatchNorm2d(out_channels, affine=use_affine)
        self.hor_bn = nn.BatchNorm2d(out_channels, affine=use_affine)

    def forward(self, input):
        square = self.square_bn(self.square_conv(input))
        ver_in = hor_in = input
        c = self.crop
        if c > 0:
            ver_in = input[:, :, :, c:-c]
            hor_in = input[:, :, c:-c, :]
        ver = self.ver_bn(self.ver_conv(ver_in))
        hor = self.hor_bn(self.hor_conv(hor_in))
        return square + ver + hor


# ------------------------------------------------------------ eligibility

def _padding(conv):
    """The conv's padding as one int, or None when it differs by axis."""
    p = conv.padding
    if p == "valid":
        return 0
    if p == "same":
        k = conv.kernel_size[0]
        return k // 2 if k % 2 else None
    return p[0] if p[0] == p[1] else None


def _conv_problem(conv):
    """Why conv cannot become an ACBlock, or None."""
    if type(conv) is not nn.Conv2d:
        return f"a {type(conv).__name__}, not a plain nn.Conv2d"
    if conv._forward_pre_hooks or conv._forward_hooks:
        return "has forward hooks of its own (weight_norm? spectral_norm?)"
    kh, kw = conv.kernel_size
    if kh != kw:
        return f"{kh}x{kw} kernel, not square"
    if kh == 1:
        return "1x1"
    if kh % 2 == 0:
        return f"{kh}x{kw} kernel: an ACBlock needs an odd K (with an even one its branches' outputs differ in size)"
    if conv.dilation != (1, 1):
        return f"dilation {conv.dilation[0] if conv.dilation[0] == conv.dilation[1] else conv.dilation}"
    if conv.padding_mode != "zeros":
        return f"padding_mode {conv.padding_mode!r}"
    if _padding(conv) is None:
        return f"padding {conv.padding} differs by axis"
    if conv.stride[0] != conv.stride[1]:
        return f"stride {conv.stride} differs by axis"
    return None


def _bn_problem(bn, conv):
    """Why bn cannot become conv's ACBlock's square_bn, or None."""
    if type(bn) is not nn.BatchNorm2d:
        return f"a {type(bn).__name__}, not a plain nn.BatchNorm2d"
    if bn._forward_pre_hooks or bn._forward_hooks:
        return "a BatchNorm2d with forward hooks of its own"
    if not bn.track_running_stats or bn.running_mean is None:
        return "a BatchNorm2d without running statistics"
    if bn.num_features != conv.out_channels:
        return f"a BatchNorm2d of {bn.num_features} channels after {conv.out_channels}"
    return None


# ------------------------------------------------------------ watching a run

def _tensors(obj, out):
    """Appends every tensor in obj (nested lists, tuples, dicts) to out."""
    if isinstance(obj, torch.Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors(o, out)
    return out


class _Watch(TorchFunctionMode):
    """Records, during one forward pass, every output of a watched conv and
    everything that reads it: the BatchNorm calls it is the input of, and
    every other computation (a torch function returning a tensor, called
    anywhere but inside that BatchNorm). Queries of shape, dtype and the
    like return no tensor and are not reads. It also records any use of a
    watched conv's or a BatchNorm's own tensors (weight, statistics) outside
    that module: code that reads them would break once the module is gone."""

    def __init__(self, convs, bns, names):
        super().__init__()
        self.convs, self.bns, self.names = convs, bns, names
        self.owned = {}    # id(parameter or buffer) -> (it, its module)
        for m in list(convs.values()) + list(bns.values()):
            for t in list(m.parameters(recurse=False)) + list(m.buffers(recurse=False)):
                self.owned[id(t)] = (t, m)
        self.used = {}     # id(conv or bn) -> descriptions of uses of its tensors elsewhere
        self.stack = []    # the modules running now, innermost last
        self.made = {}     # id(output) -> (output, conv); the output kept alive so ids stay unique
        self.calls = {}    # id(conv or bn) -> number of calls
        self.bn_of = {}    # id(conv) -> set of id(bn) that read its outputs
        self.others = {}   # id(conv) -> descriptions of other readers
        self.foreign = {}  # id(bn) -> descriptions of inputs that are no watched conv's output

    def pre(self, m, args):
        self.stack.append(m)
        if id(m) in self.bns:
            self.calls[id(m)] = self.calls.get(id(m), 0) + 1
            x = args[0] if args else None
            src = self.made.get(id(x)) if isinstance(x, torch.Tensor) else None
            if src is None or src[0] is not x:
                self.foreign.setdefault(id(m), []).append("a tensor no KxK conv returned")
            else:
                self.bn_of.setdefault(id(src[1]), set()).add(id(m))

    def post(self, m, args, out):
        if self.stack and self.stack[-1] is m:
            self.stack.pop()
        if id(m) in self.convs:
            self.calls[id(m)] = self.calls.get(id(m), 0) + 1
            if isinstance(out, torch.Tensor):
                self.made[id(out)] = (out, m)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inner = self.stack[-1] if self.stack else None
        ins = _tensors((args, kwargs or {}), [])
        for t in ins:
            own = self.owned.get(id(t))
            if own is not None and own[0] is t and own[1] is not inner:
                self.used.setdefault(id(own[1]), []).append(self._call(func, inner))
        if not _tensors(out, []):
            return out
        for t in ins:
            src = self.made.get(id(t))
            if src is None or src[0] is not t or src[1] is inner:
                continue
            if inner is not None and id(inner) in self.bns and id(inner) in self.bn_of.get(id(src[1]), ()):
                continue  # the BatchNorm it feeds, at work
            self.others.setdefault(id(src[1]), []).append(self._call(func, inner))
        return out

    def _call(self, func, inner):
        where = (self.names.get(id(inner)) if inner is not None else None) or "the model's forward"
        return f"{getattr(func, '__name__', str(func))} in {where}"


@contextlib.contextmanager
def _kept(model):
    """Runs the body and then puts back every buffer (BatchNorm statistics),
    the training flags and the random state, as if it had not run."""
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    flags = [(m, m.training) for m in model.modules()]
    rng = torch.get_rng_state()
    try:
        yield
    finally:
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        for m, t in flags:
            m.training = t
        torch.set_rng_state(rng)


def _watch(model, example_input, convs, bns, names, training):
    """One forward pass in the given mode under a _Watch."""
    w = _Watch(convs, bns, names)
    h1 = nn.modules.module.register_module_forward_pre_hook(w.pre)
    h2 = nn.modules.module.register_module_forward_hook(w.post)
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    try:
        model.train(training)
        with torch.no_grad(), w:
            model(*args)
    finally:
        h1.remove()
        h2.remove()
    return w


def _sequential_pairs(model):
    """conv id -> bn for each Conv2d directly followed by a BatchNorm2d in an
    nn.Sequential (or a subclass that keeps its forward)."""
    out = {}
    for seq in model.modules():
        if not isinstance(seq, nn.Sequential) or type(seq).forward is not nn.Sequential.forward:
            continue
        kids = list(seq)
        for a, b in zip(kids, kids[1:]):
            if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                out[id(a)] = b
    return out


# ------------------------------------------------------------ the pairs

def find_conv_bn_pairs(model, example_input=None):
    """The convs acnetify swaps and the ones it leaves.

    Returns (pairs, skipped): pairs lists (conv path, BatchNorm path),
    skipped lists (conv path, reason), both in module order. example_input
    is a tensor (or a tuple of the forward's arguments) the model accepts;
    in training mode a BatchNorm after global pooling needs a batch of 2 or
    more. The model is left as it was."""
    paths = {}
    for path, m in model.named_modules(remove_duplicate=False):
        paths.setdefault(id(m), []).append(path)
    names = {k: v[0] for k, v in paths.items()}
    convs = [(p, m) for p, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    problem = {id(m): _conv_problem(m) for _, m in convs}
    watched = {id(m): m for _, m in convs if problem[id(m)] is None}
    bns = {id(m): m for m in model.modules() if isinstance(m, nn.BatchNorm2d)}

    runs, notes = [], []
    if example_input is not None:
        with _kept(model):
            runs.append(_watch(model, example_input, watched, bns, names, training=False))
            try:
                runs.append(_watch(model, example_input, watched, bns, names, training=True))
            except Exception as e:
                notes.append(f"the training-mode run failed ({type(e).__name__}: {_first_line(e)}): "
                             "pairs are from the eval-mode run alone")
    seq = _sequential_pairs(model)

    pairs, skipped = [], []
    for path, conv in convs:
        c = id(conv)
        why = problem[c]
        if why is None and len(paths[c]) > 1:
            why = f"the same module is also {paths[c][1]}"
        if why is not None:
            skipped.append((path, why))
            continue
        called = [w for w in runs if w.calls.get(c)]
        if not called:
            bn = seq.get(c)
            if bn is None:
                why = ("not followed by a BatchNorm2d in an nn.Sequential" +
                       (", and the example input never reaches it" if runs else " (no example input to trace)"))
                skipped.append((path, why))
                continue
        else:
            used = [u for w in runs for u in w.used.get(c, [])]
            if used:
                skipped.append((path, f"its weight is also used by {used[0]}"))
                continue
            others = [o for w in called for o in w.others.get(c, [])]
            fed = set().union(*(w.bn_of.get(c, set()) for w in called))
            if others and fed:
                skipped.append((path, f"feeds {names[next(iter(fed))]} but its output is also read by {others[0]}"))
                continue
            if others:
                skipped.append((path, f"feeds no BatchNorm2d (its output goes to {others[0]})"))
                continue
            if not fed:
                skipped.append((path, "feeds no BatchNorm2d"))
                continue
            if len(fed) > 1:
                skipped.append((path, "feeds several BatchNorm2d: " + ", ".join(sorted(names[b] for b in fed))))
                continue
            bn = bns[fed.pop()]
            foreign = [f for w in runs for f in w.foreign.get(id(bn), [])]
            if foreign:
                skipped.append((path, f"its BatchNorm2d {names[id(bn)]} also normalises {foreign[0]}"))
                continue
            used = [u for w in runs for u in w.used.get(id(bn), [])]
            if used:
                skipped.append((path, f"feeds {names[id(bn)]}, whose tensors are also used by {used[0]}"))
                continue
        why = _bn_problem(bn, conv)
        if why is None and len(paths[id(bn)]) > 1:
            why = f"the same module is also {paths[id(bn)][1]}"
        if why is not None:
            skipped.append((path, f"feeds {names[id(bn)]}, {why}"))
            continue
        pairs.append((path, names[id(bn)]))
    used = {}
    for conv_path, bn_path in pairs:
        used.setdefault(bn_path, []).append(conv_path)
    for bn_path, convs_of in used.items():
        if len(convs_of) > 1:  # two convs into one BatchNorm: neither block could own it
            pairs = [p for p in pairs if p[1] != bn_path]
            skipped += [(cp, f"{bn_path} also normalises {', '.join(o for o in convs_of if o != cp)}")
                        for cp in convs_of]
    order = {p: i for i, (p, _) in enumerate(convs)}
    skipped.sort(key=lambda s: order[s[0]])
    return pairs, skipped + [("", n) for n in notes]


def _first_line(e):
    lines = str(e).strip().splitlines()
    return lines[0][:200] if lines else ""


# ------------------------------------------------------------ the swap

def _set(model, path, module):
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, module)


def _swap(model, conv_path, bn_path, branch_gamma):
    conv, bn = model.get_submodule(conv_path), model.get_submodule(bn_path)
    w = conv.weight
    block = ACBlock(conv.in_channels, conv.out_channels, conv.kernel_size[0], stride=conv.stride[0],
                    padding=_padding(conv), groups=conv.groups, use_affine=bn.affine)
    block.to(device=w.device, dtype=w.dtype)
    with torch.no_grad():
        block.square_conv.weight.copy_(w)
        block.square_bn.load_state_dict(bn.state_dict())
        if conv.bias is not None:
            # BN(conv(x) + b) with mean m is BN(conv(x)) with mean m - b, in
            # training too (a batch mean moves by b as well): the bias folds
            # into the statistics, and the block keeps the official keys.
            block.square_bn.running_mean.sub_(conv.bias.to(block.square_bn.running_mean))
        for b in (block.square_bn, block.ver_bn, block.hor_bn):
            b.eps, b.momentum = bn.eps, bn.momentum
        if bn.affine:
            for b in (block.ver_bn, block.hor_bn):
                b.weight.fill_(branch_gamma)
                b.bias.zero_()
    for new, old in ((block.square_conv, conv), (block.ver_conv, conv), (block.hor_conv, conv)):
        new.weight.requires_grad_(old.weight.requires_grad)
    if bn.affine:
        for b in (block.square_bn, block.ver_bn, block.hor_bn):
            b.weight.requires_grad_(bn.weight.requires_grad)
            b.bias.requires_grad_(bn.bias.requires_grad)
    block.train(bn.training)
    _set(model, conv_path, block)
    _set(model, bn_path, nn.Identity())


def _outputs(model, args, training, seed=0):
    """The model's outputs in the given mode, dropout drawn from seed; the
    model's buffers and flags and the random state left as they were."""
    with _kept(model), torch.no_grad():
        model.train(training)
        torch.manual_seed(seed)
        return [t.detach().clone() for t in _tensors(model(*args), [])]


def _check(model, args, before, blocks):
    """Why the acnetified model, its new branches' convs zeroed (which makes
    each branch's output exactly 0: a BatchNorm of zeros with fresh
    statistics in eval, of a constant batch in training), does not give the
    outputs before holds; None when it does."""
    convs = [c for p in blocks for c in (model.get_submodule(p).ver_conv, model.get_submodule(p).hor_conv)]
    saved = [c.weight.detach().clone() for c in convs]
    try:
        with torch.no_grad():
            for c in convs:
                c.weight.zero_()
        for training, want in before.items():
            mode = "training" if training else "eval"
            try:
                got = _outputs(model, args, training)
            except Exception as e:
                return f"after the swap the model no longer runs in {mode} mode ({type(e).__name__}: {_first_line(e)})"
            if len(got) != len(want) or any(g.shape != w.shape for g, w in zip(got, want)):
                return f"after the swap the model's {mode}-mode outputs change shape"
            for g, w in zip(got, want):
                tol = 1e-4 if w.dtype in (torch.float32, torch.float64) else 1e-2
                d = float((g - w).abs().max() / w.abs().max().clamp(min=1))
                if not d <= tol:
                    return (f"after the swap the model's {mode}-mode output moved by {d:.2g} (relative): "
                            "some conv output is read where acnetify cannot see")
    finally:
        with torch.no_grad():
            for c, w in zip(convs, saved):
                c.weight.copy_(w)
    return None


def acnetify(model, example_input=None, *, branch_gamma=0.0, log=None):
    """Swaps, in place, every KxK conv of model that feeds a BatchNorm2d
    (find_conv_bn_pairs says which) for an ACBlock, and returns model.

    The square branch gets the conv's weights and the BatchNorm's affine
    parameters and running statistics (a conv bias is folded into the
    running mean). The 1xK and Kx1 convs get PyTorch's default
    initialisation, as in the official code, and their BatchNorms the
    original's eps and momentum, bias 0 and weight (gamma) branch_gamma.
    The default 0 is the official code's `single_init`: the block then
    computes exactly what the conv and BatchNorm did, in both modes, so a
    pretrained model starts where it was, and the first step's gradient
    gives the new branches' gammas their first values. The official
    training recipes instead set every gamma of a freshly built network,
    the square one too, to 1 (its ImageNet ResNets) or 1/3 (its CIFAR
    networks); branch_gamma sets only the new branches', leaving the square
    one as the model had it. A BatchNorm2d without affine parameters has
    no gamma to set: its new branches add their normalised outputs from the
    start, as in the official code.

    With an example input, acnetify then checks its work: with the new
    branches' convs zeroed for the moment, the model must give what it gave
    before, in eval and in training mode; if not (or if it no longer runs)
    it puts the original modules back and raises ValueError.

    log, if given, is called with one line per swap and per conv left as
    it is (1x1 convs counted in one line)."""
    pairs, skipped = find_conv_bn_pairs(model, example_input)
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    before = {}
    if example_input is not None and pairs:
        for training in (False, True):
            try:
                before[training] = _outputs(model, args, training)
            except Exception:
                pass  # a training-mode run find_conv_bn_pairs has noted
    originals = []
    for conv_path, bn_path in pairs:
        originals.append((conv_path, model.get_submodule(conv_path), bn_path, model.get_submodule(bn_path)))
        _swap(model, conv_path, bn_path, branch_gamma)
    problem = _check(model, args, before, [p for p, _ in pairs])
    if problem is not None:
        for conv_path, conv, bn_path, bn in reversed(originals):
            _set(model, conv_path, conv)
            _set(model, bn_path, bn)
        raise ValueError(f"acnetify: {problem}; the model is left as it was")
    if log is not None:
        for conv_path, bn_path in pairs:
            plain = "" if model.get_submodule(conv_path).square_bn.affine else \
                " (BatchNorm without affine parameters: the new branches' outputs add from the start)"
            log(f"acnetify: {conv_path} + {bn_path} -> ACBlock {conv_path}{plain}")
        ones = sum(why == "1x1" for _, why in skipped)
        for path, why in skipped:
            if why != "1x1":
                log(f"acnetify: {path}: left as it is: {why}" if path else f"acnetify: {why}")
        if ones:
            log(f"acnetify: {ones} 1x1 convs left as they are")
        log(f"acnetify: {len(pairs)} ACBlocks")
    return model


# ------------------------------------------------------------ command line

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="MODULE:CALLABLE returning the network, e.g. torchvision.models:resnet18")
    ap.add_argument("--input", required=True, help="C,H,W of one sample (the example input is a batch of 2)")
    ap.add_argument("--weights", help="a state_dict to load into the network first")
    ap.add_argument("--branch-gamma", type=float, default=0.0, help="gamma of the new branches' BatchNorms (default 0)")
    ap.add_argument("--out", help="where to torch.save the acnetified network's state_dict")
    a = ap.parse_args()

    def fail(msg):
        sys.exit(f"acnetify: {msg}")

    mod_name, _, fn_name = a.model.partition(":")
    if not mod_name or not fn_name:
        fail(f"--model {a.model}: want MODULE:CALLABLE, such as torchvision.models:resnet18")
    sys.path.insert(0, "")
    try:
        factory = getattr(importlib.import_module(mod_name), fn_name)
        model = factory()
    except Exception as e:
        fail(f"--model {a.model}: {type(e).__name__}: {_first_line(e)}")
    if not isinstance(model, nn.Module):
        fail(f"--model {a.model}: returned a {type(model).__name__}, not a torch.nn.Module")
    try:
        shape = [int(v) for v in a.input.split(",")]
    except ValueError:
        fail(f"--input {a.input}: want C,H,W such as 3,224,224")
    if a.weights:
        try:
            model.load_state_dict(torch.load(a.weights, map_location="cpu"))
        except Exception as e:  # load_state_dict's message spans lines: keep them, on one
            fail(f"--weights {a.weights}: {type(e).__name__}: {' '.join(str(e).split())[:400]}")
    try:
        acnetify(model, torch.randn(2, *shape), branch_gamma=a.branch_gamma, log=print)
    except ValueError as e:
        fail(_first_line(e)[len("acnetify: "):])
    except Exception as e:
        fail(f"running {a.model} on a {a.input} input: {type(e).__name__}: {_first_line(e)}")
    if a.out:
        torch.save(model.state_dict(), a.out)
        print(f"acnetify: wrote {a.out}")


if __name__ == "__main__":
    main()
