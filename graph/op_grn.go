package graph

import (
	"math"

	"github.com/acgen/acgen/spec"
)

// grnRow is global response normalisation, ConvNeXt-V2's GRN as
// UniRepLKNet applies it to a channels-last tensor (GRNwithNHWC): its
// gamma and beta are [1, 1, 1, C], the official shape. Fusion folds beta
// into the bias of a convolution that alone reads the GRN and sees no
// padding (UniRepLKNet's pwconv2), as the official deployed form does.
var grnRow = &Row{
	Op: spec.GRN,
	Build: func(b *builder, n *Node, in []Shape) error {
		c := in[0].C
		w := b.weights(n.Layer, "")
		n.GRN = &GRN{C: c, Eps: n.Layer.Eps}
		n.GRN.Gamma = w.tensor("gamma", []int{1, 1, 1, c})
		n.GRN.Beta = w.optional("beta", []int{1, 1, 1, c})
		n.Shape = in[0]
		return w.err()
	},
	Ref: func(n *Node, in []Tensor) Tensor { return grn(in[0], n.GRN) },
	Tensors: func(n *Node) []Param {
		g := n.GRN
		return optional([]Param{param("gamma", &g.Gamma, 1, 1, 1, g.C)}, param("beta", &g.Beta, 1, 1, 1, g.C))
	},
	FLOPs: func(n *Node, _ []Shape) float64 { return 4 * elementwiseFLOPs(n, nil) },
	Doc:   "global response normalisation (ConvNeXt-V2's GRN): x*(gamma*N + 1) + beta, N each channel's L2 norm over the mean norm",
}

// GRN scales each channel c by gamma[c]*N[c] + 1, where N[c] is the L2
// norm of channel c over the image divided by the mean of all channels'
// norms plus Eps, and adds Beta (nil: absent or folded into the reader).
type GRN struct {
	C           int
	Eps         float64
	Gamma, Beta []float64
}

// Scales are the per-channel factors gamma[c]*N[c] + 1 of input x.
func (g *GRN) Scales(x Tensor) []float64 {
	plane := x.H * x.W
	norm := make([]float64, x.C)
	mean := 0.0
	for c := range norm {
		ss := 0.0
		for _, v := range x.Data[c*plane : (c+1)*plane] {
			ss += v * v
		}
		norm[c] = math.Sqrt(ss)
		mean += norm[c]
	}
	mean /= float64(x.C)
	for c := range norm {
		norm[c] = g.Gamma[c]*(norm[c]/(mean+g.Eps)) + 1
	}
	return norm
}

func grn(x Tensor, g *GRN) Tensor {
	out := NewTensor(x.Shape)
	plane := x.H * x.W
	for c, s := range g.Scales(x) {
		b := 0.0
		if g.Beta != nil {
			b = g.Beta[c]
		}
		for i, v := range x.Data[c*plane : (c+1)*plane] {
			out.Data[c*plane+i] = v*s + b
		}
	}
	return out
}

// FoldInputShift adds to c's bias what a per-channel shift of its input
// (shift[i] added to input channel i) adds to its output: each output
// channel's weights times the shift, summed over its window. Exact only
// when every window lies inside the input (no padding), where each tap
// reads a shifted value.
func (c *Conv) FoldInputShift(shift []float64) {
	if c.Bias == nil {
		c.Bias = make([]float64, c.Out)
	}
	inG, outG, taps := c.In/c.Groups, c.Out/c.Groups, c.KH*c.KW
	for o := 0; o < c.Out; o++ {
		g := o / outG
		sum := 0.0
		for i := 0; i < inG; i++ {
			for _, w := range c.Weight[(o*inG+i)*taps : (o*inG+i+1)*taps] {
				sum += w * shift[g*inG+i]
			}
		}
		c.Bias[o] += sum
	}
}
