package graph

import "github.com/acgen/acgen/spec"

// scaleRow multiplies each channel by a learned parameter whose
// checkpoint key is the layer's prefix itself, of shape [C, 1, 1] or
// [C] (ConvNeXt's layer scale, nn.Parameter gamma). Fusion folds it
// into the convolution or linear layer before it when that has no other
// reader; else it runs as an affine step.
var scaleRow = &Row{
	Op: spec.Scale,
	Build: func(b *builder, n *Node, in []Shape) error {
		c := in[0].C
		w := b.parameter(n.Layer)
		a := &Affine{}
		a.Scale, a.ScaleShape = w.tensorOf("", []int{c, 1, 1}, []int{c})
		a.Shift = make([]float64, c)
		n.Affine = a
		n.Shape = in[0]
		return w.err()
	},
	Ref: func(n *Node, in []Tensor) Tensor { return affine(in[0], n.Affine.Scale, n.Affine.Shift) },
	Tensors: func(n *Node) []Param {
		return []Param{param("", &n.Affine.Scale, n.Affine.ScaleShape...)}
	},
	FLOPs: elementwiseFLOPs,
	Doc:   "each channel times a learned parameter keyed by the layer's prefix (a layer scale)",
}

// FoldScale multiplies c's output channel o by scale[o]: a scale layer
// that alone reads c.
func (c *Conv) FoldScale(scale []float64) {
	per := len(c.Weight) / c.Out
	for o := 0; o < c.Out; o++ {
		for i := range c.Weight[o*per : (o+1)*per] {
			c.Weight[o*per+i] *= scale[o]
		}
		if c.Bias != nil {
			c.Bias[o] *= scale[o]
		}
	}
}

// FoldScale is Conv.FoldScale for a linear layer.
func (l *Linear) FoldScale(scale []float64) {
	for o := 0; o < l.Out; o++ {
		for i := range l.Weight[o*l.In : (o+1)*l.In] {
			l.Weight[o*l.In+i] *= scale[o]
		}
		if l.Bias != nil {
			l.Bias[o] *= scale[o]
		}
	}
}
