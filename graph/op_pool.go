package graph

import (
	"math"

	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

var maxPoolRow = &Row{
	Op:    spec.MaxPool,
	Build: (*builder).pool,
	Ref:   func(n *Node, in []Tensor) Tensor { return maxPool(in[0], n.Pool) },
	FLOPs: poolFLOPs,
	Doc:   "nn.MaxPool2d: -inf padding",
}

var avgPoolRow = &Row{
	Op:    spec.AvgPool,
	Build: (*builder).pool,
	Ref:   func(n *Node, in []Tensor) Tensor { return avgPool(in[0], n.Pool) },
	FLOPs: poolFLOPs,
	Doc:   "nn.AvgPool2d: padding counted as zeros",
}

var globalAvgPoolRow = &Row{
	Op: spec.GlobalAvgPool,
	Build: func(b *builder, n *Node, in []Shape) error {
		n.Shape = Shape{in[0].C, 1, 1}
		return nil
	},
	Ref:   func(n *Node, in []Tensor) Tensor { return globalAvgPool(in[0]) },
	FLOPs: func(n *Node, in []Shape) float64 { return float64(in[0].Len()) },
	Doc:   "the mean of each channel (nn.AdaptiveAvgPool2d(1))",
}

func poolFLOPs(n *Node, _ []Shape) float64 {
	return float64(n.Shape.Len()) * float64(n.Pool.K*n.Pool.K)
}

// Pool is a max or average pooling window. Average pooling counts padded
// zeros, like PyTorch's default count_include_pad=True.
type Pool struct {
	K, Stride, Pad int
}

// OutSize is the output height and width for an input of h x w.
func (p *Pool) OutSize(h, w int) (int, int) {
	return convOut(h, p.K, p.Stride, p.Pad, 1), convOut(w, p.K, p.Stride, p.Pad, 1)
}

func (b *builder) pool(n *Node, ins []Shape) error {
	in, l := ins[0], n.Layer
	if !l.Kernel.Square() || !l.Stride.Square() || !l.Padding.Square() || l.Dilation != (spec.HW{H: 1, W: 1}) || l.CeilMode || !l.CountIncludePad {
		return diag.Tag(l.Errorf("pooling per axis, with dilation, ceil_mode or count_include_pad false is not supported yet"), ErrShape)
	}
	p := &Pool{K: l.Kernel.H, Stride: l.Stride.H, Pad: l.Padding.H}
	h, w := p.OutSize(in.H, in.W)
	if h < 1 || w < 1 {
		return diag.Tag(l.FieldErrorf("kernel", "a %dx%d window with padding %d does not fit the %dx%d input",
			p.K, p.K, p.Pad, in.H, in.W), ErrShape)
	}
	n.Pool = p
	n.Shape = Shape{in.C, h, w}
	return nil
}

// pool visits each output position's window, clipped to the input; the
// padded positions are left to the caller.
func pool(x Tensor, p *Pool, start float64, f func(acc, v float64) float64, finish func(acc float64) float64) Tensor {
	oh, ow := p.OutSize(x.H, x.W)
	out := NewTensor(Shape{C: x.C, H: oh, W: ow})
	for c := 0; c < x.C; c++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				acc := start
				for ky := 0; ky < p.K; ky++ {
					iy := oy*p.Stride - p.Pad + ky
					for kx := 0; kx < p.K; kx++ {
						ix := ox*p.Stride - p.Pad + kx
						if iy >= 0 && iy < x.H && ix >= 0 && ix < x.W {
							acc = f(acc, x.at(c, iy, ix))
						}
					}
				}
				out.Data[(c*oh+oy)*ow+ox] = finish(acc)
			}
		}
	}
	return out
}

// maxPool pads with -inf, as PyTorch does.
func maxPool(x Tensor, p *Pool) Tensor {
	return pool(x, p, math.Inf(-1), math.Max, func(a float64) float64 { return a })
}

// avgPool counts padded zeros in the divisor (count_include_pad=True);
// without ceil_mode every window lies within the padded input, so the
// divisor is always K*K.
func avgPool(x Tensor, p *Pool) Tensor {
	n := float64(p.K * p.K)
	return pool(x, p, 0, func(a, v float64) float64 { return a + v }, func(a float64) float64 { return a / n })
}

func globalAvgPool(x Tensor) Tensor {
	out := NewTensor(Shape{C: x.C, H: 1, W: 1})
	hw := x.H * x.W
	for c := range out.Data {
		var s float64
		for _, v := range x.Data[c*hw : (c+1)*hw] {
			s += v
		}
		out.Data[c] = s / float64(hw)
	}
	return out
}
