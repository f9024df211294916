package graph

import (
	"math"
	"math/rand/v2"
	"testing"
)

// directConv is nn.Conv2d written as its definition: every output a sum
// over input channels and taps inside the input, nothing else.
func directConv(x Tensor, c *Conv) Tensor {
	oh, ow := c.OutSize(x.H, x.W)
	out := NewTensor(Shape{C: c.Out, H: oh, W: ow})
	inPer, outPer := c.In/c.Groups, c.Out/c.Groups
	for o := 0; o < c.Out; o++ {
		g := o / outPer
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				var s float64
				if c.Bias != nil {
					s = c.Bias[o]
				}
				for ic := 0; ic < inPer; ic++ {
					for ky := 0; ky < c.KH; ky++ {
						for kx := 0; kx < c.KW; kx++ {
							iy, ix := oy*c.StrideH-c.PadH+ky*c.DilH, ox*c.StrideW-c.PadW+kx*c.DilW
							if iy >= 0 && iy < x.H && ix >= 0 && ix < x.W {
								s += c.Weight[((o*inPer+ic)*c.KH+ky)*c.KW+kx] * x.at(g*inPer+ic, iy, ix)
							}
						}
					}
				}
				out.Data[(o*oh+oy)*ow+ox] = s
			}
		}
	}
	return out
}

// TestConv: the reference convolution equals its definition over odd
// shapes, strides, dilations, paddings per axis and groups.
func TestConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []Conv{
		{In: 3, Out: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1},
		{In: 6, Out: 9, KH: 1, KW: 7, StrideH: 1, StrideW: 2, PadH: 0, PadW: 3, DilH: 1, DilW: 1, Groups: 3},
		{In: 4, Out: 4, KH: 5, KW: 3, StrideH: 2, StrideW: 1, PadH: 2, PadW: 0, DilH: 2, DilW: 1, Groups: 4},
		{In: 2, Out: 7, KH: 2, KW: 2, StrideH: 3, StrideW: 3, PadH: 0, PadW: 1, DilH: 1, DilW: 2, Groups: 1},
		{In: 10, Out: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 0, PadW: 0, DilH: 1, DilW: 1, Groups: 2},
	} {
		x := NewTensor(Shape{C: c.In, H: 11, W: 13})
		for i := range x.Data {
			x.Data[i] = rng.NormFloat64()
		}
		c.Weight = make([]float64, c.Out*c.In/c.Groups*c.KH*c.KW)
		for i := range c.Weight {
			c.Weight[i] = rng.NormFloat64()
		}
		for _, bias := range []bool{false, true} {
			c.Bias = nil
			if bias {
				c.Bias = make([]float64, c.Out)
				for i := range c.Bias {
					c.Bias[i] = rng.NormFloat64()
				}
			}
			got, want := conv(x, &c), directConv(x, &c)
			if got.Shape != want.Shape {
				t.Fatalf("%+v: shape %v, want %v", c.Geometry(), got.Shape, want.Shape)
			}
			for i := range want.Data {
				if got.Data[i] != want.Data[i] && math.Abs(got.Data[i]-want.Data[i]) > 1e-12*math.Max(1, math.Abs(want.Data[i])) {
					t.Fatalf("%+v bias %v: [%d] %v, want %v", c.Geometry(), bias, i, got.Data[i], want.Data[i])
				}
			}
		}
	}
}

func BenchmarkConv(b *testing.B) {
	c := Conv{In: 64, Out: 64, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1}
	c.Weight = make([]float64, 64*64*9)
	x := NewTensor(Shape{C: 64, H: 56, W: 56})
	b.SetBytes(int64(2 * 64 * 56 * 56 * 64 * 9)) // FLOPs, as "bytes"
	for b.Loop() {
		conv(x, &c)
	}
}

func BenchmarkConvDeep(b *testing.B) {
	c := Conv{In: 512, Out: 512, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1}
	c.Weight = make([]float64, 512*512*9)
	x := NewTensor(Shape{C: 512, H: 14, W: 14})
	b.SetBytes(int64(2 * 512 * 14 * 14 * 512 * 9)) // FLOPs, as "bytes"
	for b.Loop() {
		conv(x, &c)
	}
}
