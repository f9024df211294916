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
	Doc:   "nn.MaxPool2d: -inf padding, dilation, ceil_mode",
}

var avgPoolRow = &Row{
	Op:    spec.AvgPool,
	Build: (*builder).pool,
	Ref:   func(n *Node, in []Tensor) Tensor { return avgPool(in[0], n.Pool) },
	FLOPs: poolFLOPs,
	Doc:   "nn.AvgPool2d: ceil_mode, count_include_pad",
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
	return float64(n.Shape.Len()) * float64(n.Pool.KH*n.Pool.KW)
}

// Pool is a max or average pooling window, per axis, as PyTorch's
// MaxPool2d and AvgPool2d take it.
type Pool struct {
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
	DilH, DilW       int // 1 for average pooling, which has none
	// Ceil: the output size is rounded up (ceil_mode), so that the last
	// window may reach past the padded input.
	Ceil bool
	// CountPad: average pooling divides by the window's size within the
	// padded input (count_include_pad, PyTorch's default), else by the
	// number of input values it covers.
	CountPad bool
}

// OutSize is the output height and width for an input of h x w.
func (p *Pool) OutSize(h, w int) (int, int) {
	return poolOut(h, p.KH, p.StrideH, p.PadH, p.DilH, p.Ceil), poolOut(w, p.KW, p.StrideW, p.PadW, p.DilW, p.Ceil)
}

// poolOut is PyTorch's pooling_output_shape: the windows that start
// within the padded input, rounded down, or with ceil up, less the last
// when it would start at or beyond in + pad (in the right padding or
// past it).
func poolOut(in, k, stride, pad, dil int, ceil bool) int {
	span := in + 2*pad - dil*(k-1) - 1
	if span < 0 {
		return 0
	}
	if !ceil {
		return span/stride + 1
	}
	out := ceilDiv(span, stride) + 1
	if (out-1)*stride >= in+pad {
		out--
	}
	return out
}

// Overhang is how far the last window of an axis of n values, with out
// windows, reaches past the padded input: the ceil_mode windows' part
// that PyTorch leaves out of every average's divisor.
func Overhang(in, out, k, stride, pad, dil int) int {
	return max(0, (out-1)*stride-pad+dil*(k-1)+1-(in+pad))
}

func (b *builder) pool(n *Node, ins []Shape) error {
	in, l := ins[0], n.Layer
	p := &Pool{
		KH: l.Kernel.H, KW: l.Kernel.W,
		StrideH: l.Stride.H, StrideW: l.Stride.W,
		PadH: l.Padding.H, PadW: l.Padding.W,
		DilH: 1, DilW: 1,
		Ceil: l.CeilMode, CountPad: l.CountIncludePad,
	}
	if l.Op == spec.MaxPool {
		p.DilH, p.DilW = l.Dilation.H, l.Dilation.W
		p.CountPad = false // average pooling's
	}
	h, w := p.OutSize(in.H, in.W)
	if h < 1 || w < 1 {
		return diag.Tag(l.FieldErrorf("kernel", "a %dx%d window (dilation %s, padding %s) does not fit the %dx%d input",
			p.KH, p.KW, spec.HW{H: p.DilH, W: p.DilW}, l.Padding, in.H, in.W), ErrShape)
	}
	n.Pool = p
	n.Shape = Shape{in.C, h, w}
	return nil
}

// window is output position o's window on one axis: the first input
// index it starts at (in the padding when negative) and the end of its
// span within the padded input, as PyTorch's kernels compute them.
func window(o, in, k, stride, pad, dil int) (start, end int) {
	start = o*stride - pad
	return start, min(start+dil*(k-1)+1, in+pad)
}

// maxPool takes the maximum over each window's input values, skipping
// the padding, which PyTorch fills with -inf.
func maxPool(x Tensor, p *Pool) Tensor {
	oh, ow := p.OutSize(x.H, x.W)
	out := NewTensor(Shape{C: x.C, H: oh, W: ow})
	for c := 0; c < x.C; c++ {
		for oy := 0; oy < oh; oy++ {
			y0, _ := window(oy, x.H, p.KH, p.StrideH, p.PadH, p.DilH)
			for ox := 0; ox < ow; ox++ {
				x0, _ := window(ox, x.W, p.KW, p.StrideW, p.PadW, p.DilW)
				m := math.Inf(-1)
				for ky := 0; ky < p.KH; ky++ {
					iy := y0 + ky*p.DilH
					for kx := 0; kx < p.KW; kx++ {
						ix := x0 + kx*p.DilW
						if iy >= 0 && iy < x.H && ix >= 0 && ix < x.W {
							v := x.at(c, iy, ix)
							if v > m || math.IsNaN(v) {
								m = v
							}
						}
					}
				}
				out.Data[(c*oh+oy)*ow+ox] = m
			}
		}
	}
	return out
}

// avgPool averages each window as PyTorch's avg_pool2d does: the sum of
// the input values it covers, divided with count_include_pad by the
// window's size within the padded input (padding counts, the ceil_mode
// overhang past it does not), else by the number of those values.
func avgPool(x Tensor, p *Pool) Tensor {
	oh, ow := p.OutSize(x.H, x.W)
	out := NewTensor(Shape{C: x.C, H: oh, W: ow})
	for oy := 0; oy < oh; oy++ {
		y0, y1 := window(oy, x.H, p.KH, p.StrideH, p.PadH, 1)
		for ox := 0; ox < ow; ox++ {
			x0, x1 := window(ox, x.W, p.KW, p.StrideW, p.PadW, 1)
			div := (y1 - y0) * (x1 - x0)
			y0, y1, x0, x1 := max(y0, 0), min(y1, x.H), max(x0, 0), min(x1, x.W)
			if !p.CountPad {
				div = (y1 - y0) * (x1 - x0)
			}
			for c := 0; c < x.C; c++ {
				s := 0.0
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						s += x.at(c, iy, ix)
					}
				}
				if div > 0 {
					out.Data[(c*oh+oy)*ow+ox] = s / float64(div)
				}
			}
		}
	}
	return out
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
