package graph_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
)

// poolCases are pooling layers whose output sizes PyTorch 1.13's
// nn.MaxPool2d and nn.AvgPool2d give as out; their values are checked
// against naivePool. (The reference runtime matched PyTorch's values on
// these to 1e-12 when written; PyTorch-made fixtures are to follow.)
var poolCases = []struct {
	layer string
	in    graph.Shape
	out   graph.Shape
}{
	{"{op: maxpool, kernel: 3, stride: 2, ceil_mode: true}", graph.Shape{C: 3, H: 8, W: 7}, graph.Shape{C: 3, H: 4, W: 3}},
	// The last ceil window would start in the padding: dropped.
	{"{op: maxpool, kernel: 2, stride: 2, padding: 1, ceil_mode: true}", graph.Shape{C: 2, H: 5, W: 5}, graph.Shape{C: 2, H: 3, W: 3}},
	{"{op: maxpool, kernel: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [2, 1], ceil_mode: true}", graph.Shape{C: 2, H: 9, W: 6}, graph.Shape{C: 2, H: 4, W: 5}},
	{"{op: maxpool, kernel: 3, stride: 2, padding: 1, dilation: 2}", graph.Shape{C: 2, H: 9, W: 8}, graph.Shape{C: 2, H: 4, W: 3}},
	{"{op: avgpool, kernel: 3, stride: 2, ceil_mode: true}", graph.Shape{C: 3, H: 8, W: 7}, graph.Shape{C: 3, H: 4, W: 3}},
	{"{op: avgpool, kernel: 3, stride: 2, padding: 1, ceil_mode: true}", graph.Shape{C: 2, H: 7, W: 6}, graph.Shape{C: 2, H: 4, W: 4}},
	{"{op: avgpool, kernel: 3, stride: 2, padding: 1, count_include_pad: false}", graph.Shape{C: 2, H: 7, W: 6}, graph.Shape{C: 2, H: 4, W: 3}},
	{"{op: avgpool, kernel: [3, 2], stride: [2, 3], padding: 1, ceil_mode: true, count_include_pad: false}", graph.Shape{C: 2, H: 7, W: 6}, graph.Shape{C: 2, H: 4, W: 3}},
	{"{op: avgpool, kernel: [2, 3], stride: [1, 2], padding: [1, 0]}", graph.Shape{C: 2, H: 9, W: 6}, graph.Shape{C: 2, H: 10, W: 2}},
	{"{op: avgpool, kernel: 2, stride: 2, padding: 1, ceil_mode: true}", graph.Shape{C: 2, H: 5, W: 5}, graph.Shape{C: 2, H: 3, W: 3}},
}

// naivePool is PyTorch's pooling written from its documentation, tap by
// tap in the padded input's coordinates rather than by clipping ranges
// as the reference runtime does: a window covers positions start,
// start+d, ... for k taps; max takes the input values among them; avg
// sums them and divides by, with count_include_pad, the taps inside the
// padded input (those a ceil_mode window has past it do not count),
// else by the input values.
func naivePool(x graph.Tensor, p *graph.Pool, max bool, out graph.Shape) graph.Tensor {
	y := graph.NewTensor(out)
	for c := 0; c < x.C; c++ {
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				m, s, padded, valid := math.Inf(-1), 0.0, 0, 0
				for ky := 0; ky < p.KH; ky++ {
					for kx := 0; kx < p.KW; kx++ {
						iy, ix := oy*p.StrideH-p.PadH+ky*p.DilH, ox*p.StrideW-p.PadW+kx*p.DilW
						if iy < x.H+p.PadH && ix < x.W+p.PadW {
							padded++
						}
						if iy < 0 || iy >= x.H || ix < 0 || ix >= x.W {
							continue
						}
						v := x.Data[(c*x.H+iy)*x.W+ix]
						m = math.Max(m, v)
						s += v
						valid++
					}
				}
				div := valid
				if p.CountPad {
					div = padded
				}
				v := s / float64(div)
				if max {
					v = m
				}
				y.Data[(c*out.H+oy)*out.W+ox] = v
			}
		}
	}
	return y
}

// TestPools: ceil_mode (PyTorch's rule, dropping a last window that
// would start in the padding), count_include_pad, dilation and windows
// per axis give PyTorch's output sizes and naivePool's values.
func TestPools(t *testing.T) {
	for _, c := range poolCases {
		net := parseNet(t, fmt.Sprintf("input: [%d, %d, %d]\nlayers:\n  - %s\n", c.in.C, c.in.H, c.in.W, c.layer))
		g, err := graph.Build(net, synthFile(t, net), graph.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.layer, err)
		}
		n := g.Nodes[0]
		if n.Shape != c.out {
			t.Errorf("%s on %s: %s, PyTorch %s", c.layer, c.in, n.Shape, c.out)
			continue
		}
		x := graph.Tensor{Shape: c.in, Data: make([]float64, c.in.Len())}
		for i := range x.Data {
			x.Data[i] = math.Sin(float64(i)*0.7) * 3
		}
		got, err := ref.Run(g, x.Data)
		if err != nil {
			t.Fatal(err)
		}
		want := naivePool(x, n.Pool, n.Op == "maxpool", c.out)
		for i := range got {
			if math.Abs(got[i]-want.Data[i]) > 1e-12 {
				t.Errorf("%s: value %d is %g, want %g", c.layer, i, got[i], want.Data[i])
				break
			}
		}
	}
}

// TestAdaptiveAvgPool: adaptive average pooling to sizes that divide the
// input, do not (windows of different sizes, overlapping), exceed it
// (AlexNet's 6x6 on a small input: values repeated) and 1x1, against
// PyTorch's window rule computed in floating point.
func TestAdaptiveAvgPool(t *testing.T) {
	for _, c := range []struct{ in, out graph.Shape }{
		{graph.Shape{C: 2, H: 11, W: 10}, graph.Shape{C: 2, H: 4, W: 3}},
		{graph.Shape{C: 2, H: 5, W: 3}, graph.Shape{C: 2, H: 7, W: 6}},
		{graph.Shape{C: 3, H: 12, W: 10}, graph.Shape{C: 3, H: 6, W: 5}},
		{graph.Shape{C: 2, H: 7, W: 9}, graph.Shape{C: 2, H: 1, W: 1}},
	} {
		net := parseNet(t, fmt.Sprintf("input: [%d, %d, %d]\nlayers:\n  - {op: adaptive_avgpool, size: [%d, %d]}\n", c.in.C, c.in.H, c.in.W, c.out.H, c.out.W))
		g, err := graph.Build(net, synthFile(t, net), graph.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if g.Output.Shape != c.out {
			t.Errorf("%s to %s: shape %s", c.in, c.out, g.Output.Shape)
		}
		x := make([]float64, c.in.Len())
		for i := range x {
			x[i] = math.Sin(float64(i)*0.7) * 3
		}
		got, err := ref.Run(g, x)
		if err != nil {
			t.Fatal(err)
		}
		bounds := func(i, in, out int) (int, int) {
			return int(math.Floor(float64(i*in) / float64(out))), int(math.Ceil(float64((i+1)*in) / float64(out)))
		}
		for ch := 0; ch < c.in.C; ch++ {
			for oy := 0; oy < c.out.H; oy++ {
				y0, y1 := bounds(oy, c.in.H, c.out.H)
				for ox := 0; ox < c.out.W; ox++ {
					x0, x1 := bounds(ox, c.in.W, c.out.W)
					s := 0.0
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							s += x[(ch*c.in.H+iy)*c.in.W+ix]
						}
					}
					want := s / float64((y1-y0)*(x1-x0))
					if v := got[(ch*c.out.H+oy)*c.out.W+ox]; math.Abs(v-want) > 1e-12 {
						t.Fatalf("%s to %s: output (%d, %d, %d) is %g, want %g", c.in, c.out, ch, oy, ox, v, want)
					}
				}
			}
		}
	}
}
