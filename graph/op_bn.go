package graph

import (
	"math"

	"github.com/acgen/acgen/spec"
)

// bnRow is a standalone BatchNorm. Fusion folds it into the convolution
// or linear layer before it when nothing else reads that layer (see
// package fuse), else turns it into an affine op.
var bnRow = &Row{
	Op: spec.BN,
	Build: func(b *builder, n *Node, in []Shape) error {
		w := b.weights(n.Layer, "")
		bn := w.batchNorm("", in[0].C, n.Layer.Eps)
		n.BN = &bn
		n.Shape = in[0]
		return w.err()
	},
	Ref:     func(n *Node, in []Tensor) Tensor { return batchNorm(in[0], n.BN) },
	Tensors: func(n *Node) []Param { return n.BN.tensors("") },
	FLOPs:   elementwiseFLOPs,
	Fused:   true,
	Doc:     "nn.BatchNorm2d in eval mode",
}

// BatchNorm is nn.BatchNorm2d in eval mode: y = (x-mean)/sqrt(var+eps)*gamma + beta.
type BatchNorm struct {
	C           int
	Gamma, Beta []float64 // nil when the BN was not affine (gamma 1, beta 0)
	Mean, Var   []float64
	Eps         float64
}

// ScaleShift returns t and u with y = x*t + u, per channel, in float64.
func (bn *BatchNorm) ScaleShift() (scale, shift []float64) {
	scale = make([]float64, bn.C)
	shift = make([]float64, bn.C)
	for c := range scale {
		t := 1 / math.Sqrt(bn.Var[c]+bn.Eps)
		if bn.Gamma != nil {
			t *= bn.Gamma[c]
		}
		scale[c] = t
		shift[c] = -bn.Mean[c] * t
		if bn.Beta != nil {
			shift[c] += bn.Beta[c]
		}
	}
	return scale, shift
}

// tensors lists bn's tensors under prefix sub, as a BatchNorm2d's
// state_dict names them.
func (bn *BatchNorm) tensors(sub string) []Param {
	ps := optional(nil, param(sub+"weight", &bn.Gamma, bn.C))
	ps = optional(ps, param(sub+"bias", &bn.Beta, bn.C))
	mean, vr := param(sub+"running_mean", &bn.Mean, bn.C), param(sub+"running_var", &bn.Var, bn.C)
	mean.Buffer, vr.Buffer = true, true
	return append(ps, mean, vr)
}

// batchNorm is nn.BatchNorm2d in eval mode, written as PyTorch defines it.
func batchNorm(x Tensor, bn *BatchNorm) Tensor {
	out := NewTensor(x.Shape)
	hw := x.H * x.W
	for c := 0; c < x.C; c++ {
		inv := 1 / math.Sqrt(bn.Var[c]+bn.Eps)
		gamma, beta := 1.0, 0.0
		if bn.Gamma != nil {
			gamma, beta = bn.Gamma[c], bn.Beta[c]
		}
		for i := c * hw; i < (c+1)*hw; i++ {
			out.Data[i] = (x.Data[i]-bn.Mean[c])*inv*gamma + beta
		}
	}
	return out
}

// FoldBN folds a BatchNorm that reads c's output into c, in place.
func (c *Conv) FoldBN(bn *BatchNorm) {
	scale, shift := bn.ScaleShift()
	if c.Bias == nil {
		c.Bias = make([]float64, c.Out)
	}
	per := len(c.Weight) / c.Out
	for o := 0; o < c.Out; o++ {
		w := c.Weight[o*per : (o+1)*per]
		for i := range w {
			w[i] *= scale[o]
		}
		c.Bias[o] = c.Bias[o]*scale[o] + shift[o]
	}
}

// foldedCopy returns conv with bn folded in: W*t and (b-mean)*t+beta.
// The result always has a bias.
func foldedCopy(conv *Conv, bn *BatchNorm) *Conv {
	c := *conv
	c.Weight = append([]float64(nil), conv.Weight...)
	if conv.Bias != nil {
		c.Bias = append([]float64(nil), conv.Bias...)
	} else {
		c.Bias = make([]float64, c.Out)
	}
	c.FoldBN(bn)
	return &c
}

// addCentre adds a 1x1 convolution of the same geometry into dst's
// centre tap, and its bias into dst's (the DBB paper's transform VI).
func addCentre(dst, one *Conv) {
	k := dst.KH
	taps := dst.In / dst.Groups
	centre := (k/2)*k + k/2
	for o := 0; o < dst.Out; o++ {
		for i := 0; i < taps; i++ {
			dst.Weight[(o*taps+i)*k*k+centre] += one.Weight[o*taps+i]
		}
		dst.Bias[o] += one.Bias[o]
	}
}
