package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/acgen/acgen/graph"
)

// TestConv32: the float32 emulation of a convolution is the convolution
// to float32's accuracy, on shapes with groups, strides, padding,
// dilation and odd channel and pixel counts, and its values are
// float32s.
func TestConv32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []graph.Conv{
		{In: 7, Out: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1},
		{In: 8, Out: 6, KH: 1, KW: 7, StrideH: 2, StrideW: 1, PadH: 0, PadW: 3, DilH: 1, DilW: 1, Groups: 2},
		{In: 4, Out: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 2, PadH: 2, PadW: 2, DilH: 2, DilW: 2, Groups: 4},
	} {
		c.Weight = make([]float64, c.Out*c.In/c.Groups*c.KH*c.KW)
		for i := range c.Weight {
			c.Weight[i] = rng.NormFloat64()
		}
		c.Bias = make([]float64, c.Out)
		for i := range c.Bias {
			c.Bias[i] = rng.NormFloat64()
		}
		x := graph.NewTensor(graph.Shape{C: c.In, H: 9, W: 11})
		for i := range x.Data {
			x.Data[i] = rng.NormFloat64()
		}
		want, got := naiveConv(x, &c), graph.Conv32(x, &c, 2)
		if got.Shape != want.Shape {
			t.Fatalf("%+v: shape %v, want %v", c, got.Shape, want.Shape)
		}
		for i, w := range want.Data {
			g := got.Data[i]
			if float64(float32(g)) != g {
				t.Fatalf("%+v: output %d is %v, not a float32", c, i, g)
			}
			// Each of k terms of size about 1 is off by up to k ulps.
			if k := float64(c.In / c.Groups * c.KH * c.KW); math.Abs(g-w) > 4*k*0x1p-24*(1+math.Abs(w)) {
				t.Fatalf("%+v: output %d is %v, want %v", c, i, g, w)
			}
		}
	}
}

// TestConv32Chains: a layer of thousands of products summed in chains
// of 16 channels, as the kernels sum them, errs less than in one chain
// (the emulation's direct baseline must not err more than the kernels).
func TestConv32Chains(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := graph.Conv{In: 2048, Out: 8, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1}
	c.Weight = make([]float64, c.Out*c.In)
	for i := range c.Weight {
		c.Weight[i] = rng.Float64() // all positive: the sums grow, and so do one chain's roundings
	}
	x := graph.NewTensor(graph.Shape{C: c.In, H: 4, W: 4})
	for i := range x.Data {
		x.Data[i] = rng.Float64()
	}
	want := naiveConv(x, &c)
	rms := func(chain int) float64 {
		got := graph.Conv32(x, &c, chain)
		var s float64
		for i, w := range want.Data {
			s += (got.Data[i] - w) * (got.Data[i] - w)
		}
		return math.Sqrt(s / float64(len(want.Data)))
	}
	if one, chained := rms(0), rms(16); !(chained < one/2) {
		t.Errorf("error in chains of 16 channels %.3g, in one chain %.3g: want less than half", chained, one)
	}
}
