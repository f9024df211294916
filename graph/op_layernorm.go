package graph

import (
	"math"

	"github.com/acgen/acgen/spec"
)

// layerNormRow is a LayerNorm over the channels of each pixel: ConvNeXt's
// LayerNorm2d, or nn.LayerNorm(C) between permutes to channels-last and
// back.
var layerNormRow = &Row{
	Op: spec.LayerNorm,
	Build: func(b *builder, n *Node, in []Shape) error {
		c := in[0].C
		w := b.weights(n.Layer, "")
		n.Norm = &LayerNorm{C: c, Eps: n.Layer.Eps}
		n.Norm.Weight = w.optional("weight", []int{c})
		n.Norm.Bias = w.optional("bias", []int{c})
		n.Shape = in[0]
		return w.err()
	},
	Ref: func(n *Node, in []Tensor) Tensor { return layerNorm(in[0], n.Norm) },
	Tensors: func(n *Node) []Param {
		l := n.Norm
		return optional(optional(nil, param("weight", &l.Weight, l.C)), param("bias", &l.Bias, l.C))
	},
	FLOPs: func(n *Node, _ []Shape) float64 { return 7 * elementwiseFLOPs(n, nil) },
	Doc:   "LayerNorm over the channels of each pixel (ConvNeXt's LayerNorm2d)",
}

// LayerNorm normalises the C channels of each pixel to mean 0 and
// variance 1 (the biased variance, as nn.LayerNorm), then scales and
// shifts them by Weight and Bias, each nil when the checkpoint lacks it
// (elementwise_affine=False, bias=False: 1 and 0).
type LayerNorm struct {
	C            int
	Eps          float64
	Weight, Bias []float64
}

func layerNorm(x Tensor, l *LayerNorm) Tensor {
	out := NewTensor(x.Shape)
	plane := x.H * x.W
	for p := 0; p < plane; p++ {
		mean, vr := 0.0, 0.0
		for c := 0; c < x.C; c++ {
			mean += x.Data[c*plane+p]
		}
		mean /= float64(x.C)
		for c := 0; c < x.C; c++ {
			d := x.Data[c*plane+p] - mean
			vr += d * d
		}
		inv := 1 / math.Sqrt(vr/float64(x.C)+l.Eps)
		for c := 0; c < x.C; c++ {
			y := (x.Data[c*plane+p] - mean) * inv
			if l.Weight != nil {
				y *= l.Weight[c]
			}
			if l.Bias != nil {
				y += l.Bias[c]
			}
			out.Data[c*plane+p] = y
		}
	}
	return out
}
