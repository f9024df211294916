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
import importlib
import math
import importlib.util
import operator
import os
import sys

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
load_checkpoint_sd, run_spec, yaml_value = _helpers.load_checkpoint_sd, _helpers.run_spec, _helpers.yaml_value


class Unsupported(Exception):
    """A part of the model that acgen's spec cannot express."""


SPEC_OPS = ("(acgen's spec has acblock, conv, bn, linear, relu, relu6, maxpool, avgpool, "
            "global_avgpool, flatten, add and concat)")


def is_acblock(m):
    return all(hasattr(m, a) for a in ("square_conv", "ver_conv", "hor_conv")) or (
        hasattr(m, "fused_conv") and isinstance(m.fused_conv, nn.Conv2d))


class Tracer(fx.Tracer):
    def is_leaf_module(self, m, qualname):
        return is_acblock(m) or super().is_leaf_module(m, qualname)


def square(v, what, where):
    """An int from an int or a pair of equal ints (acgen's spec has one
    value for both directions)."""
    if isinstance(v, int):
        return v
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
    f = {"out": c.out_channels, "kernel": k}
    stride = square(c.stride, "stride", where)
    if stride != 1:
        f["stride"] = stride
    f["padding"] = square(pad, "padding", where)
    if c.groups != 1:
        f["groups"] = c.groups
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
            f["eps"] = m.square_bn.eps
        return "acblock", f, None
    if isinstance(m, nn.Conv2d):
        f = conv_fields(m, where)
        if f["padding"] == 0:
            del f["padding"]  # the conv default
        return "conv", f, None
    if isinstance(m, nn.BatchNorm2d):
        if not m.track_running_stats:
            raise Unsupported(f"{where}: BatchNorm2d without running statistics")
        return "bn", ({"eps": m.eps} if m.eps != 1e-5 else {}), None
    if isinstance(m, nn.Linear):
        return "linear", {"out": m.out_features}, None
    if isinstance(m, nn.ReLU):
        return "relu", {}, None
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
    if isinstance(m, (nn.Identity, nn.Dropout, nn.Dropout2d)):
        return None
    raise Unsupported(f"{where}: {type(m).__name__} is not an op acgen's spec has {SPEC_OPS}")


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


RELU = {F.relu, torch.relu}
ADD = {operator.add, torch.add}


def function_layer(n, where):
    """The op and fields of a call_function or call_method node; "alias"
    for one that passes its input through; "skip" for non-tensor helpers."""
    t, args, kw = n.target, n.args, n.kwargs
    if n.op == "call_method":
        if t in ("relu", "relu_"):
            return "relu", {}
        if t in ("size", "dim"):
            return "skip", {}
        if t in ("view", "reshape", "flatten") and (
                (t == "flatten" and tuple(args[1:]) in ((1,), (1, -1)))
                or (t != "flatten" and len(args) == 3 and args[2] == -1)):
            return "flatten", {}
        if t == "mean" and tuple(args[1:2]) in (((2, 3),), ([2, 3],), ((-2, -1),), ([-2, -1],)):
            return "global_avgpool", {}
        if t in ("contiguous",):
            return "alias", {}
        raise Unsupported(f"{where}: method .{t}() is not an op acgen's spec has {SPEC_OPS}")
    if t in RELU:
        return "relu", {}
    if t is F.relu6 or (t is F.hardtanh and tuple(args[1:3]) == (0.0, 6.0)):
        return "relu6", {}
    if t in ADD and len(args) == 2 and not kw:
        return "add", {}
    if t is torch.flatten and tuple(args[1:]) in ((1,), (1, -1)):
        return "flatten", {}
    if t is F.adaptive_avg_pool2d and args[1] in (1, (1, 1)):
        return "global_avgpool", {}
    if t is torch.cat and (args[1:] == (1,) or kw.get("dim") == 1):
        return "concat", {}
    if t is F.max_pool2d and not kw.get("ceil_mode") and kw.get("dilation", 1) == 1:
        return "maxpool", pool_fields(args[1], args[2] if len(args) > 2 else kw.get("stride"),
                                      args[3] if len(args) > 3 else kw.get("padding", 0), where)
    if t is F.avg_pool2d and not kw.get("ceil_mode") and kw.get("count_include_pad", True):
        return "avgpool", pool_fields(args[1], args[2] if len(args) > 2 else kw.get("stride"),
                                      args[3] if len(args) > 3 else kw.get("padding", 0), where)
    if t is getattr:
        return "skip", {}
    raise Unsupported(f"{where}: {getattr(t, '__name__', t)} is not an op acgen's spec has {SPEC_OPS}")


def trace_layers(model):
    """The spec's layers and output name for model."""
    graph = Tracer().trace(model)
    modules = dict(model.named_modules())
    layers, name_of, used, called = [], {}, set(), set()
    placeholder = output = None

    def unique(base):
        n, i = base, 2
        while n in used:
            n, i = f"{base}_{i}", i + 1
        used.add(n)
        return n

    for n in graph.nodes:
        where = f"node {n.name}" + (f" ({n.target})" if n.op == "call_module" else "")
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
        prefix = None
        if n.op == "call_module":
            got = module_layer(modules[n.target], n.target)
            if got is None:
                name_of[n] = name_of[n.args[0]]
                continue
            op, fields, prefix = got
            base = n.target
            if n.target in called:  # a module called twice (a shared ReLU)
                base = n.name
                if op in ("acblock", "conv", "bn", "linear") and prefix is None:
                    prefix = n.target
            called.add(n.target)
        else:
            op, fields = function_layer(n, where)
            if op == "skip":
                continue
            if op == "alias":
                name_of[n] = name_of[n.args[0]]
                continue
            base = n.name
        tensor_args = n.args[0] if op == "concat" else n.args[:2] if op == "add" else n.args[:1]
        ins = []
        for a in tensor_args:
            if a is placeholder:
                if layers:
                    raise Unsupported(f"{where}: reads the network input, which in acgen's spec only the first layer does")
                continue
            if a not in name_of:
                raise Unsupported(f"{where}: input {a} is not a layer's output")
            ins.append(name_of[a])
        name = unique(base)
        layer = {"name": name, "op": op, **fields}
        if prefix is not None and prefix != name:
            layer["prefix"] = prefix
        if layers and (op in ("add", "concat") or ins != [layers[-1]["name"]]):
            layer["inputs"] = ins
        layers.append(layer)
        name_of[n] = name
    if not isinstance(output, fx.Node) or output not in name_of:
        raise Unsupported("the model must return one tensor computed by its layers")
    return layers, name_of[output]


def write_spec(path, name, input_shape, layers, output, source):
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="MODULE:CALLABLE returning the network")
    ap.add_argument("--weights", help="checkpoint to load into it (else the callable's own weights)")
    ap.add_argument("--input", required=True, help="C,H,W of one sample")
    ap.add_argument("--name", help="the spec's name, and so the Go package's (default: the model's class, lower case)")
    ap.add_argument("--out", default="net.yaml")
    a = ap.parse_args()

    sys.path.insert(0, os.getcwd())
    mod_name, _, fn_name = a.model.partition(":")
    if not mod_name or not fn_name:
        sys.exit(f"torch2spec: --model {a.model}: want MODULE:CALLABLE, such as mynet:build")
    try:
        factory = getattr(importlib.import_module(mod_name), fn_name)
    except ImportError as e:
        sys.exit(f"torch2spec: --model {a.model}: cannot import {mod_name}: {e}")
    except AttributeError:
        sys.exit(f"torch2spec: --model {a.model}: {mod_name} has no {fn_name}")
    model = factory()
    if not isinstance(model, nn.Module):
        sys.exit(f"torch2spec: --model {a.model}: {fn_name}() returned a {type(model).__name__}, not a torch.nn.Module")
    if a.weights:
        model.load_state_dict({k: v for k, v in load_checkpoint_sd(a.weights).items()})
    model.eval()
    input_shape = [int(v) for v in a.input.split(",")]
    try:
        layers, output = trace_layers(model)
    except Unsupported as e:
        sys.exit(f"torch2spec: {e}")
    except fx.proxy.TraceError as e:
        sys.exit(f"torch2spec: torch.fx cannot trace the model (control flow that depends on the data?): {e}")
    name = a.name or type(model).__name__.lower()
    write_spec(a.out, name, input_shape, layers, output, a.model)
    with open(a.out) as f:
        spec = yaml.safe_load(f)
    sd = {k: v.double() for k, v in model.state_dict().items()}
    try:
        diff, unused = check(model, sd, spec, input_shape)
    except RuntimeError as e:
        sys.exit(f"torch2spec: running the model on a {a.input} input: {str(e).splitlines()[0]}")
    print(f"torch2spec: wrote {a.out}: {len(layers)} layers, "
          f"{sum(l['op'] == 'acblock' for l in layers)} ACBlocks")
    print(f"torch2spec: the spec vs the model in float64: max relative difference {diff:.1e}")
    if unused:
        print(f"torch2spec: {len(unused)} checkpoint keys no layer reads, e.g. {unused[0]}")
    if not diff <= 1e-9 or unused:
        sys.exit("torch2spec: the spec does not reproduce the model; it is written for inspection only")


if __name__ == "__main__":
    main()
