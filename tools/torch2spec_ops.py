"""torch2spec's ops: what a PyTorch module is in acgen's spec, its fields
written as the spec writes them (an int, or [h, w] where the two differ).

The graph walk (torch2spec_graph.py) calls module_layer for a module call
and the field builders for the functional spellings; every refusal is an
Unsupported naming the module path and the real reason.
"""

import numbers

import torch
import torch.nn as nn
import torch.nn.functional as F


class Unsupported(Exception):
    """A part of the model that acgen's spec cannot express."""


ABOVE = "(above)"  # an Unsupported for a node whose input was refused


SPEC_OPS = ("(acgen's spec has acblock, repvgg, dbb, conv, bn, layernorm, grn, scale, linear, relu, relu6, "
            "leaky_relu, hardswish, hardsigmoid, sigmoid, silu, tanh, gelu, maxpool, avgpool, "
            "adaptive_avgpool, global_avgpool, flatten, add, mul, concat, split and channel_shuffle)")

# The forms a traced tensor takes. NCHW is the spec's own (a 2-D [N, C]
# tensor is C x 1 x 1); NHWC is a spec tensor permuted channels-last,
# on which per-pixel ops (LayerNorm, Linear, activations) act on channels;
# GROUPED and SHUFFLED are the 5-D views inside a channel shuffle:
# (GROUPED, g) is [N, g, C/g, H, W], (SHUFFLED, g) its transpose(1, 2).
NCHW, NHWC, GROUPED, SHUFFLED = "nchw", "nhwc", "grouped", "shuffled"

ACT_MODULES = {nn.ReLU: "relu", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid",
               nn.Sigmoid: "sigmoid", nn.SiLU: "silu", nn.Tanh: "tanh"}
ACT_FUNCTIONS = {F.relu: "relu", torch.relu: "relu", F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid",
                 torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", F.silu: "silu", torch.tanh: "tanh", F.tanh: "tanh",
                 torch.relu_: "relu", F.relu_: "relu"}
ACT_METHODS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid",
               "tanh": "tanh", "tanh_": "tanh"}
DROPOUT_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout) \
    if hasattr(nn, "Dropout1d") else (nn.Dropout, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


def plain(v):
    """v with numpy and torch scalars made Python ints and floats: widths
    often come from a numpy array (the official code's `deps`)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    if isinstance(v, torch.Size):
        return [int(x) for x in v]
    if isinstance(v, (tuple, list)):
        return type(v)(plain(x) for x in v)
    return v


def pair(v, what, where):
    """(h, w) from an int or a pair of ints."""
    v = plain(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return v, v
    if isinstance(v, (tuple, list)) and len(v) == 1 and isinstance(v[0], int):
        return v[0], v[0]
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return tuple(v)
    raise Unsupported(f"{where}: {what} {v!r}: acgen's spec takes an int or [height, width]")


def compact(hw):
    """The spec's spelling of (h, w): an int when both are equal."""
    return hw[0] if hw[0] == hw[1] else [hw[0], hw[1]]


def describe(form, shape):
    if form == NHWC:
        return "a channels-last tensor (after permute(0, 2, 3, 1))"
    if isinstance(form, tuple):
        return "a 5-D view (the middle of a channel shuffle)"
    return f"a {len(shape)}-D tensor {list(shape[1:])}"


def need_nchw(where, what, form, shape, dims=(4,)):
    if form != NCHW or len(shape) not in dims:
        raise Unsupported(f"{where}: {what} on {describe(form, shape)}: acgen's spec has it on N,C,H,W maps only")


def conv_fields(c, where):
    """nn.Conv2d's fields; paddings and strides may differ per axis."""
    if c.padding_mode != "zeros":
        raise Unsupported(f"{where}: padding_mode {c.padding_mode!r}: acgen pads with zeros")
    k = pair(c.kernel_size, "kernel_size", where)
    d = pair(c.dilation, "dilation", where)
    pad = c.padding
    if pad == "same":
        total = [d[i] * (k[i] - 1) for i in range(2)]
        if any(t % 2 for t in total):
            raise Unsupported(f"{where}: padding='same' with kernel {list(k)} pads one side more than the other: "
                              "acgen's spec pads both sides alike")
        pad = (total[0] // 2, total[1] // 2)
    elif pad == "valid":
        pad = 0
    f = {"out": int(c.out_channels), "kernel": compact(k)}
    stride = pair(c.stride, "stride", where)
    if stride != (1, 1):
        f["stride"] = compact(stride)
    f["padding"] = compact(pair(pad, "padding", where))
    if c.groups != 1:
        f["groups"] = int(c.groups)
    if d != (1, 1):
        f["dilation"] = compact(d)
    return f


def square_fields(f, where, block):
    """A block op's fields, which take one value for both axes."""
    for k in ("kernel", "stride", "padding", "dilation"):
        if isinstance(f.get(k), list):
            raise Unsupported(f"{where}: {block} with {k} {f[k]}: acgen's {block} takes the same value for height and width")
    return f


def pool_fields(op, k, stride, pad, where, in_shape, out_shape, ceil=False, count_include_pad=True,
                dilation=1, divisor_override=None):
    """maxpool's or avgpool's fields. ceil_mode is written only where it
    changes the output (a window starting in the last partial stride);
    count_include_pad: false only where some window reaches the padding."""
    if divisor_override:
        raise Unsupported(f"{where}: {op} with divisor_override: acgen's spec has no such field")
    if pair(dilation, "dilation", where) != (1, 1):
        raise Unsupported(f"{where}: {op} with dilation {plain(dilation)}: acgen's pools take dilation 1")
    k = pair(k, "kernel_size", where)
    s = k if stride is None or plain(stride) in ([], ()) else pair(stride, "stride", where)
    p = pair(pad, "padding", where)
    f = {"kernel": compact(k)}
    if s != k:
        f["stride"] = compact(s)
    if p != (0, 0):
        f["padding"] = compact(p)
    floor = tuple((in_shape[2 + i] + 2 * p[i] - k[i]) // s[i] + 1 for i in range(2))
    ceiled = ceil and tuple(out_shape[2:]) != floor
    if ceiled:
        f["ceil_mode"] = True
    if op == "avgpool" and not count_include_pad and p != (0, 0):
        f["count_include_pad"] = False
    return f


def adaptive_fields(where, in_shape, out_shape):
    """AdaptiveAvgPool2d by the size it produced: None for the identity
    (output size = input size), else the op and its fields."""
    size = tuple(out_shape[2:])
    if size == (1, 1):
        return "global_avgpool", {}
    if size == tuple(in_shape[2:]):
        return None
    return "adaptive_avgpool", {"size": compact(size)}


def slope_fields(slope, where):
    slope = float(slope)
    if not slope > 0:
        raise Unsupported(f"{where}: LeakyReLU slope {slope}: acgen's spec takes a positive slope")
    return {} if slope == 0.01 else {"slope": slope}


def gelu_fields(approximate, where):
    if approximate in (None, "none"):
        return {}
    if approximate == "tanh":
        return {"approximate": "tanh"}
    raise Unsupported(f"{where}: GELU approximate={approximate!r}: acgen's gelu is exact or 'tanh'")


def activation_module(m, where):
    """The op and fields of an activation module, or None if m is not one."""
    for cls, op in ACT_MODULES.items():
        if type(m) is cls:
            return op, {}
    if isinstance(m, nn.LeakyReLU):
        return "leaky_relu", slope_fields(m.negative_slope, where)
    if isinstance(m, nn.ReLU6) or (isinstance(m, nn.Hardtanh) and (m.min_val, m.max_val) == (0.0, 6.0)):
        return "relu6", {}
    if isinstance(m, nn.GELU):
        return "gelu", gelu_fields(getattr(m, "approximate", "none"), where)
    return None


def is_identity_module(m):
    """Modules that are the identity in eval mode: nn.Identity, every
    dropout, torchvision's StochasticDepth."""
    return isinstance(m, (nn.Identity,) + DROPOUT_MODULES) or (
        type(m).__name__ == "StochasticDepth" and type(m).__module__.startswith("torchvision"))


def module_layer(m, where, form, shape, out_shape):
    """The op, fields and weight prefix of a call of module m on a tensor
    of this form and shape; None for one that is the identity here."""
    if is_identity_module(m):
        return None
    act = activation_module(m, where)
    if act is not None:
        if isinstance(form, tuple):
            need_nchw(where, type(m).__name__, form, shape, dims=(2, 3, 4))
        return act + (None,)
    if isinstance(m, nn.Linear):
        if form == NHWC:  # per pixel, over channels: a 1x1 convolution
            return "conv", {"out": int(m.out_features), "kernel": 1}, None
        if form == NCHW and len(shape) == 2:
            return "linear", {"out": int(m.out_features)}, None
        raise Unsupported(f"{where}: Linear on {describe(form, shape)}: it acts on the last dimension, "
                          "which acgen's spec has as channels only for a flattened or channels-last tensor")
    if isinstance(m, nn.LayerNorm):
        return layernorm_fields(m.normalized_shape, m.eps, where, form, shape) + (None,)
    if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
        need_nchw(where, type(m).__name__, form, shape, dims=(4,) if isinstance(m, nn.BatchNorm2d) else (2,))
        if not m.track_running_stats:
            raise Unsupported(f"{where}: {type(m).__name__} without running statistics")
        return "bn", ({"eps": float(m.eps)} if m.eps != 1e-5 else {}), None
    need_nchw(where, type(m).__name__, form, shape, dims=(2, 4) if isinstance(m, nn.Flatten) else (4,))
    if is_acblock(m):
        return acblock_layer(m, where)
    if isinstance(m, nn.Conv2d):
        f = conv_fields(m, where)
        if f["padding"] == 0:
            del f["padding"]  # the conv default
        return "conv", f, None
    if isinstance(m, nn.MaxPool2d):
        return "maxpool", pool_fields("maxpool", m.kernel_size, m.stride, m.padding, where, shape, out_shape,
                                      ceil=m.ceil_mode, dilation=m.dilation), None
    if isinstance(m, nn.AvgPool2d):
        return "avgpool", pool_fields("avgpool", m.kernel_size, m.stride, m.padding, where, shape, out_shape,
                                      ceil=m.ceil_mode, count_include_pad=m.count_include_pad,
                                      divisor_override=m.divisor_override), None
    if isinstance(m, nn.AdaptiveAvgPool2d):
        got = adaptive_fields(where, shape, out_shape)
        return None if got is None else got + (None,)
    if isinstance(m, nn.Flatten) and m.start_dim == 1 and m.end_dim == -1:
        return ("flatten", {}, None) if len(shape) == 4 else None
    raise Unsupported(f"{where}: {type(m).__name__} is not an op acgen's spec has {SPEC_OPS}")


def layernorm_fields(normalized_shape, eps, where, form, shape):
    """LayerNorm over channels: over the last dimension of a channels-last
    or a flattened tensor."""
    ns = [int(v) for v in (normalized_shape if isinstance(normalized_shape, (tuple, list, torch.Size))
                           else [normalized_shape])]
    over_channels = (form == NHWC and len(shape) == 4) or (form == NCHW and len(shape) == 2)
    if not over_channels or ns != [shape[-1]]:
        raise Unsupported(f"{where}: LayerNorm over {ns} of {describe(form, shape)}: acgen's layernorm "
                          "normalises over channels (permute(0, 2, 3, 1), then LayerNorm(C), or LayerNorm2d)")
    return "layernorm", ({} if eps == 1e-5 else {"eps": float(eps)})


# ------------------------------------------------------------ the re-parameterisation blocks

def is_acblock(m):
    return all(hasattr(m, a) for a in ("square_conv", "ver_conv", "hor_conv")) or (
        hasattr(m, "fused_conv") and isinstance(m.fused_conv, nn.Conv2d))


def is_repvgg(m):
    """The official RepVGGBlock, in training or deploy form."""
    return hasattr(m, "rbr_dense") and hasattr(m, "rbr_1x1") or (
        hasattr(m, "rbr_reparam") and isinstance(m.rbr_reparam, nn.Conv2d))


def is_dbb(m):
    """The official DiverseBranchBlock, in training or deploy form."""
    return hasattr(m, "dbb_origin") and hasattr(m, "dbb_1x1_kxk") or (
        hasattr(m, "dbb_reparam") and isinstance(m.dbb_reparam, nn.Conv2d))


# reparam, when torch2spec sets it (use_reparam), recognises the blocks
# after RepVGG and sums of linear branches (tools/reparam_blocks.py), with
# host giving it torch2spec's helpers.
reparam, host = None, None


def use_reparam(module, helpers):
    global reparam, host
    reparam, host = module, helpers


def is_block(m, where=""):
    """True for modules traced as one call (their forward is the block's
    sum), False for modules that must be traced through (one with a
    family's parts but not its block's structure), None for the rest."""
    if reparam is not None:
        got = reparam.is_block(m, where, host)
        if got is not None:
            return got
    if is_acblock(m) or is_repvgg(m) or is_dbb(m):
        return True
    return None


def acblock_layer(m, where):
    if hasattr(m, "fused_conv"):
        return "conv", conv_fields(m.fused_conv, where), where + ".fused_conv"
    f = square_fields(conv_fields(m.square_conv, where), where, "acblock")  # a dilation acgen refuses, saying why
    if f["padding"] == f["kernel"] // 2:
        del f["padding"]  # the acblock default
    if m.square_bn.eps != 1e-5:
        f["eps"] = float(m.square_bn.eps)
    return "acblock", f, None


def block_layers(m, where):
    """The layers of a block called as one module: (op, fields, prefix,
    suffix of its name, the suffixes it reads or None), the block first
    and its nonlinearity last; None for a module that is not a RepVGG
    block, a DBB or a block after them. (An ACBlock is one layer:
    module_layer's.)"""
    if reparam is not None:
        got = reparam.block_layers(m, where, host)
        if got is not None:
            return got
    if is_repvgg(m):
        act, se = getattr(m, "nonlinearity", None), getattr(m, "se", None)
        tail = []
        if se is not None and not isinstance(se, nn.Identity):
            if not (isinstance(getattr(se, "down", None), nn.Conv2d) and isinstance(getattr(se, "up", None), nn.Conv2d)):
                raise Unsupported(f"{where}: the block's se is a {type(se).__name__}, not RepVGG's SEBlock (down and up 1x1 convs)")
            # RepVGG's SEBlock: pool, down, relu, up, sigmoid, and the gate
            # times the block's sum.
            tail = [("global_avgpool", {}, None, "se.pool", None),
                    ("conv", {"out": int(se.down.out_channels), "kernel": 1}, where + ".se.down", "se.down", None),
                    ("relu", {}, None, "se.relu", None),
                    ("conv", {"out": int(se.up.out_channels), "kernel": 1}, where + ".se.up", "se.up", None),
                    ("sigmoid", {}, None, "se.gate", None),
                    ("mul", {}, None, "se", ["", "se.gate"])]
        if hasattr(m, "rbr_reparam"):
            first = ("conv", conv_fields(m.rbr_reparam, where), where + ".rbr_reparam")
        else:
            f = square_fields(conv_fields(m.rbr_dense.conv, where), where, "repvgg")
            if f["padding"] == f["kernel"] // 2:
                del f["padding"]
            if m.rbr_dense.bn.eps != 1e-5:
                f["eps"] = float(m.rbr_dense.bn.eps)
            first = ("repvgg", f, None)
        return [first + ("", None)] + tail + [l + ("nonlinearity", None) for l in nonlinearity(act, where)]
    if not is_dbb(m):
        return None
    act = getattr(m, "nonlinear", None)
    if hasattr(m, "dbb_reparam"):
        first = ("conv", conv_fields(m.dbb_reparam, where), where + ".dbb_reparam")
    else:
        c = m.dbb_origin.conv
        f = square_fields(conv_fields(c, where), where, "dbb")
        del f["padding"]  # always kernel/2
        kxk = m.dbb_1x1_kxk
        internal = kxk.conv1.out_channels if hasattr(kxk, "conv1") else c.in_channels
        default = c.in_channels if c.groups < c.out_channels else 2 * c.in_channels
        if internal != default:
            f["internal"] = int(internal)
        if m.dbb_origin.bn.eps != 1e-5:
            f["eps"] = float(m.dbb_origin.bn.eps)
        first = ("dbb", f, None)
    return [first + ("", None)] + [l + ("nonlinear", None) for l in nonlinearity(act, where)]


def nonlinearity(act, where):
    """A block's own activation module as spec layers."""
    if act is None or isinstance(act, nn.Identity):
        return []
    got = activation_module(act, where)
    if got is None:
        raise Unsupported(f"{where}: the block's nonlinearity {type(act).__name__} is not an op acgen's spec has {SPEC_OPS}")
    return [got + (None,)]
