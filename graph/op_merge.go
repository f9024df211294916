package graph

import (
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

var addRow = &Row{
	Op: spec.Add,
	Build: func(b *builder, n *Node, in []Shape) error {
		for i, s := range in[1:] {
			if s != in[0] {
				return diag.Tag(n.Layer.FieldErrorf("inputs", "cannot add %s (%s) to %s (%s)",
					n.Inputs[i+1].Name, s, n.Inputs[0].Name, in[0]), ErrShape)
			}
		}
		n.Shape = in[0]
		return nil
	},
	Ref: func(n *Node, in []Tensor) Tensor { return add(in) },
	FLOPs: func(n *Node, in []Shape) float64 {
		return float64(len(in)-1) * elementwiseFLOPs(n, nil)
	},
	Doc: "the sum of inputs of one shape",
}

var mulRow = &Row{
	Op:    spec.Mul,
	Build: (*builder).mul,
	Ref:   func(n *Node, in []Tensor) Tensor { return mul(in[0], in[1]) },
	FLOPs: elementwiseFLOPs,
	Doc:   "the elementwise product of two inputs of one shape, or a CxHxW input scaled channel by channel by a Cx1x1 one",
}

var concatRow = &Row{
	Op: spec.Concat,
	Build: func(b *builder, n *Node, in []Shape) error {
		out := Shape{0, in[0].H, in[0].W}
		for i, s := range in {
			if s.H != out.H || s.W != out.W {
				return diag.Tag(n.Layer.FieldErrorf("inputs", "cannot concatenate %s (%s) with %s (%s): heights and widths differ",
					n.Inputs[i].Name, s, n.Inputs[0].Name, in[0]), ErrShape)
			}
			out.C = int(addSat(int64(out.C), int64(s.C))) // too big is caught by the caller
		}
		n.Shape = out
		return nil
	},
	Ref:   func(n *Node, in []Tensor) Tensor { return concat(in) },
	FLOPs: elementwiseFLOPs,
	Doc:   "inputs joined along channels",
}

// mul multiplies two inputs of one shape elementwise, or scales a C,H,W
// input channel by channel by a C,1,1 one, written in either order (the
// node's first input is then the C,H,W one).
func (b *builder) mul(n *Node, in []Shape) error {
	if in[0] == in[1] {
		n.Shape = in[0]
		return nil
	}
	if in[0].H*in[0].W == 1 && in[1].H*in[1].W != 1 {
		n.Inputs[0], n.Inputs[1] = n.Inputs[1], n.Inputs[0]
		in = []Shape{in[1], in[0]}
	}
	if in[1] != (Shape{in[0].C, 1, 1}) {
		return diag.Tag(n.Layer.FieldErrorf("inputs", "cannot multiply %s (%s) by %s (%s): mul takes two inputs of one shape, or a CxHxW input and a Cx1x1 one",
			n.Inputs[0].Name, in[0], n.Inputs[1].Name, in[1]), ErrShape)
	}
	n.Shape = in[0]
	return nil
}

func add(args []Tensor) Tensor {
	out := NewTensor(args[0].Shape)
	for _, a := range args {
		for i, v := range a.Data {
			out.Data[i] += v
		}
	}
	return out
}

func concat(args []Tensor) Tensor {
	s := args[0].Shape
	s.C = 0
	for _, a := range args {
		s.C += a.C
	}
	out := Tensor{Shape: s, Data: make([]float64, 0, s.Len())}
	for _, a := range args {
		out.Data = append(out.Data, a.Data...)
	}
	return out
}

// mul is x*s elementwise when the shapes agree, else scales each
// channel c of x by s[c] (s is C x 1 x 1).
func mul(x, s Tensor) Tensor {
	out := NewTensor(x.Shape)
	plane := x.H * x.W
	same := x.Shape == s.Shape
	for i, v := range x.Data {
		if same {
			out.Data[i] = v * s.Data[i]
		} else {
			out.Data[i] = v * s.Data[i/plane]
		}
	}
	return out
}
