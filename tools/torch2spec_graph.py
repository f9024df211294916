"""torch2spec's graph walk: the traced fx graph, node by node, as spec
layers.

Every node's tensor gets a spec name (a layer's, or "SPLIT:i" for a
split's output i) and a form (torch2spec_ops: NCHW, channels-last NHWC,
or a 5-D view inside a channel shuffle). Identities (dropout, reshapes
that change nothing acgen sees, permutes) only rename; in-place ops
rename their input too, as PyTorch's later readers of it see the new
values. Every node acgen's spec cannot express is listed, each once with
its own reason: a node whose input was refused is not reported again.
"""

import operator

import torch
import torch.fx as fx
import torch.nn.functional as F

from _acgen_torch2spec_ops import (ABOVE, GROUPED, NCHW, NHWC, SHUFFLED, ACT_FUNCTIONS, ACT_METHODS, SPEC_OPS, Unsupported,
                                   adaptive_fields, block_layers, describe, gelu_fields, layernorm_fields, module_layer,
                                   need_nchw, plain, pool_fields, slope_fields)
from _acgen_torch2spec_patterns import Patterns
from _acgen_torch2spec_trace import Shape
import _acgen_torch2spec_ops as _ops_module

INPUT = object()   # the name of the network's input

ADD = {operator.add, operator.iadd, torch.add}
ADD_METHODS = {"add", "add_", "__add__", "__radd__", "__iadd__"}
MUL = {operator.mul, operator.imul, torch.mul}
MUL_METHODS = {"mul", "mul_", "__mul__", "__rmul__", "__imul__"}
DROPOUT = {F.dropout, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout}
if hasattr(F, "dropout1d"):
    DROPOUT.add(F.dropout1d)
RESHAPE_METHODS = {"view", "reshape", "flatten", "squeeze", "unsqueeze", "view_as", "reshape_as", "unflatten"}
RESHAPE = {torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze}
IDENTITY_METHODS = {"contiguous", "clone", "detach"}
WEIGHTED = ("acblock", "conv", "bn", "linear", "layernorm")


def arg(n, i, name, default=None):
    """Argument i of a call, or its keyword name, or default."""
    if len(n.args) > i:
        return n.args[i]
    return n.kwargs.get(name, default)


class Walk:
    """The layers of a traced graph. modules: the model's named modules;
    keys: its state_dict's keys (a tensor attribute outside them is a
    constant the checkpoint does not hold)."""

    def __init__(self, modules, keys):
        self.modules, self.keys = modules, keys
        self.layers, self.problems = [], []
        self.name, self.form, self.shape = {}, {}, {}
        self.parts = {}   # a split node: its outputs' names
        self.param = {}   # a get_attr node: its checkpoint key
        self.taken, self.called = set(), set()
        self.patterns = Patterns(self)  # the written-out LayerNorms and GRNs

    # ---- names and inputs

    def unique(self, base):
        n, i = base, 2
        while n in self.taken:
            n, i = f"{base}_{i}", i + 1
        self.taken.add(n)
        return n

    def tensor(self, a):
        """The spec name of node a's tensor (a, when a is a name)."""
        if isinstance(a, str):
            return a
        if not isinstance(a, fx.Node):
            raise Unsupported(f"reads {a!r}, not a tensor")
        if a in self.patterns.parts:
            raise Unsupported(f"reads a step of {self.patterns.parts[a].what()} other than as the "
                              "formula's next step: torch2spec takes the formula whole")
        if a in self.param:
            raise Unsupported(f"reads parameter {self.param[a]} other than as a per-channel scale, "
                              "a LayerNorm's weight or a GRN's")
        if a.op == "get_attr":
            raise Unsupported(f"reads {a.target}, a tensor the checkpoint does not hold")
        if a not in self.name:
            raise Unsupported(f"input {a} is not a layer's output")
        if self.name[a] is None:
            raise Unsupported(ABOVE)
        return self.name[a]

    def alias(self, n, src, form=None):
        """n is src's tensor, in form (default: src's form)."""
        self.tensor(src)
        self.name[n] = self.name[src]
        self.form[n] = self.form[src] if form is None else form

    def emit(self, n, op, fields, ins, base, prefix=None, form=None, inplace=None):
        """A layer for node n reading the nodes ins."""
        names = [self.tensor(a) for a in ins]
        if INPUT in names:
            if self.layers or len(names) != 1:
                raise Unsupported("reads the network input, which in acgen's spec only the first layer does")
            names = []
        name = self.unique(base)
        layer = {"name": name, "op": op, **fields}
        if prefix is not None and prefix != name:
            layer["prefix"] = prefix
        if self.layers and (op in ("add", "concat", "mul") or names != [self.layers[-1]["name"]]):
            layer["inputs"] = names
        self.layers.append(layer)
        self.name[n] = name
        self.form[n] = self.form[ins[0]] if form is None else form
        if inplace is not None:
            # Later readers of the input, and of every alias of it (a view,
            # a dropout), see the new values, as in PyTorch.
            old = self.name[inplace]
            for k, v in list(self.name.items()):
                if v == old and k is not n:
                    self.name[k] = name
        return name

    # ---- the walk

    def run(self, graph):
        output = None
        sums = self.linear_sums(graph)
        for n in graph.nodes:
            v = n.meta.get("value")
            if isinstance(v, Shape):
                self.shape[n] = v
            path = n.meta.get("module_path", "")
            where = n.target if n.op == "call_module" else f"{path or 'forward'}: {n.name}"
            if sums is not None and n in sums.skip:
                continue  # a step of a sum of linear branches: in its linear_sum layer
            try:
                if sums is not None and n in sums.layers:
                    (op, fields, prefix), base = sums.layers[n], sums.names[n]
                    self.emit(n, op, fields, [sums.source[n]], base, prefix, NCHW)
                elif n.op == "placeholder":
                    if not self.name:
                        self.name[n], self.form[n] = INPUT, NCHW
                    elif not n.args:
                        raise Unsupported(f"{where}: a second input: acgen networks take one")
                elif n.op == "get_attr":
                    if isinstance(v, Shape) and n.target in self.keys:
                        self.param[n] = n.target
                elif n.op == "output":
                    output = n.args[0]
                elif n.op == "call_module":
                    self.call_module(n, where)
                elif isinstance(v, Shape) or isinstance(v, tuple) and v and all(isinstance(s, Shape) for s in v):
                    self.call_function(n, where, path)
            except Unsupported as e:
                msg = str(e)
                if not msg.endswith(ABOVE):
                    self.problems.append(msg if msg.startswith(where) else f"{where}: {msg}")
                self.name[n] = None  # what reads it is not reported again
                firsts = [a for a in n.args if isinstance(a, fx.Node) and a in self.form]
                self.form[n] = self.refused_form(n, self.form[firsts[0]] if firsts else NCHW)
        self.problems += self.patterns.unread_betas()
        if self.problems:
            raise Unsupported("\n".join(self.problems))
        if not isinstance(output, fx.Node) or self.name.get(output) in (None, INPUT):
            raise Unsupported("the model must return one tensor computed by its layers")
        if self.form[output] != NCHW:
            raise Unsupported(f"the model returns {describe(self.form[output], self.shape.get(output, ()))}")
        return self.layers, self.name[output]

    def refused_form(self, n, form):
        """The form refused node n's output would have had, so that its
        readers are judged as they would be had it been taken: a permute
        to or from channels-last changes it."""
        t, method = n.target, n.op == "call_method"
        if (method and t == "permute") or t is torch.permute:
            dims = n.args[1:] if method else (arg(n, 1, "dims"),)
            if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                dims = dims[0]
            dims = tuple(plain(list(dims)))
            if form == NCHW and dims == (0, 2, 3, 1):
                return NHWC
            if form == NHWC and dims in ((0, 3, 1, 2), (0, -1, 1, 2)):
                return NCHW
        return form

    def linear_sums(self, graph):
        """The sums of linear branches the graph holds, each one
        convolution (tools/reparam_sums.py), or None without the
        re-parameterisation blocks' module."""
        reparam = _ops_module.reparam
        if reparam is None:
            return None
        return reparam.linear_sums(graph, self.modules, {n: n.meta.get("value") for n in graph.nodes})

    def call_module(self, n, where):
        m = self.modules[n.target]
        src = n.args[0] if n.args else None
        if not isinstance(src, fx.Node) or len(n.args) != 1 or n.kwargs:
            raise Unsupported(f"{where}: called with {len(n.args)} arguments{' and keywords' if n.kwargs else ''}: "
                              "acgen's layers take one tensor")
        form, shape = self.form.get(src, NCHW), self.shape.get(src, ())
        block = block_layers(m, n.target)
        if block is not None:
            need_nchw(where, type(m).__name__, form, shape)
            named, cur = {}, src
            for op, fields, prefix, suffix, reads in block:
                ins = [cur] if reads is None else [named[r] for r in reads]  # reads: by suffix
                base = n.target if not suffix else f"{n.target}.{suffix}"
                cur = named[suffix] = self.emit(n, op, fields, ins, base, prefix, NCHW)
            return
        got = module_layer(m, where, form, shape, self.shape.get(n, ()))
        if got is None:
            self.alias(n, src)
            return
        op, fields, prefix = got
        base = n.target
        if n.target in self.called:  # a module called twice (a shared ReLU)
            base = n.name
            if op in WEIGHTED and prefix is None:
                prefix = n.target
        self.called.add(n.target)
        self.emit(n, op, fields, [src], base, prefix, inplace=src if getattr(m, "inplace", False) is True else None)

    def call_function(self, n, where, path):
        t, method = n.target, n.op == "call_method"
        src = n.args[0] if n.args and isinstance(n.args[0], fx.Node) else None
        form, shape = self.form.get(src, NCHW), self.shape.get(src, ())
        out = self.shape.get(n, ())
        inplace = None
        if src in self.param and ((method and t in RESHAPE_METHODS) or t in RESHAPE or t is operator.getitem) \
                and _prod(out) == _prod(shape):
            # A view of a parameter (gamma.view(1, -1, 1, 1), weight[:, None,
            # None]): the same values, which its reader takes by shape.
            self.param[n] = self.param[src]
            return
        if self.patterns.step(n, where, t, method):
            return
        if method and t.endswith("_") and not t.endswith("__") or arg(n, 1, "inplace", None) is True:
            inplace = src

        if (method and t in ACT_METHODS) or t in ACT_FUNCTIONS or t in (F.leaky_relu, F.relu6, F.hardtanh, F.gelu):
            if isinstance(form, tuple):
                need_nchw(where, getattr(t, "__name__", t), form, shape, dims=(2, 4))
            if t is F.leaky_relu:
                op, fields = "leaky_relu", slope_fields(plain(arg(n, 1, "negative_slope", 0.01)), where)
                inplace = src if arg(n, 2, "inplace", False) is True else None
            elif t is F.gelu:
                op, fields = "gelu", gelu_fields(n.kwargs.get("approximate", "none"), where)
            elif t is F.hardtanh:
                if (plain(arg(n, 1, "min_val", -1.0)), plain(arg(n, 2, "max_val", 1.0))) != (0.0, 6.0):
                    raise Unsupported(f"{where}: hardtanh other than relu6 (0, 6) is not an op acgen's spec has")
                op, fields = "relu6", {}
                inplace = src if arg(n, 3, "inplace", False) is True else None
            else:
                op, fields = (ACT_METHODS[t] if method else "relu6" if t is F.relu6 else ACT_FUNCTIONS[t]), {}
            self.emit(n, op, fields, [src], n.name, inplace=inplace)
        elif t in DROPOUT or getattr(t, "__name__", "") == "stochastic_depth":
            training = arg(n, 2 if t in DROPOUT else 3, "training", True)
            if training is not False:
                raise Unsupported(f"{where}: {t.__name__}(..., training={training!r}) drops values in eval mode too; "
                                  "pass training=self.training")
            self.alias(n, src)
        elif method and t in IDENTITY_METHODS:
            self.alias(n, src)
        elif method and t in ("repeat", "expand", "expand_as") and form == NCHW and len(shape) == 4 \
                and shape[2:] == (1, 1) and len(out) == 4 and out[:2] == shape[:2]:
            # A Cx1x1 tensor spread over the map (the official SE block's
            # x.repeat(1, 1, H, W)): what mul's broadcasting does anyway. Its
            # readers see the Cx1x1 shape; a reader that is not a mul is then
            # refused by acgen's shape checks, and the check compares the result.
            self.alias(n, src)
            self.shape[n] = shape
        elif (method and t in RESHAPE_METHODS) or t in RESHAPE:
            self.reshape(n, where, src, form, shape, out)
        elif (method and t == "permute") or t is torch.permute:
            dims = n.args[1:] if method else (arg(n, 1, "dims"),)
            if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                dims = dims[0]
            self.permute(n, where, src, form, shape, tuple(d % len(shape) for d in plain(list(dims))))
        elif (method and t == "transpose") or t is torch.transpose:
            d0, d1 = (plain(arg(n, 1, "dim0")) % len(shape), plain(arg(n, 2, "dim1")) % len(shape))
            dims = list(range(len(shape)))
            dims[d0], dims[d1] = dims[d1], dims[d0]
            self.permute(n, where, src, form, shape, tuple(dims))
        elif (method and t in ADD_METHODS) or t in ADD:
            self.add(n, where, inplace if method else None)
        elif (method and t in MUL_METHODS) or t in MUL:
            self.mul(n, where, inplace if method else None)
        elif t in (torch.cat, getattr(torch, "concat", torch.cat)):
            self.cat(n, where)
        elif (method and t in ("chunk", "split")) or t in (torch.chunk, torch.split):
            self.split(n, where, src, form, shape)
        elif t is operator.getitem:
            if src in self.parts and isinstance(n.args[1], int):
                self.tensor(src)
                self.name[n], self.form[n] = self.parts[src][n.args[1]], self.form[src]
            else:
                raise Unsupported(f"{where}: indexes {describe(form, shape)} with {n.args[1]!r}: "
                                  "acgen's spec takes whole channels (split, chunk)")
        elif (method and t == "mean") or t is torch.mean:
            dims = plain(arg(n, 1, "dim"))
            dims = {d % len(shape) for d in (dims if isinstance(dims, (list, tuple)) else [dims])} \
                if dims is not None else None
            hw = {2, 3} if form == NCHW else {1, 2}
            if len(shape) != 4 or dims != hw or isinstance(form, tuple):
                raise Unsupported(f"{where}: mean over {plain(arg(n, 1, 'dim'))} of {describe(form, shape)}: "
                                  "acgen's spec averages over height and width only (global_avgpool)")
            self.emit(n, "global_avgpool", {}, [src], n.name, form=form if len(out) == 4 else NCHW)
        elif t is F.adaptive_avg_pool2d:
            need_nchw(where, "adaptive_avg_pool2d", form, shape)
            got = adaptive_fields(where, shape, out)
            if got is None:
                self.alias(n, src)
            else:
                self.emit(n, got[0], got[1], [src], n.name)
        elif t in (F.max_pool2d, F.avg_pool2d, torch.max_pool2d):
            self.pool(n, where, src, form, shape, out)
        elif t is F.layer_norm:
            self.layer_norm(n, where, src, form, shape, path)
        else:
            name = f"method .{t}()" if method else getattr(t, "__name__", str(t))
            raise Unsupported(f"{where}: {name} is not an op acgen's spec has {SPEC_OPS}")

    def reshape(self, n, where, src, form, shape, out):
        """Reshapes by what they do: nothing, a flatten, or a step of a
        channel shuffle (view to [N, g, C/g, H, W], transpose(1, 2), view
        back)."""
        if out == shape:
            return self.alias(n, src)
        flat = len(out) == 2 and out[0] == shape[0] and out[1] == _prod(shape[1:])
        if form == NCHW:
            if flat and len(shape) == 4:
                return self.emit(n, "flatten", {}, [src], n.name)
            cx11 = {(shape[0], shape[1]), (shape[0], shape[1], 1, 1)}
            if len(shape) in (2, 4) and tuple(shape[2:]) in ((), (1, 1)) and tuple(out) in cx11:
                return self.alias(n, src)  # [N, C] and [N, C, 1, 1] are both C x 1 x 1
            if len(shape) == 4 and len(out) == 5 and out[0] == shape[0] and out[1] * out[2] == shape[1] \
                    and out[3:] == shape[2:]:
                return self.alias(n, src, (GROUPED, out[1]))
        elif isinstance(form, tuple):
            kind, g = form
            n_, c = shape[0], shape[1] * shape[2]
            if len(out) == 4 and out[:2] == (n_, c) and out[2:] == shape[3:]:
                if kind == GROUPED:
                    return self.alias(n, src, NCHW)  # viewed back unshuffled
                return self.emit(n, "channel_shuffle", {"groups": g}, [src], n.name, form=NCHW)
        raise Unsupported(f"{where}: reshapes {describe(form, shape)} to {list(out[1:])}: acgen's spec only "
                          "flattens C,H,W and shuffles channels (view to [N, g, C/g, H, W], transpose(1, 2), view back)")

    def permute(self, n, where, src, form, shape, dims):
        if dims == tuple(range(len(shape))):
            return self.alias(n, src)
        if form == NCHW and len(shape) == 4 and dims == (0, 2, 3, 1):
            return self.alias(n, src, NHWC)
        if form == NHWC and dims == (0, 3, 1, 2):
            return self.alias(n, src, NCHW)
        if isinstance(form, tuple) and dims == (0, 2, 1, 3, 4):
            return self.alias(n, src, (SHUFFLED if form[0] == GROUPED else GROUPED, shape[1]))
        raise Unsupported(f"{where}: permutes {describe(form, shape)} by {list(dims)}: acgen's spec has "
                          "channels-last stretches (permute(0, 2, 3, 1) ... permute(0, 3, 1, 2)) and channel shuffles")

    def add(self, n, where, inplace):
        a, b = n.args[:2] if len(n.args) >= 2 else (None, None)
        extra = set(n.kwargs) - {"alpha"} or (n.kwargs.get("alpha", 1) != 1) or len(n.args) != 2
        if extra or not (isinstance(a, fx.Node) and isinstance(b, fx.Node)) or a in self.param or b in self.param:
            raise Unsupported(f"{where}: adds {_what(self, a)} and {_what(self, b)}: acgen's add sums layers of one shape")
        if canon(self.shape.get(a)) != canon(self.shape.get(b)) or self.form.get(a) != self.form.get(b) or \
                isinstance(self.form.get(a), tuple):
            raise Unsupported(f"{where}: adds {describe(self.form.get(a), self.shape.get(a, ()))} and "
                              f"{describe(self.form.get(b), self.shape.get(b, ()))}: acgen's add sums layers of one shape")
        self.emit(n, "add", {}, [a, b], n.name, inplace=inplace)

    def mul(self, n, where, inplace):
        a, b = n.args[:2] if len(n.args) >= 2 else (None, None)
        if len(n.args) != 2 or n.kwargs or not (isinstance(a, fx.Node) and isinstance(b, fx.Node)):
            raise Unsupported(f"{where}: multiplies {_what(self, a)} by {_what(self, b)}: acgen's mul takes two layers "
                              "(or a layer and a per-channel parameter, scale)")
        if any(v.op == "get_attr" and v not in self.param for v in (a, b)):
            raise Unsupported(f"{where}: multiplies {_what(self, a)} by {_what(self, b)}: acgen's scale multiplies "
                              "by a parameter the checkpoint holds")
        if a in self.param or b in self.param:
            p, x = (a, b) if a in self.param else (b, a)
            if x in self.param:
                raise Unsupported(f"{where}: multiplies two parameters")
            self.scale(n, where, p, x)
            return
        sa, sb, fa, fb = canon(self.shape.get(a)), canon(self.shape.get(b)), self.form.get(a), self.form.get(b)
        same = sa == sb and fa == fb and not isinstance(fa, tuple)
        gate = fa == fb == NCHW and len(sa) == len(sb) == 4 and sa[:2] == sb[:2] and (sa[2:] == (1, 1) or sb[2:] == (1, 1))
        if not (same or gate):
            raise Unsupported(f"{where}: multiplies {describe(fa, sa)} by {describe(fb, sb)}: acgen's mul takes two "
                              "layers of one shape, or a CxHxW layer and a Cx1x1 one")
        form = fa if same else NCHW
        self.emit(n, "mul", {}, [a, b], n.name, form=form, inplace=inplace)

    def scale(self, n, where, p, x):
        """x times a per-channel parameter: the scale op, named by the
        parameter's checkpoint key."""
        key, ps = self.param[p], tuple(self.shape.get(p, ()))
        form, shape = self.form.get(x), self.shape.get(x, ())
        c = shape[-1] if form == NHWC else shape[1] if len(shape) >= 2 else None
        ok = (ps in ((c, 1, 1), (1, c, 1, 1)) and form == NCHW and len(shape) == 4) or \
             (ps == (c,) and (form == NHWC or (form == NCHW and len(shape) == 2)))
        if not ok:
            raise Unsupported(f"{where}: multiplies {describe(form, shape)} by parameter {key} of shape {list(ps)}: "
                              "acgen's scale takes one value a channel ([C, 1, 1] or [1, C, 1, 1] on N,C,H,W maps, [C] channels-last)")
        self.emit(n, "scale", {}, [x], key, prefix=key, form=form)

    def cat(self, n, where):
        items = arg(n, 0, "tensors")
        if not isinstance(items, (list, tuple)) or not all(isinstance(a, fx.Node) for a in items):
            raise Unsupported(f"{where}: cat of {items!r}: acgen's concat joins layers")
        dim = plain(arg(n, 1, "dim", 0))
        forms = {self.form.get(a) for a in items}
        shapes = [canon(self.shape.get(a)) if self.form.get(a) == NCHW else self.shape.get(a, ()) for a in items]
        form = forms.pop() if len(forms) == 1 else None
        rank = len(shapes[0]) if shapes else 0
        channel = 1 if form == NCHW else rank - 1 if form == NHWC else None
        if channel is None or any(len(s) != rank for s in shapes) or dim % max(rank, 1) != channel:
            raise Unsupported(f"{where}: cat along dimension {dim} of {describe(form, shapes[0] if shapes else ())}: "
                              "acgen's concat joins along channels")
        if len(items) == 1:
            return self.alias(n, items[0])  # torch.cat([x], 1) is x
        self.emit(n, "concat", {}, list(items), n.name, form=form)

    def split(self, n, where, src, form, shape):
        parts = n.meta.get("value")
        dim = plain(arg(n, 2, "dim", 0))
        need_nchw(where, "chunk/split", form, shape, dims=(2, 4))
        if dim % len(shape) != 1:
            raise Unsupported(f"{where}: splits dimension {dim} of {describe(form, shape)}: acgen's split is along channels")
        sizes = [p[1] for p in parts]
        if len(sizes) == 1:
            self.alias(n, src)
            self.parts[n] = [self.name[n]]
            return
        name = self.emit(n, "split", {"sizes": sizes}, [src], n.name)
        self.parts[n] = [f"{name}:{i}" for i in range(len(sizes))]

    def pool(self, n, where, src, form, shape, out):
        op = "maxpool" if n.target in (F.max_pool2d, torch.max_pool2d) else "avgpool"
        need_nchw(where, n.target.__name__, form, shape)
        k, stride, pad = arg(n, 1, "kernel_size"), arg(n, 2, "stride"), arg(n, 3, "padding", 0)
        if op == "maxpool":
            if arg(n, 6, "return_indices", False):
                raise Unsupported(f"{where}: max_pool2d returning indices")
            fields = pool_fields(op, k, stride, pad, where, shape, out, ceil=plain(arg(n, 5, "ceil_mode", False)),
                                 dilation=plain(arg(n, 4, "dilation", 1)))
        else:
            fields = pool_fields(op, k, stride, pad, where, shape, out, ceil=plain(arg(n, 4, "ceil_mode", False)),
                                 count_include_pad=plain(arg(n, 5, "count_include_pad", True)),
                                 divisor_override=plain(arg(n, 6, "divisor_override")))
            if out[2:] == (1, 1) and tuple(shape[2:]) == tuple(_pair(fields["kernel"])) and "padding" not in fields:
                return self.emit(n, "global_avgpool", {}, [src], n.name)  # the whole map, sized from the data
        self.emit(n, op, fields, [src], n.name)

    def layer_norm(self, n, where, src, form, shape, path):
        """F.layer_norm with the weights of a module (torchvision's
        LayerNorm2d): named after their prefix."""
        op, fields = layernorm_fields(plain(arg(n, 1, "normalized_shape")), plain(arg(n, 4, "eps", 1e-5)),
                                      where, form, shape)
        w, b = arg(n, 2, "weight"), arg(n, 3, "bias")
        keys = [self.param.get(a) if isinstance(a, fx.Node) else a for a in (w, b)]
        if any(k is not None and not isinstance(k, str) for k in keys):
            raise Unsupported(f"{where}: layer_norm with weights that are not the model's parameters")
        prefix = None
        if keys[0] is not None or keys[1] is not None:
            prefixes = {k.rsplit(".", 1)[0] for k in keys if k is not None}
            if len(prefixes) != 1 or (keys[0] is not None and not keys[0].endswith(".weight")) or \
                    (keys[1] is not None and not keys[1].endswith(".bias")):
                raise Unsupported(f"{where}: layer_norm with weights {keys}: acgen reads PREFIX.weight and PREFIX.bias")
            prefix = prefixes.pop()
        self.emit(n, op, fields, [src], prefix or path or n.name, prefix=prefix)


def canon(shape):
    """A shape as the spec sees it: a flattened [N, C] is C x 1 x 1."""
    shape = tuple(shape or ())
    return shape + (1, 1) if len(shape) == 2 else shape


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _what(walk, a):
    if isinstance(a, fx.Node):
        if a in walk.param:
            return f"parameter {walk.param[a]}"
        if a.op == "get_attr":
            return f"the constant tensor {a.target} (not in the checkpoint)"
        return describe(walk.form.get(a), walk.shape.get(a, ()))
    return f"the constant {a!r}"
