"""torch2spec's tracer: torch.fx with real values beside the proxies.

torch.fx traces symbolically: `b, c, h, w = x.size()` gives proxies, and
on torch 1.13 with Python 3.11 unpacking them fails with a message that
blames data-dependent control flow. acgen's networks have one fixed
input size, so sizes need not be symbolic: this tracer runs the model on
a real input while it records the graph. Every proxy carries the value
its node computed; the shape of a tensor (size(), .shape, dim(), len())
is a plain Python value, so the model's arithmetic on it runs as Python
and only tensor operations become nodes. Control flow on the data
itself (`if x.sum() > 0`) still stops the trace, as it must.

Each node records, in node.meta: "value" (a Shape for a tensor, a tuple
of them for chunk's and split's results, else the Python value) and
"module_path" (the module whose forward made it).
"""

import torch
import torch.fx as fx
from torch.fx._symbolic_trace import _orig_module_call

# Methods and attributes that describe a tensor rather than compute one:
# answered from the real value, never recorded.
SHAPE_METHODS = {"size", "dim", "ndimension", "numel", "nelement", "element_size", "is_contiguous",
                 "is_floating_point", "is_complex", "get_device", "type"}
SHAPE_ATTRS = {"shape", "ndim", "dtype", "device", "is_cuda", "layout", "requires_grad", "is_sparse",
               "is_quantized", "is_mkldnn", "is_meta", "names"}


class Shape(tuple):
    """A tensor's shape, told apart from a tuple the model computes."""


def summary(v):
    """What node.meta["value"] keeps of a value: a tensor's Shape, a
    tuple of those for a tuple of tensors, else the value itself."""
    if isinstance(v, torch.Tensor):
        return Shape(int(d) for d in v.shape)
    if isinstance(v, (tuple, list)) and v and all(isinstance(t, torch.Tensor) for t in v):
        return tuple(Shape(int(d) for d in t.shape) for t in v)
    return v


class ValueProxy(fx.Proxy):
    """A proxy that knows its node's real value."""

    def __getattr__(self, k):
        if k == "value" or k.startswith("__"):
            raise AttributeError(k)
        if k in SHAPE_ATTRS:
            return getattr(self.value, k)
        return super().__getattr__(k)

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        # One getitem node an element, however the caller unpacks it
        # (fx's bytecode peek for UNPACK_SEQUENCE fails on Python 3.11).
        return iter([self[i] for i in range(len(self.value))])


def real(a):
    """a with every proxy replaced by its value."""
    if isinstance(a, ValueProxy):
        return a.value
    if isinstance(a, fx.proxy.Attribute):
        return getattr(real(a.root), a.attr)
    if isinstance(a, tuple):
        return tuple(real(x) for x in a)
    if isinstance(a, list):
        return [real(x) for x in a]
    if isinstance(a, dict):
        return {k: real(v) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(real(a.start), real(a.stop), real(a.step))
    return a


class ConcreteTracer(fx.Tracer):
    """Records the graph of model(x) while running it on x.

    leaf(m) says which modules stay one call_module node (besides
    torch.nn's own). While a node's value is computed (the tracer's
    `running`), module calls and parameter reads inside it run as plain
    Python, recording nothing."""

    def __init__(self, x, leaf):
        super().__init__()
        self.x, self.leaf = x, leaf
        self.stack = [""]
        self.called = set()  # every module path entered
        self.running = False
        self.placeholders = 0

    def is_leaf_module(self, m, qualname):
        return self.leaf(m) or super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        if self.running:  # inside a leaf: record the call, nothing more
            try:
                self.called.add(self.path_of_module(m))
            except NameError:
                pass  # a module made on the fly, not the model's
            return forward(*args, **kwargs)
        path = self.path_of_module(m)
        self.called.add(path)
        self.stack.append(path)
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self.stack.pop()

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        if self.running:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def proxy(self, node):
        return ValueProxy(node, self)

    def create_node(self, *args, **kwargs):
        node = super().create_node(*args, **kwargs)
        node.meta["module_path"] = self.stack[-1]
        if node.op == "get_attr":  # fx makes a buffer's or a constant's here, not in create_proxy
            node.meta["value"] = summary(self.attribute(node.target))
        return node

    def attribute(self, target):
        """The model's attribute at a dotted path, read as plain Python."""
        saved, self.running = self.running, True
        try:
            v = self.root
            for part in target.split("."):
                v = getattr(v, part)
            return v
        finally:
            self.running = saved

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        if kind == "call_method" and target in SHAPE_METHODS:
            return getattr(real(args[0]), target)(*real(args[1:]), **real(kwargs))
        value = self.compute(kind, target, args, kwargs)
        p = super().create_proxy(kind, target, args, kwargs, name, type_expr, proxy_factory_fn)
        p.value = value
        p.node.meta["value"] = summary(value)
        return p

    def compute(self, kind, target, args, kwargs):
        """The value the node will compute, from its arguments' values."""
        if kind == "placeholder":
            self.placeholders += 1
            if self.placeholders == 1:
                return self.x
            return args[0] if args else None  # a later argument's default
        saved, self.running = self.running, True
        try:
            a, kw = real(args), real(kwargs)
            if kind == "get_attr":
                return self.attribute(target)
            if kind == "call_module":
                return _orig_module_call(self.root.get_submodule(target), *a, **kw)
            if kind == "call_method":
                return getattr(a[0], target)(*a[1:], **kw)
            return target(*a, **kw)
        finally:
            self.running = saved


def trace(model, x, leaf):
    """The fx graph of model on input x (a real tensor), each node with
    its value and module path; and the set of module paths the forward
    called."""
    tracer = ConcreteTracer(x, leaf)
    with torch.no_grad():
        graph = tracer.trace(model)
    return graph, tracer.called


def model_frame(tb, model):
    """The qualified name of the innermost module of model whose code
    (forward, a hook, _load_from_state_dict) is on the traceback tb, "" for
    the model itself; None when no module's code is."""
    names = {id(m): n for n, m in model.named_modules()}
    found = None
    while tb is not None:
        me = tb.tb_frame.f_locals.get("self")
        if me is not None and id(me) in names:
            found = names[id(me)]
        tb = tb.tb_next
    return found
