#!/usr/bin/env python3
"""Writes acgen's net.yaml for a PyTorch model, by tracing it.

    python3 tools/torch2spec.py --model mynet:build --weights model.pth \\
        --input 3,32,32 --out net.yaml

--model is MODULE:CALLABLE: the module is imported (from the current
directory or PYTHONPATH) and the callable, given no arguments, returns the
network as trained, with ACBlocks (any module with square_conv, ver_conv
and hor_conv, as in the official DingXiaoH/ACNet code, or one fused by its
switch_to_deploy). The model is traced with torch.fx, keeping ACBlocks
whole; every call becomes a layer named after its module path, so the
layer names are the checkpoint's key prefixes.

Then it checks its own work: an independent interpreter of net.yaml
(fixtures/make_fixtures.py's, which the fixtures test against PyTorch) runs
the spec on the model's weights in float64 and must give the model's
outputs, and every checkpoint key must be read by some layer. It needs
torch (Debian: python3-torch) and PyYAML; acgen itself needs neither.
"""

import argparse
import contextlib
import importlib
import importlib.util
import math
import numbers
import operator
import os
import sys
import traceback

try:
    import torch
    import torch.fx as fx
    import torch.nn as nn
    import torch.nn.functional as F
    import yaml
except ImportError as e:
    sys.exit(f"torch2spec: {e}: it needs PyTorch and PyYAML; on Debian run it with /usr/bin/python3 "
             "after apt-get install python3-torch python3-yaml")

sys.dont_write_bytecode = True
import reparam_blocks  # noqa: E402  the blocks after RepVGG, and sums of linear branches (tools/reparam_blocks.py)


def _fixture_helpers():
    """Loads fixtures/make_fixtures.py by its path, leaving sys.path and
    sys.modules as they were: its own `acnet` (fixtures/acnet.py) must not
    shadow a user's package of that name, such as the official ACNet code."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    saved_path, saved_acnet = list(sys.path), sys.modules.pop("acnet", None)
    try:
        spec = importlib.util.spec_from_file_location("_acgen_make_fixtures", os.path.join(here, "make_fixtures.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path[:] = saved_path
        sys.modules.pop("acnet", None)
        if saved_acnet is not None:
            sys.modules["acnet"] = saved_acnet
    return mod


_helpers = _fixture_helpers()
run_spec, yaml_value = _helpers.run_spec, _helpers.yaml_value


class Unsupported(Exception):
    """A part of the model that acgen's spec cannot express."""


SPEC_OPS = ("(acgen's spec has acblock, conv, bn, linear, relu, relu6, leaky_relu, hardswish, "
            "hardsigmoid, sigmoid, silu, tanh, maxpool, avgpool, global_avgpool, flatten, add, mul and concat)")

# Activation modules and functions, by the spec op they are.
ACT_MODULES = {nn.ReLU: "relu", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid",
               nn.Sigmoid: "sigmoid", nn.SiLU: "silu", nn.Tanh: "tanh"}
ACT_FUNCTIONS = {F.relu: "relu", torch.relu: "relu", F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid",
                 torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", F.silu: "silu", torch.tanh: "tanh", F.tanh: "tanh"}
ACT_METHODS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid",
               "tanh": "tanh", "tanh_": "tanh"}


def is_repvgg(m):
    """The official RepVGGBlock, in training or deploy form."""
    return hasattr(m, "rbr_dense") and hasattr(m, "rbr_1x1") or (
        hasattr(m, "rbr_reparam") and isinstance(m.rbr_reparam, nn.Conv2d))


def is_dbb(m):
    """The official DiverseBranchBlock, in training or deploy form."""
    return hasattr(m, "dbb_origin") and hasattr(m, "dbb_1x1_kxk") or (
        hasattr(m, "dbb_reparam") and isinstance(m.dbb_reparam, nn.Conv2d))


def block_layers(m, where):
    """The layers of a re-parameterisation block called as one module: the
    block, then its nonlinearity; None for a module that is not one."""
    got = reparam_blocks.block_layers(m, where, sys.modules[__name__])
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
            return [first + ("", None)] + tail + [l + ("nonlinearity", None) for l in nonlinearity(act, where)]
        else:
            f = conv_fields(m.rbr_dense.conv, where)
            if f["padding"] == f["kernel"] // 2:
                del f["padding"]
            if m.rbr_dense.bn.eps != 1e-5:
                f["eps"] = float(m.rbr_dense.bn.eps)
            first = ("repvgg", f, None)
        return [first + ("", None)] + tail + [l + ("nonlinearity", None) for l in nonlinearity(act, where)]
    if is_dbb(m):
        act = getattr(m, "nonlinear", None)
        if hasattr(m, "dbb_reparam"):
            first = ("conv", conv_fields(m.dbb_reparam, where), where + ".dbb_reparam")
            return [first + ("", None)] + [l + ("nonlinear", None) for l in nonlinearity(act, where)]
        else:
            c = m.dbb_origin.conv
            f = conv_fields(c, where)
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
    return None


def nonlinearity(act, where):
    """A block's own activation module as spec layers."""
    if act is None or isinstance(act, nn.Identity):
        return []
    for cls, op in ACT_MODULES.items():
        if type(act) is cls:
            return [(op, {}, None)]
    if isinstance(act, nn.LeakyReLU):
        return [("leaky_relu", slope_fields(act.negative_slope, where), None)]
    raise Unsupported(f"{where}: the block's nonlinearity {type(act).__name__} is not an op acgen's spec has {SPEC_OPS}")


def is_acblock(m):
    return all(hasattr(m, a) for a in ("square_conv", "ver_conv", "hor_conv")) or (
        hasattr(m, "fused_conv") and isinstance(m.fused_conv, nn.Conv2d))




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


def square(v, what, where):
    """An int from an int or a pair of equal ints (acgen's spec has one
    value for both directions)."""
    v = plain(v)
    if isinstance(v, int):
        return v
    if isinstance(v, (tuple, list)) and len(v) == 1:
        return int(v[0])
    if isinstance(v, (tuple, list)) and len(v) == 2 and v[0] == v[1]:
        return int(v[0])
    raise Unsupported(f"{where}: {what} {v}: acgen's spec takes the same value for height and width")


def conv_fields(c, where):
    if c.padding_mode != "zeros":
        raise Unsupported(f"{where}: padding_mode {c.padding_mode!r}: acgen pads with zeros")
    k = square(c.kernel_size, "kernel_size", where)
    pad = c.padding
    if pad == "same":
        pad = k // 2 * square(c.dilation, "dilation", where)
    elif pad == "valid":
        pad = 0
    f = {"out": int(c.out_channels), "kernel": k}
    stride = square(c.stride, "stride", where)
    if stride != 1:
        f["stride"] = stride
    f["padding"] = square(pad, "padding", where)
    if c.groups != 1:
        f["groups"] = int(c.groups)
    d = square(c.dilation, "dilation", where)
    if d != 1:
        f["dilation"] = d
    return f


def module_layer(m, where):
    """The op and fields of a call of module m; None for a no-op in eval mode."""
    if is_acblock(m):
        if hasattr(m, "fused_conv"):
            return "conv", conv_fields(m.fused_conv, where), where + ".fused_conv"
        f = conv_fields(m.square_conv, where)  # a dilation acgen refuses, saying why
        if f["padding"] == f["kernel"] // 2:
            del f["padding"]  # the acblock default
        if m.square_bn.eps != 1e-5:
            f["eps"] = float(m.square_bn.eps)
        return "acblock", f, None
    if isinstance(m, nn.Conv2d):
        f = conv_fields(m, where)
        if f["padding"] == 0:
            del f["padding"]  # the conv default
        return "conv", f, None
    if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
        if not m.track_running_stats:
            raise Unsupported(f"{where}: {type(m).__name__} without running statistics")
        return "bn", ({"eps": float(m.eps)} if m.eps != 1e-5 else {}), None
    if isinstance(m, nn.Linear):
        return "linear", {"out": int(m.out_features)}, None
    for cls, op in ACT_MODULES.items():
        if type(m) is cls:
            return op, {}, None
    if isinstance(m, nn.LeakyReLU):
        return "leaky_relu", slope_fields(m.negative_slope, where), None
    if isinstance(m, nn.ReLU6) or (isinstance(m, nn.Hardtanh) and (m.min_val, m.max_val) == (0.0, 6.0)):
        return "relu6", {}, None
    if isinstance(m, nn.MaxPool2d):
        if m.ceil_mode or square(m.dilation, "dilation", where) != 1:
            raise Unsupported(f"{where}: MaxPool2d with ceil_mode or dilation")
        return "maxpool", pool_fields(m.kernel_size, m.stride, m.padding, where), None
    if isinstance(m, nn.AvgPool2d):
        if m.ceil_mode or not m.count_include_pad or m.divisor_override is not None:
            raise Unsupported(f"{where}: AvgPool2d with ceil_mode, count_include_pad=False or divisor_override")
        return "avgpool", pool_fields(m.kernel_size, m.stride, m.padding, where), None
    if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size in (1, (1, 1)):
        return "global_avgpool", {}, None
    if isinstance(m, nn.Flatten) and m.start_dim == 1 and m.end_dim == -1:
        return "flatten", {}, None
    if isinstance(m, (nn.Identity, nn.Dropout, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)):
        return None  # identities in eval mode
    raise Unsupported(f"{where}: {type(m).__name__} is not an op acgen's spec has {SPEC_OPS}")


def slope_fields(slope, where):
    slope = float(slope)
    if not slope > 0:
        raise Unsupported(f"{where}: LeakyReLU slope {slope}: acgen's spec takes a positive slope")
    return {} if slope == 0.01 else {"slope": slope}


def pool_fields(k, stride, pad, where):
    k = square(k, "kernel_size", where)
    s = square(stride if stride is not None else k, "stride", where)
    f = {"kernel": k}
    if s != k:
        f["stride"] = s
    p = square(pad, "padding", where)
    if p:
        f["padding"] = p
    return f


ADD = {operator.add, torch.add}
MUL = {operator.mul, torch.mul}
DROPOUT = {F.dropout, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout}

# The functionals torch.fx cannot trace through when an argument comes from
# the data (the official SE block's F.avg_pool2d(x, kernel_size=x.size(3))):
# while tracing they are recorded as calls, as torch.fx.wrap would.
WRAPPED = ("avg_pool2d", "max_pool2d", "adaptive_avg_pool2d", "dropout", "dropout2d", "dropout3d")


@contextlib.contextmanager
def wrapped_functionals():
    saved = {name: getattr(F, name) for name in WRAPPED}

    def wrap(orig):
        def call(*args, **kwargs):
            for a in list(args) + list(kwargs.values()):
                if isinstance(a, fx.Proxy):
                    return a.tracer.create_proxy("call_function", orig, args, kwargs)
            return orig(*args, **kwargs)
        return call

    for name, orig in saved.items():
        setattr(F, name, wrap(orig))
    try:
        yield
    finally:
        for name, orig in saved.items():
            setattr(F, name, orig)


class Shape(tuple):
    """A tensor's shape, told apart from a tuple the model computes."""


class Values(fx.Interpreter):
    """Runs the traced graph on a batch of two and keeps what every node
    gave: a tensor's Shape, or the value itself (sizes, ints)."""

    def __init__(self, gm):
        super().__init__(gm)
        self.values = {}

    def run_node(self, n):
        out = super().run_node(n)
        self.values[n] = Shape(out.shape) if isinstance(out, torch.Tensor) else out
        return out


def arg(n, i, name, default=None):
    """Argument i of a call, or its keyword name, or default."""
    if len(n.args) > i:
        return n.args[i]
    return n.kwargs.get(name, default)


def function_layer(n, where, values):
    """The op and fields of a call_function or call_method node; "alias"
    for one that passes its input through; "skip" for non-tensor helpers.
    values holds what each node gave on a real input, so arguments taken
    from the data (x.size(3)) and reshapes are read by their effect."""
    t = n.target

    def val(a):
        if isinstance(a, fx.Node):
            v = values.get(a)
            return v if isinstance(v, Shape) else plain(v)
        if isinstance(a, (tuple, list)):
            return type(a)(val(x) for x in a)
        return plain(a)

    src = n.args[0] if n.args else None
    shape_in = values.get(src) if isinstance(src, fx.Node) else None
    shape_out = values.get(n)
    if not isinstance(shape_out, Shape):
        return "skip", {}  # sizes, shapes and numbers the model computes on the way
    if isinstance(shape_in, Shape) and len(shape_in) == 4 and shape_in[2:] == (1, 1) and \
            n.op == "call_method" and t in ("repeat", "expand", "expand_as") and len(shape_out) == 4 and shape_out[:2] == shape_in[:2]:
        # A Cx1x1 tensor spread over the map (the official SE block's
        # x.repeat(1, 1, H, W)): what mul's broadcasting does anyway. Its
        # readers see the Cx1x1 shape; a reader that is not a mul is then
        # refused by acgen's shape checks, and check() compares the result.
        values[n] = shape_in
        return "alias", {}
    if isinstance(shape_in, Shape) and (
            n.op == "call_method" and t in ("view", "reshape", "flatten", "squeeze", "contiguous", "view_as")
            or t in (torch.flatten, torch.reshape, torch.squeeze)):
        if shape_out == shape_in:
            return "alias", {}
        if len(shape_out) == 2 and shape_out[0] == shape_in[0] and shape_out[1] == math.prod(shape_in[1:]):
            return "flatten", {}
        raise Unsupported(f"{where}: reshapes {list(shape_in[1:])} to {list(shape_out[1:])}: "
                          "acgen's spec only flattens C,H,W to one dimension")
    if n.op == "call_method":
        if t in ACT_METHODS:
            return ACT_METHODS[t], {}
        if t == "mul" and len(n.args) == 2:
            return mul_layer(n, where, values)
        if t == "mean" and val(arg(n, 1, "dim")) in ((2, 3), [2, 3], (-2, -1), [-2, -1], (3, 2), [3, 2]):
            return "global_avgpool", {}
        raise Unsupported(f"{where}: method .{t}() is not an op acgen's spec has {SPEC_OPS}")
    if t in ACT_FUNCTIONS:
        return ACT_FUNCTIONS[t], {}
    if t is F.leaky_relu:
        return "leaky_relu", slope_fields(val(arg(n, 1, "negative_slope", 0.01)), where)
    if t in MUL and len(n.args) == 2 and not n.kwargs:
        return mul_layer(n, where, values)
    if t is F.relu6 or (t is F.hardtanh and (val(arg(n, 1, "min_val", -1.0)), val(arg(n, 2, "max_val", 1.0))) == (0.0, 6.0)):
        return "relu6", {}
    if t in DROPOUT:
        if val(arg(n, 2, "training", True)):
            raise Unsupported(f"{where}: {t.__name__}(..., training=True) drops values in eval mode too; "
                              "pass training=self.training")
        return "alias", {}
    if t in ADD and len(n.args) == 2 and not n.kwargs:
        return "add", {}
    if t is F.adaptive_avg_pool2d and val(arg(n, 1, "output_size")) in (1, (1, 1), [1, 1]):
        return "global_avgpool", {}
    if t is torch.cat and val(arg(n, 1, "dim", 0)) == 1:
        return "concat", {}
    if t in (F.max_pool2d, F.avg_pool2d):
        k = val(arg(n, 1, "kernel_size"))
        stride = val(arg(n, 2, "stride"))
        pad = val(arg(n, 3, "padding", 0))
        if t is F.max_pool2d:
            if val(arg(n, 5, "ceil_mode", False)) or square(val(arg(n, 4, "dilation", 1)), "dilation", where) != 1:
                raise Unsupported(f"{where}: max_pool2d with ceil_mode or dilation")
            return "maxpool", pool_fields(k, stride or None, pad, where)
        if val(arg(n, 4, "ceil_mode", False)) or not val(arg(n, 5, "count_include_pad", True)) or val(arg(n, 6, "divisor_override")):
            raise Unsupported(f"{where}: avg_pool2d with ceil_mode, count_include_pad=False or divisor_override")
        if isinstance(shape_in, Shape) and shape_out[2:] == (1, 1) and \
                square(k, "kernel_size", where) == shape_in[2] == shape_in[3] and not pad:
            return "global_avgpool", {}  # a pool over the whole map, sized from the data
        return "avgpool", pool_fields(k, stride or None, pad, where)
    raise Unsupported(f"{where}: {getattr(t, '__name__', t)} is not an op acgen's spec has {SPEC_OPS}")


def mul_layer(n, where, values):
    """x * s, s a C x 1 x 1 scale (an SE block's): acgen's mul."""
    a, b = (values.get(x) if isinstance(x, fx.Node) else None for x in n.args)
    ok = isinstance(a, Shape) and isinstance(b, Shape) and len(a) == len(b) == 4 and a[:2] == b[:2] and \
        (tuple(b[2:]) == (1, 1) or tuple(a[2:]) == (1, 1))
    if not ok:
        raise Unsupported(f"{where}: multiplies {list(a[1:]) if a else a} by {list(b[1:]) if b else b}: "
                          "acgen's mul scales a CxHxW tensor by a Cx1x1 one")
    return "mul", {}


class Tracer(fx.Tracer):
    """Keeps ACBlocks whole and records, for every node, the module path
    it was called from, so errors name the part of the model."""

    def __init__(self):
        super().__init__()
        self.stack = [""]

    def is_leaf_module(self, m, qualname):
        got = reparam_blocks.is_block(m, qualname, sys.modules[__name__])
        if got is not None:
            return got
        return is_acblock(m) or is_repvgg(m) or is_dbb(m) or super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        self.stack.append(self.path_of_module(m))
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self.stack.pop()

    def create_node(self, *args, **kwargs):
        node = super().create_node(*args, **kwargs)
        node.meta["module_path"] = self.stack[-1]
        return node


def trace_layers(model, input_shape):
    """The spec's layers and output name for model. Every part acgen's
    spec cannot express is listed, not just the first: Unsupported holds
    them all, one a line."""
    tracer = Tracer()
    reparam_blocks.prepare(model, sys.modules[__name__])  # recognises its blocks before the trace
    with wrapped_functionals():
        graph = tracer.trace(model)
    gm = fx.GraphModule(model, graph)
    interp = Values(gm)
    with torch.no_grad():
        interp.run(torch.randn(2, *input_shape))
    values = interp.values
    modules = dict(model.named_modules())
    sums = reparam_blocks.linear_sums(graph, modules, values)
    layers, name_of, used, called, problems = [], {}, set(), set(), []
    placeholder = output = None

    def unique(base):
        n, i = base, 2
        while n in used:
            n, i = f"{base}_{i}", i + 1
        used.add(n)
        return n

    for n in graph.nodes:
        path = n.meta.get("module_path", "")
        where = (n.target if n.op == "call_module" else f"{path or 'forward'}: {n.name}")
        try:
            if n.op == "placeholder":
                if placeholder is not None:
                    raise Unsupported(f"{where}: acgen networks take one input")
                placeholder = n
                continue
            if n.op == "get_attr":
                raise Unsupported(f"{where}: reads parameter {n.target} outside a module call")
            if n.op == "output":
                output = n.args[0]
                break
            if n in sums.skip:  # a step of a sum of linear branches, in its linear_sum layer
                continue
            prefix = None
            block = block_layers(modules[n.target], n.target) if n.op == "call_module" and n not in sums.layers else None
            if block is not None:
                src = n.args[0]
                if src is placeholder:
                    ins = []
                elif src not in name_of or name_of[src] is None:
                    raise Unsupported(f"{where}: its input is unsupported (above)")
                else:
                    ins = [name_of[src]]
                named = {}
                for j, (op, fields, prefix, suffix, reads) in enumerate(block):
                    name = unique(n.target if not suffix else f"{n.target}.{suffix}")
                    named[suffix] = name
                    layer = {"name": name, "op": op, **fields}
                    if prefix is not None and prefix != name:
                        layer["prefix"] = prefix
                    if reads is not None:
                        layer["inputs"] = [named[r] for r in reads]
                    elif j == 0 and layers and ins != [layers[-1]["name"]]:
                        layer["inputs"] = ins
                    layers.append(layer)
                name_of[n] = layers[-1]["name"]
                continue
            if n in sums.layers:
                (op, fields, prefix), base = sums.layers[n], sums.names[n]
            elif n.op == "call_module":
                got = module_layer(modules[n.target], n.target)
                if got is None:
                    name_of[n] = name_of.get(n.args[0])
                    continue
                op, fields, prefix = got
                base = n.target
                if n.target in called:  # a module called twice (a shared ReLU)
                    base = n.name
                    if op in ("acblock", "conv", "bn", "linear") and prefix is None:
                        prefix = n.target
                called.add(n.target)
            else:
                op, fields = function_layer(n, where, values)
                if op == "skip":
                    continue
                if op == "alias":
                    name_of[n] = name_of.get(n.args[0])
                    continue
                base = n.name
            tensor_args = n.args[0] if op == "concat" else n.args[:2] if op in ("add", "mul") else n.args[:1]
            tensor_args = [sums.source[n]] if n in sums.layers else tensor_args
            ins = []
            for a in tensor_args:
                if a is placeholder:
                    if layers:
                        raise Unsupported(f"{where}: reads the network input, which in acgen's spec only the first layer does")
                    continue
                if a not in name_of:
                    raise Unsupported(f"{where}: input {a} is not a layer's output")
                if name_of[a] is None:
                    raise Unsupported(f"{where}: its input is unsupported (above)")
                ins.append(name_of[a])
        except Unsupported as e:
            if not str(e).endswith("(above)"):
                problems.append(str(e))
            name_of[n] = None  # what reads it is not reported again
            continue
        name = unique(base)
        layer = {"name": name, "op": op, **fields}
        if prefix is not None and prefix != name:
            layer["prefix"] = prefix
        if layers and (op in ("add", "concat", "mul") or ins != [layers[-1]["name"]]):
            layer["inputs"] = ins
        layers.append(layer)
        name_of[n] = name
    if problems:
        raise Unsupported("\n".join(problems))
    if not isinstance(output, fx.Node) or name_of.get(output) is None:
        raise Unsupported("the model must return one tensor computed by its layers")
    return layers, name_of[output]


def write_spec(path, name, input_shape, layers, output, source):
    layers = [{k: plain(v) for k, v in layer.items()} for layer in layers]
    lines = [f"# Written by tools/torch2spec.py from {source}.",
             f"name: {name}", f"input: {yaml_value(list(input_shape))}", "layers:"]
    for layer in layers:
        lines.append("  - {" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in layer.items()) + "}")
    if output != layers[-1]["name"]:
        lines.append(f"output: {output}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def check(model, sd, spec, input_shape, samples=3):
    """Runs the spec and the model in float64 and compares; returns the
    largest relative difference and the checkpoint keys no layer read."""
    torch.manual_seed(0)
    x = torch.randn(samples, *input_shape, dtype=torch.float64)
    m = model.double().eval()
    with torch.no_grad():
        want = m(x).reshape(samples, -1)
        got, used = run_spec(spec, sd, x)
    got = got.reshape(samples, -1)
    if got.shape != want.shape:
        return math.inf, []
    diff = float(((got - want).abs() / want.abs().clamp(min=1)).max())
    unused = sorted(k for k in sd if k not in used and not k.endswith("num_batches_tracked"))
    return diff, unused


WRAPPER_KEYS = ("state_dict", "model", "model_state_dict", "net", "network", "module", "weights", "params")


def load_weights(path):
    """The state_dict in a checkpoint, found where acgen finds it: at the
    top, or under a trainer's key; HDF5 files (the official ACNet code's
    final format) are read with h5py, '+' read back as '/', and their
    non-weight arrays ("deps") left out."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head == b"\x89HDF\r\n\x1a\n":
        try:
            import h5py
            import numpy as np
        except ImportError:
            raise Unsupported(f"--weights {path}: an HDF5 file; reading it needs h5py (Debian: python3-h5py)")
        with h5py.File(path, "r") as f:
            return {k.replace("+", "/"): torch.from_numpy(np.asarray(f[k])) for k in f.keys()
                    if k != "deps" and isinstance(f[k], h5py.Dataset)}
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:
        raise Unsupported(f"--weights {path}: torch.load cannot read it: {first_line(e)}")
    if isinstance(obj, nn.Module):
        raise Unsupported(f"--weights {path}: a whole model saved with torch.save(model); "
                          "save its weights instead: torch.save(model.state_dict(), path)")
    if not isinstance(obj, dict):
        raise Unsupported(f"--weights {path}: holds a {type(obj).__name__}, not a state_dict")
    if not any(isinstance(v, torch.Tensor) for v in obj.values()):
        for k in WRAPPER_KEYS:
            if isinstance(obj.get(k), dict):
                obj = obj[k]
                break
        else:
            raise Unsupported(f"--weights {path}: a dict of {', '.join(map(str, list(obj)[:8]))}, none a state_dict "
                              f"(looked under {', '.join(WRAPPER_KEYS)}): save model.state_dict()")
    sd = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if sd and all(k.startswith("module.") for k in sd):
        sd = {k[len("module."):]: v for k, v in sd.items()}
    return sd


def first_line(e):
    lines = str(e).strip().splitlines()
    return (lines[0] if lines else type(e).__name__)[:300]


def load_into(model, sd, path):
    """load_state_dict, with its error cut to one line a problem."""
    got = model.state_dict()
    missing = [k for k in got if k not in sd and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in sd if k not in got]
    shapes = [f"{k}: {list(sd[k].shape)} in the file, {list(got[k].shape)} in the model"
              for k in sd if k in got and sd[k].shape != got[k].shape]
    problems = [f"--weights {path}: key {k} missing from the file" for k in missing[:5]]
    problems += [f"--weights {path}: key {k} is not in the model" for k in unexpected[:5]]
    problems += [f"--weights {path}: {s}" for s in shapes[:5]]
    if problems:
        raise Unsupported("\n".join(problems))
    model.load_state_dict(sd, strict=False)


def build_model(spec):
    """Imports MODULE and calls CALLABLE; a mistake in either is one line."""
    mod_name, _, fn_name = spec.partition(":")
    if not mod_name or not fn_name:
        raise Unsupported(f"--model {spec}: want MODULE:CALLABLE, such as mynet:build")
    try:
        factory = getattr(importlib.import_module(mod_name), fn_name)
    except ImportError as e:
        raise Unsupported(f"--model {spec}: cannot import {mod_name}: {first_line(e)}")
    except AttributeError:
        raise Unsupported(f"--model {spec}: {mod_name} has no {fn_name}")
    except Exception as e:
        raise Unsupported(f"--model {spec}: importing {mod_name} raised {type(e).__name__}: {first_line(e)}")
    try:
        model = factory()
    except Exception as e:
        raise Unsupported(f"--model {spec}: {fn_name}() raised {type(e).__name__}: {first_line(e)}")
    if not isinstance(model, nn.Module):
        raise Unsupported(f"--model {spec}: {fn_name}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model


def run(a):
    sys.path.insert(0, os.getcwd())
    model = build_model(a.model)
    if a.weights:
        load_into(model, load_weights(a.weights), a.weights)
    model.eval()
    try:
        input_shape = [int(v) for v in a.input.split(",")]
    except ValueError:
        raise Unsupported(f"--input {a.input}: want C,H,W such as 3,32,32")
    try:
        layers, output = trace_layers(model, input_shape)
    except fx.proxy.TraceError as e:
        raise Unsupported(f"torch.fx cannot trace the model (control flow that depends on the data?): {first_line(e)}")
    except RuntimeError as e:
        raise Unsupported(f"running the model on a {a.input} input: {first_line(e)}")
    name = a.name or type(model).__name__.lower()
    write_spec(a.out, name, input_shape, layers, output, a.model)
    with open(a.out) as f:
        spec = yaml.safe_load(f)
    sd = {k: v.double() for k, v in model.state_dict().items()}
    try:
        diff, unused = check(model, sd, spec, input_shape)
    except RuntimeError as e:
        raise Unsupported(f"running the model on a {a.input} input: {first_line(e)}")
    blocks = ", ".join(f"{sum(l['op'] == op for l in layers)} {label}" for op, label in
                       (("acblock", "ACBlocks"), ("repvgg", "RepVGG blocks"), ("dbb", "DBBs")) + reparam_blocks.SUMMARY
                       if op == "acblock" or any(l["op"] == op for l in layers))
    print(f"torch2spec: wrote {a.out}: {len(layers)} layers, {blocks}")
    print(f"torch2spec: the spec vs the model in float64: max relative difference {diff:.1e}")
    if unused:
        print(f"torch2spec: {len(unused)} checkpoint keys no layer reads, e.g. {unused[0]}")
    if not diff <= 1e-9 or unused:
        raise Unsupported("the spec does not reproduce the model; it is written for inspection only")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="MODULE:CALLABLE returning the network")
    ap.add_argument("--weights", help="checkpoint to load into it (.pth, or the official code's HDF5; else the callable's own weights)")
    ap.add_argument("--input", required=True, help="C,H,W of one sample")
    ap.add_argument("--name", help="the spec's name, and so the Go package's (default: the model's class, lower case)")
    ap.add_argument("--out", default="net.yaml")
    a = ap.parse_args()
    try:
        run(a)
    except Unsupported as e:
        for line in str(e).splitlines():
            print(f"torch2spec: {line}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # a bug here, or in the user's model: one line, the trace on request
        if os.environ.get("TORCH2SPEC_TRACEBACK"):
            raise
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"torch2spec: {type(e).__name__}: {first_line(e)} (at {os.path.basename(where.filename)}:{where.lineno}; "
              "TORCH2SPEC_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
