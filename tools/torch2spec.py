#!/usr/bin/env python3
"""Writes acgen's net.yaml for a PyTorch model, by tracing it.

    python3 tools/torch2spec.py --model mynet:build --weights model.pth \\
        --input 3,32,32 --out net.yaml

--model is MODULE:CALLABLE: the module is imported (from the current
directory or PYTHONPATH) and the callable, given no arguments, returns the
network as trained, with ACBlocks (any module with square_conv, ver_conv
and hor_conv, as in the official DingXiaoH/ACNet code, or one fused by its
switch_to_deploy), RepVGG blocks or DBBs. The model is traced with torch.fx
while it runs on an input of the given size (torch2spec_trace.py), keeping
those blocks whole; every call becomes a layer named after its module path,
so the layer names are the checkpoint's key prefixes.

Then it checks its own work: an independent interpreter of net.yaml
(fixtures/spec_interp.py, which the fixtures test against PyTorch) runs the
spec on the model's weights in float64 and must give the model's outputs,
and every checkpoint key the model uses must be read by some layer. Only a
spec that passes is written, with a comment line recording the check; a
run that refuses the model, fails its check or crashes leaves --out as it
was. It needs torch (Debian: python3-torch) and PyYAML; acgen itself needs
neither.
"""

import argparse
import contextlib
import importlib
import importlib.util
import inspect
import math
import os
import sys
import tempfile
import traceback

try:
    import torch
    import torch.fx as fx
    import torch.nn as nn
    import yaml
except ImportError as e:
    sys.exit(f"torch2spec: {e}: it needs PyTorch and PyYAML; on Debian run it with /usr/bin/python3 "
             "after apt-get install python3-torch python3-yaml")

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, path):
    """Loads one of torch2spec's parts by its path, under a private module
    name, so that nothing of a user's (their own `acnet`, a module named
    like ours) shadows it or is shadowed."""
    spec = importlib.util.spec_from_file_location("_acgen_" + name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_acgen_" + name] = mod
    spec.loader.exec_module(mod)
    return mod


_tr = _load("torch2spec_trace", os.path.join(HERE, "torch2spec_trace.py"))
_ops = _load("torch2spec_ops", os.path.join(HERE, "torch2spec_ops.py"))
_patterns = _load("torch2spec_patterns", os.path.join(HERE, "torch2spec_patterns.py"))
_graph = _load("torch2spec_graph", os.path.join(HERE, "torch2spec_graph.py"))
_weights = _load("torch2spec_weights", os.path.join(HERE, "torch2spec_weights.py"))
_interp = _load("spec_interp", os.path.join(HERE, "..", "fixtures", "spec_interp.py"))
# The blocks after RepVGG and sums of linear branches, recognised by
# structure (reparam_blocks.py), with the helpers they need.
_reparam = _load("reparam_blocks", os.path.join(HERE, "reparam_blocks.py"))
_ops.use_reparam(_reparam, type("host", (), {"Unsupported": _ops.Unsupported, "conv_fields": staticmethod(_ops.conv_fields),
                                             "nonlinearity": staticmethod(_ops.nonlinearity), "run_spec": staticmethod(_interp.run_spec)}))
Unsupported, first_line = _ops.Unsupported, _weights.first_line

TOLERANCE = 1e-9  # the spec against the model, both in float64
# Float64 itself cannot check a network so ill-conditioned that its own
# rounding moves the outputs by more than TOLERANCE: an acnetified
# EfficientNet-B7 with random weights (PyTorch's float32 0.45 from its
# float64) moves its float64 output by 1.9e-4 when its input moves by
# 1e-15. Such a network is checked within NOISE times what that
# perturbation (PERTURBATION, relative, at random) does: two float64
# runs differ by a rounding at every layer, each about a tenth of the
# perturbation, amplified by the layers after it, and 100 leaves room
# for hundreds of layers (the B6 acnetified, 4.9e-7 from its spec, moved
# by 3e-8). A well-conditioned network moves by 1e-13 or less, so the
# check stays TOLERANCE's.
PERTURBATION, NOISE = 1e-15, 100


@contextlib.contextmanager
def model_code(model, doing):
    """Turns an exception raised by the model's own code (its forward,
    hooks, _load_from_state_dict) into one line naming the module it was
    raised in: its qualified path, or the model's class at the top. The
    original stays as __cause__ (TORCH2SPEC_TRACEBACK=1 prints it).
    Exceptions raised outside the model's code are torch2spec's own."""
    try:
        yield
    except Unsupported:
        raise
    except Exception as e:
        path = _tr.model_frame(e.__traceback__, model)
        if path is None:
            raise
        where = path or type(model).__name__
        if isinstance(e, fx.proxy.TraceError):
            raise Unsupported(f"{where}: its control flow depends on the data ({first_line(e)}): torch2spec cannot "
                              "trace that") from e
        raise Unsupported(f"{where}: {doing}: {type(e).__name__}: {first_line(e)}") from e


def build_model(spec):
    """Imports MODULE and calls CALLABLE; a mistake in either is one line."""
    mod_name, _, fn_name = spec.partition(":")
    if not mod_name or not fn_name:
        raise Unsupported(f"--model {spec}: want MODULE:CALLABLE, such as mynet:build")
    try:
        factory = getattr(importlib.import_module(mod_name), fn_name)
    except ImportError as e:
        raise Unsupported(f"--model {spec}: cannot import {mod_name}: {first_line(e)}") from e
    except AttributeError:
        raise Unsupported(f"--model {spec}: {mod_name} has no {fn_name}")
    except Exception as e:
        raise Unsupported(f"--model {spec}: importing {mod_name} raised {type(e).__name__}: {first_line(e)}") from e
    try:
        model = factory()
    except Exception as e:
        raise Unsupported(f"--model {spec}: {fn_name}() raised {type(e).__name__}: {first_line(e)}") from e
    if not isinstance(model, nn.Module):
        raise Unsupported(f"--model {spec}: {fn_name}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model


def required_inputs(model):
    """The forward's parameters without a default."""
    try:
        sig = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return ["x"]  # no signature to read: let the trace find out
    return [p.name for p in sig.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def spec_text(name, input_shape, layers, output, source, checked=None, unread=()):
    yv = _interp.yaml_value
    lines = [f"# Written by tools/torch2spec.py from {source}."]
    if checked is not None:
        lines.append(checked)
    lines += [f"name: {yv(name)}", f"input: {yv(list(input_shape))}"]
    if unread:
        lines.append("# Modules the network does not run in eval mode (auxiliary heads): acgen leaves their keys unread.")
        lines.append(f"unread: {yv(list(unread))}")
    lines.append("layers:")
    for layer in layers:
        lines.append("  - {" + ", ".join(f"{k}: {yv(_ops.plain(v))}" for k, v in layer.items()) + "}")
    if output != layers[-1]["name"]:
        lines.append(f"output: {yv(output)}")
    return "\n".join(lines) + "\n"


def check(model, spec, input_shape, samples=3):
    """Runs the spec and the model in float64 and compares; returns the
    largest relative difference and the checkpoint keys no layer read."""
    sd = {k: v.double() for k, v in model.state_dict().items()}
    torch.manual_seed(0)
    x = torch.randn(samples, *input_shape, dtype=torch.float64)
    m = model.double().eval()
    with torch.no_grad():
        with model_code(m, f"running the model in float64 on a {','.join(map(str, input_shape))} input"):
            want = m(x)
        try:
            got, used = _interp.run_spec(spec, sd, x)
        except Exception as e:  # the interpreter refuses what torch2spec wrote: torch2spec's bug
            raise Unsupported(f"the spec's own check cannot run it: {type(e).__name__}: {first_line(e)} "
                              "(a bug in torch2spec; TORCH2SPEC_TRACEBACK=1 shows where)") from e
    if not isinstance(want, torch.Tensor):
        raise Unsupported(f"the model returns a {type(want).__name__}, not a tensor")
    want, got = want.reshape(samples, -1), got.reshape(samples, -1)
    if got.shape != want.shape:
        return math.inf, [], 0.0
    diff = rel_diff(got, want)
    unread = sorted(k for k in sd if k not in used and not k.endswith("num_batches_tracked"))
    noise = 0.0
    if not diff <= TOLERANCE and math.isfinite(diff):
        # How far float64's own rounding can move this network (see NOISE).
        g = torch.Generator().manual_seed(1)
        with torch.no_grad():
            moved = m(x * (1 + PERTURBATION * torch.randn(x.shape, generator=g, dtype=torch.float64)))
        noise = rel_diff(moved.reshape(samples, -1), want)
    return diff, unread, noise


def rel_diff(got, want):
    """The largest |got - want| / max(1, |want|)."""
    return float(((got - want).abs() / want.abs().clamp(min=1)).max())


def write_atomically(path, text):
    """Writes text to path by a temporary file in the same directory and a
    rename: a reader sees the old file or the whole new one, and a failure
    leaves no partial file."""
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def convert(a):
    """Everything but the writing: the spec's text and what its check
    found. Raises Unsupported, one problem a line."""
    sys.path.insert(0, os.getcwd())
    try:
        input_shape = [int(v) for v in a.input.split(",")]
        if len(input_shape) != 3 or min(input_shape) < 1:
            raise ValueError
    except ValueError:
        raise Unsupported(f"--input {a.input}: want C,H,W such as 3,32,32")
    model = build_model(a.model)
    inputs = required_inputs(model)
    if len(inputs) != 1:
        raise Unsupported(f"{type(model).__name__}.forward takes {len(inputs)} inputs ({', '.join(inputs)}): "
                          "acgen networks take one")
    if a.weights:
        sd = _weights.load_weights(a.weights)
        with model_code(model, "loading the weights"):
            _weights.load_into(model, sd, a.weights)
    model.eval()
    with model_code(model, f"running the model on a {a.input} input"):
        _reparam.prepare(model, _ops.host)  # recognises its blocks: a module cannot run while fx traces
        graph, called = _tr.trace(model, torch.randn(2, *input_shape), _ops.is_block)
    keys = set(model.state_dict())
    layers, output = _graph.Walk(dict(model.named_modules()), keys).run(graph)
    name = a.name or type(model).__name__.lower()
    spec = yaml.safe_load(spec_text(name, input_shape, layers, output, a.model))
    diff, unread, noise = check(model, spec, input_shape)
    # Keys of modules the forward never called (an Inception's auxiliary
    # classifier, used only in training) are the model's, not the spec's,
    # to leave unread.
    read_by_model = {n.target for n in graph.nodes if n.op == "get_attr"}
    idle = [k for k in unread if k.rpartition(".")[0] not in called and k not in read_by_model
            and k.rpartition(".")[0] != ""]
    missed = [k for k in unread if k not in idle]
    return {"name": name, "input": input_shape, "layers": layers, "output": output,
            "diff": diff, "noise": noise, "missed": missed, "idle": idle, "idle_modules": idle_modules(idle, called)}


def idle_modules(keys, called):
    """The outermost modules, none of them called, that hold keys: the
    spec's `unread` list (GoogLeNet's aux1 and aux2, not their parts)."""
    out = set()
    for k in keys:
        mod = k.rpartition(".")[0]
        parts = mod.split(".")
        for i in range(1, len(parts) + 1):
            if ".".join(parts[:i]) not in called:
                out.add(".".join(parts[:i]))
                break
    return sorted(out)


def run(a):
    r = convert(a)
    layers, diff = r["layers"], r["diff"]
    blocks = ", ".join(f"{sum(l['op'] == op for l in layers)} {label}" for op, label in
                       (("acblock", "ACBlocks"), ("repvgg", "RepVGG blocks"), ("dbb", "DBBs")) + _reparam.SUMMARY
                       if op == "acblock" or any(l["op"] == op for l in layers))
    print(f"torch2spec: the spec vs the model in float64: max relative difference {diff:.1e}")
    problems = []
    tolerance = max(TOLERANCE, NOISE * r["noise"])
    if tolerance > TOLERANCE:
        print(f"torch2spec: the network is ill-conditioned: a {PERTURBATION:g} relative change of its input moves "
              f"its float64 output by {r['noise']:.1e}, so the check allows {NOISE}x that, {tolerance:.1e}")
    if not diff <= tolerance:
        problems.append(f"the spec differs from the model by {diff:.1e} (relative, in float64; want <= {tolerance:.1e})")
    if r["missed"]:
        problems.append(f"{len(r['missed'])} checkpoint keys the model uses but no layer reads, e.g. {r['missed'][0]}")
    if problems:
        raise Unsupported("\n".join(problems + [f"nothing written to {a.out}"]))
    checked = (f"# Checked by tools/torch2spec.py: max relative difference {diff:.1e} against the model "
               f"in float64 (torch {torch.__version__})")
    if tolerance > TOLERANCE:
        checked += f", ill-conditioned: allowed {tolerance:.1e}"

    try:
        write_atomically(a.out, spec_text(r["name"], r["input"], layers, r["output"], a.model, checked, r["idle_modules"]))
    except OSError as e:
        raise Unsupported(f"--out {a.out}: {e.strerror or first_line(e)}") from e
    print(f"torch2spec: wrote {a.out}: {len(layers)} layers, {blocks}")
    if r["idle"]:
        print(f"torch2spec: {len(r['idle'])} checkpoint keys belong to modules the model does not call in eval mode "
              f"({', '.join(r['idle_modules'])}): the spec lists them as unread")
    return r


def parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="MODULE:CALLABLE returning the network")
    ap.add_argument("--weights", help="checkpoint to load into it (.pth, or the official code's HDF5; else the callable's own weights)")
    ap.add_argument("--input", required=True, help="C,H,W of one sample")
    ap.add_argument("--name", help="the spec's name, and so the Go package's (default: the model's class, lower case)")
    ap.add_argument("--out", default="net.yaml")
    return ap


def main():
    a = parser().parse_args()
    try:
        run(a)
    except Unsupported as e:
        if os.environ.get("TORCH2SPEC_TRACEBACK") and e.__cause__ is not None:
            traceback.print_exception(type(e.__cause__), e.__cause__, e.__cause__.__traceback__)
        for line in str(e).splitlines():
            print(f"torch2spec: {line}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # a bug here: one line, the trace on request
        if os.environ.get("TORCH2SPEC_TRACEBACK"):
            raise
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"torch2spec: {type(e).__name__}: {first_line(e)} (at {os.path.basename(where.filename)}:{where.lineno}; "
              "a bug in torch2spec: TORCH2SPEC_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
