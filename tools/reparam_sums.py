"""torch2spec's general rule (reparam_blocks.py): a sum whose branches are
each a chain of linear steps of one input (Conv2d, BatchNorm2d, average
pooling counting its padding, zero padding, identities) is one
convolution, acgen's linear_sum. linear_sums finds them in the traced
graph, of whatever class they are, with the same rules acgen's graph
applies (spec/reparam.go, graph/linearsum.go): one stride, windows that
line up, padding only where what came before is zero outside the input.

A sum that has at least two such branches with a convolution (a
re-parameterisation block, by its look) but is not one convolution is left
to plain layers, with a note naming the block and the branch that stops
it.
"""
import operator

import torch
import torch.nn as nn
import torch.nn.functional as F

ADD = {operator.add, operator.iadd, torch.add}
DROPOUT = {F.dropout, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout}
IDENTITIES = (nn.Identity, nn.Dropout, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


class Sums:
    """What linear_sums found: the nodes the sums take in (skip), and for
    the node that ends each sum its layer (op, fields, prefix), the name
    to give it and the node it reads."""

    def __init__(self):
        self.skip, self.layers, self.names, self.source = set(), {}, {}, {}


def _is_add(n):
    return n.op == "call_function" and n.target in ADD and len(n.args) == 2 and not n.kwargs


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _square(*vs):
    """One int for each of vs (ints or equal pairs), or None."""
    out = []
    for v in vs:
        a, b = _pair(v)
        if a != b or not isinstance(a, int):
            return None
        out.append(a)
    return out


def _step(n, modules, values):
    """The linear step node n is (a dict as the spec writes it, with the
    module path under "path" and a conv's bias under "bias"), "pass" for an
    identity, or None."""
    if n.op == "call_module":
        m = modules[n.target]
        if isinstance(m, IDENTITIES):
            return "pass"
        if isinstance(m, nn.Conv2d) and m.padding_mode == "zeros" and not isinstance(m.padding, str):
            g = _square(m.kernel_size, m.stride, m.padding, m.dilation)
            if g is None:
                return None
            return {"op": "conv", "path": n.target, "out": m.out_channels, "kernel": g[0], "stride": g[1],
                    "padding": g[2], "groups": m.groups, "dilation": g[3], "bias": m.bias is not None}
        if isinstance(m, nn.BatchNorm2d) and m.track_running_stats:
            return {"op": "bn", "path": n.target, "eps": float(m.eps)}
        if isinstance(m, nn.AvgPool2d) and m.count_include_pad and not m.ceil_mode and m.divisor_override is None:
            g = _square(m.kernel_size, m.stride if m.stride is not None else m.kernel_size, m.padding)
            return None if g is None else {"op": "avgpool", "kernel": g[0], "stride": g[1], "padding": g[2]}
        if isinstance(m, nn.ZeroPad2d) and len(set(m.padding)) == 1:
            return {"op": "pad", "padding": m.padding[0]}
        return None
    if n.op != "call_function" or not n.args:
        return None
    args = list(n.args[1:])
    kw = dict(n.kwargs)
    if n.target in DROPOUT:
        training = kw.get("training", args[1] if len(args) > 1 else True)
        return "pass" if training is False else None
    if n.target is F.pad:
        pad = kw.get("pad", args[0] if args else None)
        mode = kw.get("mode", args[1] if len(args) > 1 else "constant")
        value = kw.get("value", args[2] if len(args) > 2 else None)
        if isinstance(pad, (list, tuple)) and len(pad) == 4 and len(set(pad)) == 1 and mode == "constant" and not value:
            return {"op": "pad", "padding": int(pad[0])}
        return None
    if n.target is F.avg_pool2d:
        names = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
        a = dict(zip(names, args))
        a.update(kw)
        if any(isinstance(v, torch.fx.Node) for v in a.values()) or a.get("ceil_mode") or \
                not a.get("count_include_pad", True) or a.get("divisor_override"):
            return None
        k = a["kernel_size"]
        g = _square(k, a.get("stride") or k, a.get("padding", 0))
        return None if g is None else {"op": "avgpool", "kernel": g[0], "stride": g[1], "padding": g[2]}
    return None


def _operands(root):
    """The operands of the sum root ends (adds with no other reader taken
    in), the inner adds, or None when a constant other than 0 is added."""
    leaves, inner, todo = [], [], list(root.args)
    while todo:
        a = todo.pop(0)
        if isinstance(a, torch.fx.Node):
            if _is_add(a) and len(a.users) == 1:
                inner.append(a)
                todo.extend(a.args)
            else:
                leaves.append(a)
        elif a != 0:
            return None, None
    return leaves, inner


def _chain(leaf, modules, values):
    """Walks back from a sum's operand over linear steps that nothing else
    reads: (the node the branch starts from, its steps in order, the nodes
    taken in)."""
    steps, nodes, n = [], [], leaf
    while isinstance(n, torch.fx.Node) and n.args and len(n.users) == 1:
        s = _step(n, modules, values)
        if s is None or not isinstance(n.args[0], torch.fx.Node):
            break
        if s != "pass":
            steps.append(s)
        nodes.append(n)
        n = n.args[0]
    return n, steps[::-1], nodes


def _label(n):
    """A node as the user knows it: its module's path, or the input."""
    if n.op == "call_module":
        return n.target
    return "the model's input" if n.op == "placeholder" else n.name


def _describe(src, steps):
    paths = [s["path"] for s in steps if "path" in s]
    return f"the branch through {paths[0]}" if paths else f"the branch that is {_label(src)} itself" if not steps else \
        f"the branch of {steps[0]['op']}"


def _why_not(src, branches, values, out_shape):
    """Why branches (each (steps, node)) of src are not one convolution
    giving out_shape, or None; and the geometry (stride)."""
    h, w = values[src][2], values[src][3]
    geoms = []
    for steps, _ in branches:
        stride, pad, extent, zero = 1, 0, 1, True
        for i, s in enumerate(steps):
            k = s.get("kernel", 1)
            p = s.get("padding", 0)
            if p > 0 and not zero:
                return f"{_describe(src, steps)} pads ({s['op']} {s.get('path', '')}) what its earlier steps computed, " \
                       "which is not zero outside the input"
            if s["op"] == "conv" and s["bias"] and any(t.get("padding", 0) > 0 for t in steps[i + 1:]):
                return f"{_describe(src, steps)}: {s['path']} has a bias that a later step's padding does not see"
            d = s.get("dilation", 1)
            pad += p * stride
            extent += (k - 1) * d * stride
            stride *= s.get("stride", 1)
            zero = zero and k == 1 and s["op"] != "bn" and not s.get("bias")
        geoms.append((stride, pad, extent))
    strides = {g[0] for g in geoms}
    if len(strides) > 1:
        return f"its branches have strides {sorted(strides)}"
    stride = geoms[0][0]
    pad = max(g[1] for g in geoms)
    k = max(pad - g[1] + g[2] for g in geoms)
    if ((h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1) != tuple(out_shape[2:]):
        return f"its branches' windows do not line up into one {k}x{k} convolution"
    return None


def _prefix(root, steps):
    """The module the sum's keys sit under: the one whose forward made it,
    or the deepest one holding every step's module."""
    paths = [s["path"] for b, _ in steps for s in b if "path" in s]
    path = root.meta.get("module_path", "")
    if path and all(p.startswith(path + ".") for p in paths):
        return path
    common = paths[0].split(".")[:-1] if paths else []
    for p in paths[1:]:
        parts = p.split(".")
        i = 0
        while i < min(len(common), len(parts) - 1) and common[i] == parts[i]:
            i += 1
        common = common[:i]
    return ".".join(common)


def _spec_step(s, prefix, out):
    """A step as the spec writes it, its defaults left out."""
    if "path" not in s:  # average pooling (its stride written, as the default is its kernel) or padding
        return {k: v for k, v in s.items() if not (s["op"] == "avgpool" and k == "padding" and v == 0)}
    d = {"op": s["op"], "key": s["path"][len(prefix) + 1:]}
    if s["op"] == "bn":
        if s["eps"] != 1e-5:
            d["eps"] = s["eps"]
        return d
    d["kernel"] = s["kernel"]
    for k, default in (("out", out), ("stride", 1), ("padding", 0), ("groups", 1), ("dilation", 1)):
        if s[k] != default:
            d[k] = s[k]
    return d


def linear_sums(graph, modules, values):
    sums = Sums()
    for root in graph.nodes:
        if not _is_add(root) or len(root.users) == 1 and _is_add(next(iter(root.users))):
            continue  # an inner add of a longer sum: its last add has it
        leaves, inner = _operands(root)
        if not leaves or len(leaves) < 2 or not all(isinstance(values.get(a), tuple) for a in leaves):
            continue
        chains = [_chain(a, modules, values) for a in leaves]
        by_src = {}
        for src, steps, nodes in chains:
            by_src.setdefault(src, []).append((steps, nodes))
        src, branches = max(by_src.items(), key=lambda kv: len(kv[1]))
        looks = len(branches) >= 2 and sum(any(s["op"] == "conv" for s in b) for b, _ in branches) >= 1
        where = root.meta.get("module_path", "") or "forward"
        if len(by_src) > 1:
            if looks:
                other = next(s for s in by_src if s is not src)
                print(f"torch2spec: note: {where}: the sum at {root.name} is not one convolution: its branches start "
                      f"from {_label(src)} by linear steps but one from {_label(other)}, which is not a linear step or "
                      "is read elsewhere; kept as separate layers")
            continue
        out_shape = values[root]
        if any(values.get(a) != out_shape for a in leaves) or len(out_shape) != 4 or not isinstance(values.get(src), tuple):
            continue  # broadcasting, or not a feature map
        why = _why_not(src, branches, values, out_shape)
        paths = [s["path"] for b, _ in branches for s in b if "path" in s]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if why is None and twice:
            why = f"its branches call {twice[0]} more than once"
        prefix = _prefix(root, branches)
        if why is None and not prefix:
            why = "its steps sit in no one module, so their checkpoint keys have no common prefix"
        if why is not None:
            if looks:
                print(f"torch2spec: note: {where}: the sum at {root.name} is not one convolution: {why}; kept as separate layers")
            continue
        out = out_shape[1]
        fields = {"out": int(out), "branches": [[_spec_step(s, prefix, out) for s in b] for b, _ in branches]}
        sums.layers[root] = ("linear_sum", fields, prefix)
        sums.names[root] = prefix
        sums.source[root] = src
        sums.skip.update(inner)
        for _, nodes in branches:
            sums.skip.update(nodes)
    return sums
