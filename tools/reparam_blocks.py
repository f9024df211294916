"""torch2spec's knowledge of the re-parameterisation blocks after RepVGG,
and of sums of linear branches in general.

Blocks are recognised by their structure, not their names alone: the types
and geometry of their parts (a QARepVGG block has RepVGG's rbr_dense and
rbr_1x1, but its rbr_1x1 is a bare convolution and a BatchNorm follows the
sum, so it is not taken for RepVGG), and then by what they compute: each
block, copied to float64, must give on a random input what acgen's op
gives (fixtures' spec interpreter) on the layers written for it. A block
that has a family's parts but fails that check is refused, by name.

  family          training form                      deploy form            op
  MobileOne       rbr_conv, rbr_scale, rbr_skip      reparam_conv           mobileone (+ SE, ReLU)
  QARepVGG (V2)   rbr_dense, bare rbr_1x1, bn        rbr_reparam + bn       qarepvgg (+ ReLU)
  RepViT          RepVGGDW: conv.c/.bn, conv1, bn    a Conv2d (fuse)        repvggdw
  UniRepLKNet     lk_origin, origin_bn, dil_*        lk_origin with bias    dilated_reparam
  YOLO RepConv    conv1, conv2, bn (optional)        conv (fuse_convs)      repconv (+ act)

Beyond these, linear_sums finds in the traced graph every sum whose
branches are each a chain of linear steps (Conv2d, BatchNorm2d, average
pooling, zero padding, identities) of one input, and writes it as one
linear_sum layer, so that a user's own block converts without an op of its
own; a sum that looks like one but is not (a branch with a ReLU, a
padding that would see a bias, strides that differ) is kept as separate
layers with a note naming its block and the branch that stops it.

torch2spec calls is_block (its tracer keeps recognised blocks whole),
block_layers (where it turns a block into layers) and linear_sums; t2s is
torch2spec's own module, for its Unsupported, nonlinearity, conv_fields
and run_spec.
"""
import copy
import importlib.util
import os
import re

import torch
import torch.nn as nn


def _load_sums():
    """reparam_sums.py, beside this file, under a private name."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reparam_sums.py")
    spec = importlib.util.spec_from_file_location("_acgen_reparam_sums", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


linear_sums = _load_sums().linear_sums

BN = nn.BatchNorm2d

# Blocks counted in torch2spec's summary line: (op, label).
SUMMARY = (("mobileone", "MobileOne blocks"), ("qarepvgg", "QARepVGG blocks"), ("repvggdw", "RepVGGDW blocks"),
           ("dilated_reparam", "DilatedReparamBlocks"), ("repconv", "RepConvs"), ("linear_sum", "sums of linear branches"))


def _is(m, attr, cls):
    return isinstance(getattr(m, attr, None), cls)


def _conv_bn(m):
    """A conv-BN pair as the families write it: .conv or .c, and .bn."""
    conv = getattr(m, "conv", None) if _is(m, "conv", nn.Conv2d) else getattr(m, "c", None)
    return isinstance(conv, nn.Conv2d) and _is(m, "bn", BN) and not isinstance(m, nn.Conv2d)


def _conv_of(m):
    return m.conv if _is(m, "conv", nn.Conv2d) else m.c


def _eps(fields, bn):
    if bn.eps != 1e-5:
        fields["eps"] = float(bn.eps)
    return fields


def _geo(c):
    """A convolution's (out, kernel, stride, padding, groups, dilation),
    None unless square with zero padding: what the families are made of."""
    if not isinstance(c, nn.Conv2d) or c.padding_mode != "zeros" or isinstance(c.padding, str):
        return None
    pairs = (c.kernel_size, c.stride, c.padding, c.dilation)
    if any(p[0] != p[1] for p in pairs):
        return None
    return (c.out_channels, c.kernel_size[0], c.stride[0], c.padding[0], c.groups, c.dilation[0])


class Refused(Exception):
    """A module that has a family's parts but not its block's structure."""


# ------------------------------------------------------------ the families
#
# Each returns None for a module that does not have the family's parts,
# raises Refused for one that has them in another structure, and else its
# layers: (op, fields, prefix, name suffix, inputs by suffix), the block
# first, as torch2spec writes them.

def mobileone(m, where, t2s):
    if _is(m, "reparam_conv", nn.Conv2d) and hasattr(m, "activation"):
        return [("conv", t2s.conv_fields(m.reparam_conv, where), where + ".reparam_conv", "", None)] + \
            _se(m, where, t2s) + _act(m.activation, where, t2s, "activation")
    if not (_is(m, "rbr_conv", nn.ModuleList) and len(m.rbr_conv) and hasattr(m, "activation")):
        return None
    if not all(_conv_bn(b) for b in m.rbr_conv):
        raise Refused("its rbr_conv branches are not each a conv and a BatchNorm")
    c = _conv_of(m.rbr_conv[0])
    g = _geo(c)
    if g is None or any(_geo(_conv_of(b)) != g for b in m.rbr_conv) or g[5] != 1:
        raise Refused("its rbr_conv branches are not square convolutions of one shape, undilated")
    out, k, stride, pad, groups, _ = g
    if pad != k // 2:
        raise Refused(f"its KxK branches are padded by {pad}, not kernel/2 ({k // 2}), so the 1x1 scale branch does not line up")
    scale = getattr(m, "rbr_scale", None)
    if (scale is not None) != (k > 1) or scale is not None and (
            not _conv_bn(scale) or _geo(_conv_of(scale)) != (out, 1, stride, 0, groups, 1)):
        raise Refused("its rbr_scale is not the unpadded 1x1 conv-BN MobileOne has exactly when the kernel is larger than 1")
    skip = getattr(m, "rbr_skip", None)
    identity = c.in_channels == out and stride == 1
    if (skip is not None) != identity or skip is not None and not isinstance(skip, BN):
        raise Refused("its rbr_skip is not the BatchNorm MobileOne has exactly when in = out channels and stride 1")
    f = t2s.conv_fields(c, where)
    del f["padding"]
    if len(m.rbr_conv) > 1:
        f["conv_branches"] = len(m.rbr_conv)
    return [("mobileone", _eps(f, m.rbr_conv[0].bn), None, "", None)] + _se(m, where, t2s) + \
        _act(m.activation, where, t2s, "activation")


def qarepvgg(m, where, t2s):
    if _is(m, "rbr_reparam", nn.Conv2d) and _is(m, "bn", BN):
        return [("conv", t2s.conv_fields(m.rbr_reparam, where), where + ".rbr_reparam", "", None),
                ("bn", _eps({}, m.bn), None, "bn", None)] + _no_se(m) + \
            _act(getattr(m, "nonlinearity", None), where, t2s, "nonlinearity")
    if not (hasattr(m, "rbr_dense") and _is(m, "rbr_1x1", nn.Conv2d) and _is(m, "bn", BN)):
        return None
    if not _conv_bn(m.rbr_dense):
        raise Refused("its rbr_dense is not a conv and a BatchNorm")
    c = _conv_of(m.rbr_dense)
    g = _geo(c)
    if g is None or g[5] != 1 or g[3] != g[1] // 2:
        raise Refused("its rbr_dense is not a square KxK convolution padded by K/2")
    out, k, stride, _, groups, _ = g
    if _geo(m.rbr_1x1) != (out, 1, stride, 0, groups, 1):
        raise Refused("its rbr_1x1 is not the unpadded 1x1 of its rbr_dense")
    identity = c.in_channels == out and stride == 1
    ident = getattr(m, "rbr_identity", None)
    if (ident is not None) != identity or ident is not None and not isinstance(ident, nn.Identity):
        raise Refused("its rbr_identity is not the nn.Identity QARepVGG has exactly when in = out channels and stride 1")
    f = t2s.conv_fields(c, where)
    if hasattr(m, "rbr_avg"):
        avg = m.rbr_avg
        pair = lambda v: v if isinstance(v, (tuple, list)) else (v, v)  # noqa: E731
        ok = isinstance(avg, nn.AvgPool2d) and pair(avg.kernel_size) == (k, k) and pair(avg.stride) == (1, 1) and \
            pair(avg.padding) == (k // 2, k // 2) and avg.count_include_pad and not avg.ceil_mode and \
            avg.divisor_override is None
        if (avg is not None) != identity or avg is not None and not ok:
            raise Refused("its rbr_avg is not the KxK average pool QARepVGGBlockV2 has exactly when in = out channels and stride 1")
        f["version"] = 2
    del f["padding"]
    return [("qarepvgg", _eps(f, m.rbr_dense.bn), None, "", None)] + _no_se(m) + \
        _act(getattr(m, "nonlinearity", None), where, t2s, "nonlinearity")


def repvggdw(m, where, t2s):
    if not (_is(m, "conv1", nn.Conv2d) and _is(m, "bn", BN) and _is(getattr(m, "conv", None), "c", nn.Conv2d)
            and _is(m.conv, "bn", BN) and not hasattr(m, "conv2")):
        return None
    ch = m.conv.c.in_channels
    if _geo(m.conv.c) != (ch, 3, 1, 1, ch, 1) or _geo(m.conv1) != (ch, 1, 1, 0, ch, 1):
        raise Refused("its conv.c and conv1 are not RepViT's depthwise 3x3 and 1x1")
    return [("repvggdw", _eps({}, m.bn), None, "", None)]


DIL = re.compile(r"dil_conv_k(\d+)_(\d+)$")


def dilated_reparam(m, where, t2s):
    if not _is(m, "lk_origin", nn.Conv2d):
        return None
    names = [name for name, _ in m.named_children()]
    convs = [(int(DIL.match(n).group(1)), int(DIL.match(n).group(2)), n) for n in names if DIL.match(n)]
    if not hasattr(m, "origin_bn"):
        if convs:
            raise Refused("it has dilated branches but no origin_bn")
        return [("conv", t2s.conv_fields(m.lk_origin, where), where + ".lk_origin", "", None)]
    ch, k = m.lk_origin.in_channels, m.lk_origin.kernel_size[0]
    if not isinstance(m.origin_bn, BN) or _geo(m.lk_origin) != (ch, k, 1, k // 2, ch, 1):
        raise Refused("its lk_origin is not a depthwise KxK conv padded by K/2 with its origin_bn")
    for kk, r, name in convs:
        if _geo(getattr(m, name)) != (ch, kk, 1, (r * (kk - 1) + 1) // 2, ch, r) or not _is(m, f"dil_bn_k{kk}_{r}", BN):
            raise Refused(f"its {name} is not a depthwise {kk}x{kk} conv of dilation {r}, centred, with dil_bn_k{kk}_{r}")
    f = {"kernel": k, "kernels": [kk for kk, _, _ in convs], "dilations": [r for _, r, _ in convs]}
    return [("dilated_reparam", _eps(f, m.origin_bn), None, "", None)]


def repconv(m, where, t2s):
    if _is(m, "conv", nn.Conv2d) and not hasattr(m, "conv1") and hasattr(m, "act") and \
            all(isinstance(getattr(m, a, None), int) for a in ("c1", "c2", "g")):
        return [("conv", t2s.conv_fields(m.conv, where), where + ".conv", "", None)] + _act(m.act, where, t2s, "act")
    if not (hasattr(m, "conv1") and hasattr(m, "conv2") and hasattr(m, "act")):
        return None
    if not (_conv_bn(m.conv1) and _conv_bn(m.conv2) and _is(m.conv1, "conv", nn.Conv2d)):
        raise Refused("its conv1 and conv2 are not each a conv and a BatchNorm")
    g = _geo(m.conv1.conv)
    if g is None or g[5] != 1 or g[3] < g[1] // 2:
        raise Refused("its conv1 is not a square KxK convolution padded by at least K/2")
    out, k, stride, pad, groups, _ = g
    if _geo(m.conv2.conv) != (out, 1, stride, pad - k // 2, groups, 1):
        raise Refused("its conv2 is not the 1x1 of its conv1, padded p - K/2")
    f = t2s.conv_fields(m.conv1.conv, where)
    bn = getattr(m, "bn", None)
    if bn is not None:
        if not isinstance(bn, BN) or m.conv1.conv.in_channels != out or stride != 1:
            raise Refused("its bn is not an identity BatchNorm of equal in and out channels at stride 1")
        f["identity"] = 1
    if pad == k // 2:
        del f["padding"]
    return [("repconv", _eps(f, m.conv1.bn), None, "", None)] + _act(m.act, where, t2s, "act")


FAMILIES = (("MobileOneBlock", mobileone), ("QARepVGGBlock", qarepvgg), ("RepVGGDW", repvggdw),
            ("DilatedReparamBlock", dilated_reparam), ("RepConv", repconv))


def _act(act, where, t2s, suffix):
    return [l + (suffix, None) for l in t2s.nonlinearity(act, where)]


def _no_se(m):
    se = getattr(m, "se", None)
    if se is not None and not isinstance(se, nn.Identity):
        raise Refused(f"its se is a {type(se).__name__}; the official block has none")
    return []


def _se(m, where, t2s):
    """MobileOne's SE (reduce, ReLU, expand, sigmoid, times the block)."""
    se = getattr(m, "se", None)
    if se is None or isinstance(se, nn.Identity):
        return []
    if not (_is(se, "reduce", nn.Conv2d) and _is(se, "expand", nn.Conv2d)):
        raise Refused(f"its se is a {type(se).__name__}, not MobileOne's SEBlock (reduce and expand 1x1 convs)")
    return [("global_avgpool", {}, None, "se.pool", None),
            ("conv", {"out": int(se.reduce.out_channels), "kernel": 1}, where + ".se.reduce", "se.reduce", None),
            ("relu", {}, None, "se.relu", None),
            ("conv", {"out": int(se.expand.out_channels), "kernel": 1}, where + ".se.expand", "se.expand", None),
            ("sigmoid", {}, None, "se.gate", None),
            ("mul", {}, None, "se", ["", "se.gate"])]


# ------------------------------------------------------------ recognition

_seen = {}  # id(module) -> (module, where, verdict, family, layers or refusal)


def _repvgg_lookalike(m):
    """Why a module with RepVGG's names (which torch2spec takes for RepVGG
    by them) is not a RepVGG block, or None."""
    if not (hasattr(m, "rbr_dense") and hasattr(m, "rbr_1x1")) or hasattr(m, "rbr_reparam"):
        return None
    for name in ("rbr_dense", "rbr_1x1"):
        part = getattr(m, name)
        if not (_is(part, "conv", nn.Conv2d) and _is(part, "bn", BN)):
            return f"its {name} is a {type(part).__name__}, not a conv and a BatchNorm"
    if hasattr(m, "bn") or hasattr(m, "rbr_avg"):
        return "it has a BatchNorm or an average pool that RepVGG lacks"
    ident = getattr(m, "rbr_identity", None)
    if ident is not None and not isinstance(ident, BN):
        return f"its rbr_identity is a {type(ident).__name__}, not a BatchNorm"
    return None


def _recognise(m, where, t2s):
    """("block", family, layers), ("refused", family, why), ("trace",
    family, why) or None for a module of no family."""
    for family, fn in FAMILIES:
        try:
            layers = fn(m, where, t2s)
        except Refused as e:
            return "trace", family, str(e)
        except t2s.Unsupported as e:  # a part of it the spec cannot express: the block is refused
            return "refused", family, str(e).split(": ", 1)[-1]
        if layers is not None:
            why = _self_check(m, where, layers, t2s)
            return ("trace", family, why) if why else ("block", family, layers)
    why = _repvgg_lookalike(m)
    return ("trace", "RepVGG block", why) if why else None


def _verdict(m, where, t2s):
    hit = _seen.get(id(m))
    if hit is None or hit[0] is not m or hit[1] != where:
        got = _recognise(m, where, t2s)
        hit = (m, where, got)
        _seen[id(m)] = hit
        if got is not None and got[0] == "trace":
            print(f"torch2spec: note: {where}: has a {got[1]}'s parts, but {got[2]}: traced through as plain layers")
    return hit[2]


def prepare(model, t2s):
    """Recognises every block of model, running each (a float64 copy) to
    check it, before torch2spec traces model: a module cannot run while
    torch.fx traces."""
    for where, m in model.named_modules():
        if where:
            _verdict(m, where, t2s)


def is_block(m, where, t2s):
    """True: the tracer keeps m whole (a block of a family, or one whose
    refusal block_layers reports); False: the tracer must trace through m,
    whatever its names say (it is not the block they name); None: not a
    re-parameterisation block of these families."""
    got = _verdict(m, where, t2s)
    if got is None:
        return None
    return got[0] != "trace"


def block_layers(m, where, t2s):
    """The layers of a recognised block, or None for any other module; a
    block with a part the spec cannot express is refused by name."""
    got = _verdict(m, where, t2s)
    if got is None or got[0] == "trace":
        return None
    if got[0] == "refused":
        raise t2s.Unsupported(f"{where}: a {got[1]}, but {got[2]}")
    return got[2]


def _in_shape(m):
    """The channels a block reads (its first convolution's outside its SE)
    and a size its windows fit."""
    for name, c in m.named_modules():
        if isinstance(c, nn.Conv2d) and not name.startswith("se."):
            k = max(c.kernel_size[0] * c.dilation[0], 3)
            return c.in_channels, max(2 * k + 1, 9)
    return None


def _self_check(m, where, layers, t2s, tol=1e-9):
    """Runs m (a float64 copy) and its layers through the spec interpreter
    on one random input; why they differ, or None."""
    shape = _in_shape(m)
    if shape is None:
        return "it has no convolution"
    c, size = shape
    name = where or "block"
    spec_layers, named = [], {}
    for op, fields, prefix, suffix, reads in layers:
        lname = name if not suffix else f"{name}.{suffix}"
        named[suffix] = lname
        layer = {"name": lname, "op": op, **fields}
        if prefix is not None:
            layer["prefix"] = name + prefix[len(where):]
        if reads is not None:
            layer["inputs"] = [named[r] for r in reads]
        spec_layers.append(layer)
    spec = {"input": [c, size, size], "layers": spec_layers}
    block = copy.deepcopy(m).double().eval()
    sd = {f"{name}.{k}": v for k, v in block.state_dict().items() if not k.endswith("num_batches_tracked")}
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, c, size, size, dtype=torch.float64, generator=gen)
    with torch.no_grad():
        try:
            want = block(x)
            got, used = t2s.run_spec(spec, sd, x)
        except Exception as e:  # the block's own forward, or layers that do not fit it
            return f"its layers do not run like it ({type(e).__name__}: {str(e).splitlines()[0][:200]})"
    if got.shape != want.shape:
        return f"acgen's layers for it give {list(got.shape[1:])}, it gives {list(want.shape[1:])}"
    diff = float(((got - want).abs() / want.abs().clamp(min=1)).max())
    if not diff <= tol:
        return f"it does not compute what acgen's layers for it do (max relative difference {diff:.2g})"
    unread = sorted(k[len(name) + 1:] for k in set(sd) - used)
    if unread:
        return f"acgen's layers for it read none of its {', '.join(unread[:4])}"
    return None
