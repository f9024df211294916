package graph

import (
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

var convRow = &Row{
	Op:      spec.Conv,
	Build:   (*builder).conv,
	Ref:     func(n *Node, in []Tensor) Tensor { return conv(in[0], n.Conv) },
	Tensors: func(n *Node) []Param { return n.Conv.tensors("") },
	FLOPs:   func(n *Node, _ []Shape) float64 { return n.Conv.flops(n.Shape) },
	Doc:     "nn.Conv2d",
}

// Conv is a 2-D convolution with zero padding, PyTorch's nn.Conv2d.
type Conv struct {
	In, Out          int // channels
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int // zeros added on each side
	DilH, DilW       int
	Groups           int
	Weight           []float64 // [Out][In/Groups][KH][KW]
	Bias             []float64 // len Out, or nil

	// LinearWeight: the checkpoint holds the weight as nn.Linear's
	// [Out][In], the same values as [Out][In][1][1]: a 1x1 convolution
	// written as a linear layer on channels-last values between two
	// permutes (ConvNeXt's pointwise layers).
	LinearWeight bool
}

// OutSize is the output height and width for an input of h x w.
func (c *Conv) OutSize(h, w int) (int, int) {
	return convOut(h, c.KH, c.StrideH, c.PadH, c.DilH), convOut(w, c.KW, c.StrideW, c.PadW, c.DilW)
}

func convOut(in, k, stride, pad, dil int) int {
	span := in + 2*pad - dil*(k-1) - 1
	if span < 0 {
		return 0
	}
	return span/stride + 1
}

// WeightShape is the PyTorch shape of the weight.
func (c *Conv) WeightShape() []int { return []int{c.Out, c.In / c.Groups, c.KH, c.KW} }

// tensors lists c's weight and bias under prefix sub (a block's branch),
// in the shapes the checkpoint holds them.
func (c *Conv) tensors(sub string) []Param {
	shape := c.WeightShape()
	if c.LinearWeight {
		shape = shape[:2]
	}
	return optional([]Param{param(sub+"weight", &c.Weight, shape...)}, param(sub+"bias", &c.Bias, c.Out))
}

// flops is c's multiply-adds, twice, computing an output of shape out.
func (c *Conv) flops(out Shape) float64 {
	return 2 * float64(out.Len()) * float64(c.In/c.Groups*c.KH*c.KW)
}

// Geometry is c without its weights and bias.
func (c *Conv) Geometry() Conv {
	g := *c
	g.Weight, g.Bias = nil, nil
	return g
}

// geometryOf is c without its weights, with a bias to come (folding
// always makes one): the convolution a block folds to, before its
// weights are read.
func geometryOf(c *Conv) Conv {
	g := *c
	g.Weight, g.Bias = unloaded, unloaded
	return g
}

// geometry is a convolution's shape without weights, as the spec gives it.
func geometry(l *spec.Layer, in Shape) Conv {
	return Conv{
		In: in.C, Out: l.Out,
		KH: l.Kernel.H, KW: l.Kernel.W,
		StrideH: l.Stride.H, StrideW: l.Stride.W,
		PadH: l.Padding.H, PadW: l.Padding.W,
		DilH: l.Dilation.H, DilW: l.Dilation.W,
		Groups: l.Groups,
	}
}

// checkConv checks that a convolution fits its input and sets the node's
// output shape.
func checkConv(n *Node, c *Conv, in Shape) error {
	l := n.Layer
	if c.In%c.Groups != 0 {
		return diag.Tag(l.FieldErrorf("groups", "the input has %d channels, not a multiple of groups %d", c.In, c.Groups), ErrShape)
	}
	h, w := c.OutSize(in.H, in.W)
	if h < 1 || w < 1 {
		return diag.Tag(l.FieldErrorf("kernel", "a %dx%d kernel (dilation %s, padding %s) does not fit the %dx%d input",
			c.KH, c.KW, spec.HW{H: c.DilH, W: c.DilW}, spec.HW{H: c.PadH, W: c.PadW}, in.H, in.W), ErrShape)
	}
	n.Shape = Shape{c.Out, h, w}
	return nil
}

func (b *builder) conv(n *Node, in []Shape) error {
	c := geometry(n.Layer, in[0])
	if err := checkConv(n, &c, in[0]); err != nil {
		return err
	}
	w := b.weights(n.Layer, "")
	if c.KH == 1 && c.KW == 1 && c.Groups == 1 {
		// nn.Linear's [out, in] is a 1x1 convolution's weight too.
		var shape []int
		c.Weight, shape = w.tensorOf("weight", c.WeightShape(), []int{c.Out, c.In})
		c.LinearWeight = len(shape) == 2
	} else {
		c.Weight = w.tensor("weight", c.WeightShape())
	}
	c.Bias = w.optional("bias", []int{c.Out})
	n.Conv = &c
	return w.err()
}
