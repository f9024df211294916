package graph

import "github.com/acgen/acgen/spec"

var linearRow = &Row{
	Op: spec.Linear,
	Build: func(b *builder, n *Node, in []Shape) error {
		lin := &Linear{In: in[0].Len(), Out: n.Layer.Out}
		w := b.weights(n.Layer, "")
		lin.Weight = w.tensor("weight", []int{lin.Out, lin.In})
		lin.Bias = w.optional("bias", []int{lin.Out})
		n.Linear = lin
		n.Shape = Shape{lin.Out, 1, 1}
		return w.err()
	},
	Ref: func(n *Node, in []Tensor) Tensor { return linear(in[0], n.Linear) },
	Tensors: func(n *Node) []Param {
		l := n.Linear
		return optional([]Param{param("weight", &l.Weight, l.Out, l.In)}, param("bias", &l.Bias, l.Out))
	},
	FLOPs: func(n *Node, _ []Shape) float64 { return 2 * float64(n.Linear.In) * float64(n.Linear.Out) },
	Doc:   "nn.Linear on the input flattened in C,H,W order",
}

// Linear is nn.Linear on the input flattened in C,H,W order.
type Linear struct {
	In, Out int
	Weight  []float64 // [Out][In]
	Bias    []float64 // len Out, or nil
}

// LinearConv is l as the 1x1 convolution of its flattened input that the
// kernels compute (sharing l's weights).
func LinearConv(l *Linear) *Conv {
	return &Conv{In: l.In, Out: l.Out, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1, Weight: l.Weight, Bias: l.Bias}
}

// linear is nn.Linear on x flattened in C,H,W order.
func linear(x Tensor, l *Linear) Tensor {
	out := NewTensor(Shape{C: l.Out, H: 1, W: 1})
	for o := 0; o < l.Out; o++ {
		var s float64
		if l.Bias != nil {
			s = l.Bias[o]
		}
		for i, v := range x.Data {
			s += l.Weight[o*l.In+i] * v
		}
		out.Data[o] = s
	}
	return out
}

// FoldBN folds a BatchNorm1d that follows the linear layer into it,
// exactly as Conv.FoldBN does for a convolution: the layer's output
// channels are the BN's.
func (l *Linear) FoldBN(bn *BatchNorm) {
	scale, shift := bn.ScaleShift()
	if l.Bias == nil {
		l.Bias = make([]float64, l.Out)
	}
	for o := 0; o < l.Out; o++ {
		w := l.Weight[o*l.In : (o+1)*l.In]
		for i := range w {
			w[i] *= scale[o]
		}
		l.Bias[o] = l.Bias[o]*scale[o] + shift[o]
	}
}
