package graph

import "github.com/acgen/acgen/spec"

var adaptiveAvgPoolRow = &Row{
	Op: spec.AdaptiveAvgPool,
	Build: func(b *builder, n *Node, in []Shape) error {
		n.Shape = Shape{in[0].C, n.Layer.Size.H, n.Layer.Size.W}
		return nil
	},
	Ref: func(n *Node, in []Tensor) Tensor { return adaptiveAvgPool(in[0], n.Shape) },
	FLOPs: func(n *Node, in []Shape) float64 {
		// Each window spans at most ceil(in/out)+1 values per axis.
		kh, kw := in[0].H/n.Shape.H+2, in[0].W/n.Shape.W+2
		return float64(n.Shape.Len() * kh * kw)
	},
	Doc: "nn.AdaptiveAvgPool2d: windows from floor(i*in/out) to ceil((i+1)*in/out)",
}

// AdaptiveWindow is output i's window on an axis of in values pooled to
// out: from floor(i*in/out) to ceil((i+1)*in/out), exclusive, as
// PyTorch's adaptive pooling takes it. Windows of neighbours overlap
// where out does not divide in, and repeat values where out > in.
func AdaptiveWindow(i, in, out int) (start, end int) {
	return i * in / out, ceilDiv((i+1)*in, out)
}

// adaptiveAvgPool averages each output's window of x.
func adaptiveAvgPool(x Tensor, out Shape) Tensor {
	y := NewTensor(out)
	for oy := 0; oy < out.H; oy++ {
		y0, y1 := AdaptiveWindow(oy, x.H, out.H)
		for ox := 0; ox < out.W; ox++ {
			x0, x1 := AdaptiveWindow(ox, x.W, out.W)
			n := float64((y1 - y0) * (x1 - x0))
			for c := 0; c < x.C; c++ {
				s := 0.0
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						s += x.at(c, iy, ix)
					}
				}
				y.Data[(c*out.H+oy)*out.W+ox] = s / n
			}
		}
	}
	return y
}
