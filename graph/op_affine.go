package graph

import "github.com/acgen/acgen/spec"

// OpAffine is the op a BatchNorm becomes when it cannot fold into a
// convolution: y = x*Scale[c] + Shift[c]. Specs do not name it; only
// fused graphs hold it.
const OpAffine spec.Op = "affine"

var affineRow = &Row{
	Op: OpAffine,
	Build: func(b *builder, n *Node, in []Shape) error {
		return n.Layer.FieldErrorf("op", "op %q is made by fusion, not written in a spec", OpAffine)
	},
	Ref: func(n *Node, in []Tensor) Tensor { return affine(in[0], n.Affine.Scale, n.Affine.Shift) },
	Tensors: func(n *Node) []Param {
		a := n.Affine
		return []Param{param("scale", &a.Scale, n.Shape.C), param("shift", &a.Shift, n.Shape.C)}
	},
	FLOPs: func(n *Node, _ []Shape) float64 { return 2 * elementwiseFLOPs(n, nil) },
	Doc:   "a per-channel scale and shift: a BatchNorm that could not fold into a convolution",
}

// Affine is a per-channel scale and shift.
type Affine struct {
	Scale, Shift []float64
	// ScaleShape is Scale's shape in the checkpoint, for a scale op
	// ([C, 1, 1] or [C]); nil for an affine op.
	ScaleShape []int
}

func affine(x Tensor, scale, shift []float64) Tensor {
	out := NewTensor(x.Shape)
	hw := x.H * x.W
	for i, v := range x.Data {
		c := i / hw
		out.Data[i] = v*scale[c] + shift[c]
	}
	return out
}
