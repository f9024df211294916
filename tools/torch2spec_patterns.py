"""torch2spec's functional spellings of two normalisations, recognised
node by node in the traced graph as each is written out in PyTorch:

  a LayerNorm over channels on N,C,H,W maps (UniRepLKNet's and
  ConvNeXt's LayerNorm with data_format="channels_first"):
      u = x.mean(1, keepdim=True); s = (x - u).pow(2).mean(1, keepdim=True)
      x = (x - u) / torch.sqrt(s + eps)
      x = weight[:, None, None] * x + bias[:, None, None]       -> layernorm

  global response normalisation on a channels-last tensor (ConvNeXt-V2's
  GRN, UniRepLKNet's GRNwithNHWC):
      g = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
      n = g / (g.mean(dim=-1, keepdim=True) + eps)
      (gamma * n + 1) * x [+ beta]                               -> grn

Each step's node becomes a Part (what it computes of which input x); the
last step emits the layer. A Part read by anything but its formula's next
step is refused (Walk.tensor), naming the formula, so a variant of either
(another eps placement, a norm over other dimensions) is never taken for
it; the spec check then runs whatever was recognised against the model.
"""

import operator

import torch
import torch.fx as fx

from _acgen_torch2spec_ops import ABOVE, NCHW, NHWC, Unsupported, describe, plain

LN = "a LayerNorm over channels written out (x.mean(1), (x - u).pow(2).mean(1), / sqrt(var + eps), * weight + bias)"
GRN = "a GRN written out (torch.norm over H and W of a channels-last tensor, / its mean over channels + eps, " \
      "(gamma * N + 1) * x + beta)"

SUB = {operator.sub, torch.sub}
SUB_METHODS = {"sub", "__sub__"}
DIV = {operator.truediv, torch.div, torch.true_divide}
DIV_METHODS = {"div", "__truediv__", "true_divide"}
ADD = {operator.add, torch.add}
ADD_METHODS = {"add", "__add__", "__radd__"}
MUL = {operator.mul, torch.mul}
MUL_METHODS = {"mul", "__mul__", "__rmul__"}
POW = {operator.pow, torch.pow}


class Part:
    """A step of one of the formulas: kind, the input x it computes from,
    the eps and the parameters' prefix once known."""

    def __init__(self, kind, x, eps=None, prefix=None):
        self.kind, self.x, self.eps, self.prefix = kind, x, eps, prefix

    def what(self):
        return LN if self.kind.startswith("ln_") else GRN


def _is(t, method, functions, methods):
    return (method and t in methods) or (not method and t in functions)


def _dims(v, rank):
    v = plain(v)
    if v is None:
        return None
    return {d % rank for d in (v if isinstance(v, (list, tuple)) else [v])}


def _number(v):
    v = plain(v)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


class Patterns:
    """The parts of the walk's graph; step is called for every function
    or method node before the walk's own handling."""

    def __init__(self, walk):
        self.walk = walk
        self.parts = {}
        self.grns = {}      # an emitted grn's node -> its prefix, until its beta is added
        self.betas = set()  # prefixes whose beta the model adds
        # Steps refused, and the formula's arithmetic reading them: reported
        # once, at the step that broke the formula.
        self.broken = set()

    def part(self, a, *kinds):
        p = self.parts.get(a) if isinstance(a, fx.Node) else None
        return p if p is not None and p.kind in kinds else None

    def param(self, a, suffix, shapes):
        """The prefix of parameter (or view of one) a whose key ends in
        suffix and whose shape is one of shapes, else None."""
        w = self.walk
        if not isinstance(a, fx.Node) or a not in w.param:
            return None
        key = w.param[a]
        if not key.endswith(suffix) or tuple(w.shape.get(a, ())) not in shapes:
            return None
        return key[:-len(suffix)]

    def refuse(self, a, where):
        """The error for a reader of part a that is not its next step."""
        p = self.parts[a]
        return Unsupported(f"{where}: reads a step of {p.what()} other than as the formula's next step: "
                           "torch2spec takes the formula whole")

    def step(self, n, where, t, method):
        """Records or completes a formula at node n; False when n is none
        of their steps (the walk handles it)."""
        arith = [SUB, DIV, ADD, MUL, POW, {torch.mean, torch.sqrt, torch.norm}]
        arith_methods = [SUB_METHODS, DIV_METHODS, ADD_METHODS, MUL_METHODS, {"pow", "mean", "sqrt", "norm"}]
        ins = []
        fx.node.map_arg((n.args, n.kwargs), ins.append)
        if any(a in self.broken for a in ins) and any(_is(t, method, f, m) for f, m in zip(arith, arith_methods)):
            self.broken.add(n)
            raise Unsupported(ABOVE)
        try:
            return self._step(n, where, t, method)
        except Unsupported:
            self.broken.add(n)
            raise

    def _step(self, n, where, t, method):
        w = self.walk
        args = list(n.args)
        a = args[0] if args else None
        b = args[1] if len(args) > 1 else None
        shape = tuple(w.shape.get(a, ())) if isinstance(a, fx.Node) else ()
        form = w.form.get(a) if isinstance(a, fx.Node) else None

        if _is(t, method, {torch.mean}, {"mean"}):
            dims = _dims(n.args[1] if len(n.args) > 1 else n.kwargs.get("dim"), max(len(shape), 1))
            keep = plain(n.args[2] if len(n.args) > 2 else n.kwargs.get("keepdim", False)) is True
            if not keep or len(shape) != 4:
                return False
            if dims == {1} and self.part(a, "ln_sq"):
                self.parts[n] = Part("ln_var", self.parts[a].x)
            elif dims == {1} and a not in self.parts and form == NCHW:
                self.parts[n] = Part("ln_mean", a)
            elif dims == {3} and self.part(a, "grn_norm"):
                self.parts[n] = Part("grn_mean", self.parts[a].x)
            else:
                return False
            return True
        if _is(t, method, {torch.norm}, {"norm"}):
            p = plain(n.args[1] if len(n.args) > 1 else n.kwargs.get("p", "fro"))
            dims = _dims(n.args[2] if len(n.args) > 2 else n.kwargs.get("dim"), max(len(shape), 1))
            keep = plain(n.args[3] if len(n.args) > 3 else n.kwargs.get("keepdim", False)) is True
            if form == NHWC and len(shape) == 4 and p in (2, 2.0, "fro") and dims == {1, 2} and keep \
                    and n.kwargs.get("dtype") is None:
                self.parts[n] = Part("grn_norm", a)
                return True
            raise Unsupported(f"{where}: torch.norm(p={p!r}, dim={plain(n.args[2] if len(n.args) > 2 else n.kwargs.get('dim'))}, "
                              f"keepdim={keep}) of {describe(form, shape)}: acgen has a norm only as GRN's, "
                              f"p=2 over H and W of a channels-last tensor with keepdim=True, in {GRN}")
        if _is(t, method, SUB, SUB_METHODS):
            m = self.part(b, "ln_mean")
            if m is not None and a is m.x:
                self.parts[n] = Part("ln_centred", a)
                return True
            return False
        if _is(t, method, POW, {"pow", "__pow__"}):
            if self.part(a, "ln_centred") and _number(b) == 2:
                self.parts[n] = Part("ln_sq", self.parts[a].x)
                return True
            return False
        if _is(t, method, {torch.sqrt}, {"sqrt"}):
            if self.part(a, "ln_vareps"):
                p = self.parts[a]
                self.parts[n] = Part("ln_std", p.x, p.eps)
                return True
            if self.part(a, "ln_var"):
                raise Unsupported(f"{where}: sqrt of the variance, eps added after it: acgen's layernorm, "
                                  f"{LN}, takes torch.sqrt(var + eps)")
            raise Unsupported(f"{where}: sqrt of {describe(form, shape)}: acgen has sqrt only in {LN}")
        if _is(t, method, DIV, DIV_METHODS):
            c, s = self.part(a, "ln_centred"), self.part(b, "ln_std")
            if c is not None and s is not None and c.x is s.x:
                self.parts[n] = Part("ln_normed", c.x, s.eps)
                return True
            g, d = self.part(a, "grn_norm"), self.part(b, "grn_den")
            if g is not None and d is not None and g.x is d.x:
                self.parts[n] = Part("grn_n", g.x, d.eps)
                return True
            return False
        if _is(t, method, ADD, ADD_METHODS):
            return self.add(n, where, a, b)
        if _is(t, method, MUL, MUL_METHODS):
            return self.mul(n, where, a, b)
        return False

    def add(self, n, where, a, b):
        w = self.walk
        for x, y in ((a, b), (b, a)):
            eps = _number(y)
            if eps is not None and self.part(x, "ln_var"):
                self.parts[n] = Part("ln_vareps", self.parts[x].x, float(eps))
                return True
            if eps is not None and self.part(x, "grn_mean"):
                self.parts[n] = Part("grn_den", self.parts[x].x, float(eps))
                return True
            if eps == 1 and self.part(x, "grn_gn"):
                p = self.parts[x]
                self.parts[n] = Part("grn_scale", p.x, p.eps, p.prefix)
                return True
            s = self.part(x, "ln_scaled")
            if s is not None:
                c = w.shape.get(s.x, (0, 0))[1]
                prefix = self.param(y, ".bias", {(c, 1, 1), (1, c, 1, 1)})
                if prefix != s.prefix:
                    raise Unsupported(f"{where}: {LN} whose bias is {w.param.get(y, 'not a parameter')} "
                                      f"([C, 1, 1] of {s.prefix}.bias wanted, beside its weight)")
                fields = {} if s.eps == 1e-5 else {"eps": s.eps}
                w.emit(n, "layernorm", fields, [s.x], s.prefix, prefix=s.prefix, form=NCHW)
                return True
            if x in self.grns:
                c = w.shape.get(x, (0,) * 4)[3]
                prefix = self.param(y, ".beta", {(1, 1, 1, c), (c,)})
                if prefix is None or prefix != self.grns[x]:
                    return False  # a sum of the GRN's output and something else
                # The grn layer reads PREFIX.beta itself.
                self.betas.add(prefix)
                del self.grns[x]
                w.alias(n, x)
                return True
        return False

    def mul(self, n, where, a, b):
        w = self.walk
        for x, y in ((a, b), (b, a)):
            if self.part(x, "ln_normed"):
                p = self.parts[x]
                c = w.shape.get(p.x, (0, 0))[1]
                prefix = self.param(y, ".weight", {(c, 1, 1), (1, c, 1, 1)})
                if prefix is None:
                    raise Unsupported(f"{where}: {LN} scaled by {w.param.get(y, 'something not a parameter')}: "
                                      "acgen's layernorm takes a weight PREFIX.weight [C] (viewed [C, 1, 1])")
                self.parts[n] = Part("ln_scaled", p.x, p.eps, prefix)
                return True
            if self.part(x, "grn_n"):
                p = self.parts[x]
                c = w.shape.get(p.x, (0,) * 4)[3]
                prefix = self.param(y, ".gamma", {(1, 1, 1, c)})
                if prefix is None:
                    raise Unsupported(f"{where}: {GRN} scaled by {w.param.get(y, 'something not a parameter')}: "
                                      "acgen's grn takes PREFIX.gamma of shape [1, 1, 1, C]")
                self.parts[n] = Part("grn_gn", p.x, p.eps, prefix)
                return True
            s = self.part(x, "grn_scale")
            if s is not None and y is s.x:
                fields = {} if s.eps == 1e-6 else {"eps": s.eps}
                w.emit(n, "grn", fields, [s.x], s.prefix, prefix=s.prefix, form=NHWC)
                self.grns[n] = s.prefix
                return True
        if self.part(a, "ln_centred") and a is b:
            self.parts[n] = Part("ln_sq", self.parts[a].x)
            return True
        return False

    def unread_betas(self):
        """Problems for GRNs the model runs without the beta the
        checkpoint holds, which acgen's grn would add."""
        out = []
        for prefix in self.grns.values():
            if prefix + ".beta" in self.walk.keys and prefix not in self.betas:
                out.append(f"{prefix}: {GRN} without adding {prefix}.beta, which the checkpoint holds and "
                           "acgen's grn would add")
        return out
