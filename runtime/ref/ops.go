package ref

import (
	"math"

	"github.com/acgen/acgen/graph"
)

// batchNorm is nn.BatchNorm2d in eval mode, written as PyTorch defines it.
func batchNorm(x Tensor, bn *graph.BatchNorm) Tensor {
	out := newTensor(x.Shape)
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

func affine(x Tensor, scale, shift []float64) Tensor {
	out := newTensor(x.Shape)
	hw := x.H * x.W
	for i, v := range x.Data {
		c := i / hw
		out.Data[i] = v*scale[c] + shift[c]
	}
	return out
}

// linear is nn.Linear on x flattened in C,H,W order.
func linear(x Tensor, l *graph.Linear) Tensor {
	out := newTensor(graph.Shape{C: l.Out, H: 1, W: 1})
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

func mapValues(x Tensor, f func(float64) float64) Tensor {
	out := newTensor(x.Shape)
	for i, v := range x.Data {
		out.Data[i] = f(v)
	}
	return out
}

// pool visits each output position's window, clipped to the input; the
// padded positions are left to the caller.
func pool(x Tensor, p *graph.Pool, start float64, f func(acc, v float64) float64, finish func(acc float64) float64) Tensor {
	oh, ow := p.OutSize(x.H, x.W)
	out := newTensor(graph.Shape{C: x.C, H: oh, W: ow})
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
func maxPool(x Tensor, p *graph.Pool) Tensor {
	return pool(x, p, math.Inf(-1), math.Max, func(a float64) float64 { return a })
}

// avgPool counts padded zeros in the divisor (count_include_pad=True);
// without ceil_mode every window lies within the padded input, so the
// divisor is always K*K.
func avgPool(x Tensor, p *graph.Pool) Tensor {
	n := float64(p.K * p.K)
	return pool(x, p, 0, func(a, v float64) float64 { return a + v }, func(a float64) float64 { return a / n })
}

func globalAvgPool(x Tensor) Tensor {
	out := newTensor(graph.Shape{C: x.C, H: 1, W: 1})
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

func add(args []Tensor) Tensor {
	out := newTensor(args[0].Shape)
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

// mul scales each channel c of x by s[c] (s is C x 1 x 1).
func mul(x, s Tensor) Tensor {
	out := newTensor(x.Shape)
	plane := x.H * x.W
	for i, v := range x.Data {
		out.Data[i] = v * s.Data[i/plane]
	}
	return out
}
