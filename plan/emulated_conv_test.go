package plan

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/acgen/acgen/graph"
)

// randomConv is a 3x3 stride-1 convolution of in to out channels with
// N(0,1) weights and biases, and an input of h x w with N(0,1) values.
func randomConv(rng *rand.Rand, in, out, pad, h, w int) (*graph.Conv, []float64, graph.Shape) {
	c := &graph.Conv{In: in, Out: out, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: pad, PadW: pad, DilH: 1, DilW: 1, Groups: 1}
	c.Weight = make([]float64, out*in*9)
	for i := range c.Weight {
		c.Weight[i] = rng.NormFloat64()
	}
	c.Bias = make([]float64, out)
	for i := range c.Bias {
		c.Bias[i] = rng.NormFloat64()
	}
	sh := graph.Shape{C: in, H: h, W: w}
	x := make([]float64, sh.Len())
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return c, x, sh
}

// TestWinogradConv32: the emulated Winograd kernels compute the
// convolution, to within the rounding F(m) amplifies, on maps whose
// sides are and are not multiples of the tile, with and without
// padding, for both tile sizes and more channels than one chain.
func TestWinogradConv32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range []int{2, 4} {
		for _, tc := range []struct{ in, out, pad, h, w int }{{8, 8, 1, 8, 8}, {40, 5, 1, 7, 10}, {9, 3, 0, 9, 6}} {
			c, x, sh := randomConv(rng, tc.in, tc.out, tc.pad, tc.h, tc.w)
			want := graph.Conv32(graph.Tensor{Shape: sh, Data: x}, c, 0)
			got := WinogradConv32(c, x, sh, m)
			if len(got) != len(want.Data) {
				t.Fatalf("F(%d) %+v: %d outputs, want %d", m, tc, len(got), len(want.Data))
			}
			scale := math.Sqrt(float64(9 * tc.in))
			for i, w := range want.Data {
				if g := got[i]; math.Abs(g-w) > 1e-4*scale || float64(float32(g)) != g {
					t.Fatalf("F(%d) %+v: output %d is %v, want %v", m, tc, i, g, w)
				}
			}
		}
	}
}
