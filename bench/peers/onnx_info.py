#!/usr/bin/python3
"""FLOP count and op census of an ONNX graph.

    /usr/bin/python3 onnx_info.py MODEL.onnx [MODEL.onnx ...]

FLOPs are counted the usual way, 2 x multiply-accumulates of the Conv and
Gemm/MatMul nodes only (no bias adds, activations, additions or pooling;
those are listed separately as element counts). Shapes come from ONNX shape
inference, so the graph must have static shapes (batch 1 here).

A second count leaves out the multiply-adds whose input tap falls on the
zero padding (ORT's MLAS NCHWc kernels skip those; on 8x8 maps with 3x3
kernels that is 16% of the nominal work).

Also works on an ORT-optimized model (sessionOptions.optimizedModelFilePath)
for the op census; FLOPs are only computed for standard-domain ops there.
"""

import collections
import sys

import onnx
from onnx import numpy_helper, shape_inference


def _shapes(model):
    shapes = {}
    try:
        inferred = shape_inference.infer_shapes(model)
    except Exception:  # custom domains (an ORT-optimized graph)
        inferred = model
    g = inferred.graph
    for vi in list(g.value_info) + list(g.input) + list(g.output):
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    for init in g.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def analyse(model):
    """Returns a dict: macs (Conv+Gemm), conv_macs, gemm_macs, flops (2 x macs),
    params (initializer elements), ops (op_type -> count), elementwise
    (op_type -> output elements summed), per_conv (list of rows)."""
    shapes = _shapes(model)
    g = model.graph
    ops = collections.Counter()
    elementwise = collections.Counter()
    per_conv = []
    conv_macs = gemm_macs = conv_macs_eff = 0
    unknown = []
    for node in g.node:
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        ops[key] += 1
        out = shapes.get(node.output[0]) if node.output else None
        if node.domain not in ("", "ai.onnx"):
            continue
        if node.op_type == "Conv":
            w = shapes.get(node.input[1])
            inp = shapes.get(node.input[0])
            if w is None or out is None or inp is None:
                unknown.append(node.name or node.op_type)
                continue
            group = _attr(node, "group", 1)
            cout, cin_g, kh, kw = w
            strides = _attr(node, "strides", [1, 1])
            dil = _attr(node, "dilations", [1, 1])
            pads = _attr(node, "pads", [0, 0, 0, 0])
            macs = _prod(out[1:]) * cin_g * kh * kw
            # taps that fall on real input (not on zero padding), summed over outputs
            taps = 1
            for ax in range(2):
                n_in, n_out, k = inp[2 + ax], out[2 + ax], (kh, kw)[ax]
                taps *= sum(1 for o in range(n_out) for t in range(k)
                            if 0 <= o * strides[ax] - pads[ax] + t * dil[ax] < n_in)
            eff = cout * cin_g * taps
            conv_macs += macs
            conv_macs_eff += eff
            per_conv.append({"name": node.name, "weight": w, "out": out, "group": group,
                             "stride": strides, "macs": macs, "macs_unpadded": eff})
        elif node.op_type in ("Gemm", "MatMul"):
            a, b = shapes.get(node.input[0]), shapes.get(node.input[1])
            if a is None or b is None:
                unknown.append(node.name or node.op_type)
                continue
            if node.op_type == "Gemm":
                m = a[1] if _attr(node, "transA", 0) else a[0]
                k = a[0] if _attr(node, "transA", 0) else a[1]
                n = b[0] if _attr(node, "transB", 0) else b[1]
            else:
                m, k, n = _prod(a[:-1]), a[-1], b[-1]
            gemm_macs += m * n * k
        elif out is not None:
            elementwise[node.op_type] += _prod(out)
    params = sum(_prod(numpy_helper.to_array(i).shape) for i in g.initializer)
    macs = conv_macs + gemm_macs
    return {"macs": macs, "conv_macs": conv_macs, "gemm_macs": gemm_macs, "flops": 2 * macs,
            "macs_unpadded": conv_macs_eff + gemm_macs, "params": params, "ops": dict(ops),
            "elementwise": dict(elementwise), "per_conv": per_conv, "unknown_shapes": unknown}


def main(paths):
    for p in paths:
        info = analyse(onnx.load(p))
        print(f"{p}:")
        print(f"  MACs {info['macs']:,}  (conv {info['conv_macs']:,}, gemm {info['gemm_macs']:,})"
              f"  -> {info['flops'] / 1e6:.2f} MFLOP"
              f" ({2 * info['macs_unpadded'] / 1e6:.2f} without the taps on zero padding)")
        if info["unknown_shapes"]:
            print(f"  (no static shapes for {len(info['unknown_shapes'])} Conv/Gemm nodes:"
                  " not counted)")
        print(f"  parameters {info['params']:,}")
        print("  ops: " + ", ".join(f"{k} {v}" for k, v in sorted(info["ops"].items())))
        if info["elementwise"]:
            print("  other ops' output elements: " + ", ".join(
                f"{k} {v:,}" for k, v in sorted(info["elementwise"].items())))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
