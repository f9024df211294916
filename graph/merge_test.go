package graph_test

import (
	"math"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
)

// TestMul: mul of two inputs of one shape multiplies value by value
// (x * hardsigmoid(x), in either order); of a CxHxW and a Cx1x1 input,
// it scales each channel, in either order.
func TestMul(t *testing.T) {
	net := parseNet(t, `input: [3, 4, 5]
layers:
  - {name: x, op: relu6}
  - {name: h, op: hardsigmoid}
  - {name: hx, op: mul, inputs: [h, x]}
  - {name: xh, op: mul, inputs: [x, h]}
  - {name: g, op: global_avgpool, inputs: [x]}
  - {name: gx, op: mul, inputs: [g, x]}
  - {name: sum, op: add, inputs: [hx, xh, gx]}
`)
	g, err := graph.Build(net, synthFile(t, net), graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float64, g.Input.Len())
	for i := range in {
		in[i] = 4 * math.Sin(float64(i))
	}
	got, err := ref.Run(g, in)
	if err != nil {
		t.Fatal(err)
	}
	for c := 0; c < 3; c++ {
		mean := 0.0
		for i := 0; i < 20; i++ {
			mean += min(max(in[c*20+i], 0), 6) / 20
		}
		for i := 0; i < 20; i++ {
			x := min(max(in[c*20+i], 0), 6)
			want := 2*x*min(max(x+3, 0), 6)/6 + x*mean
			if v := got[c*20+i]; math.Abs(v-want) > 1e-12 {
				t.Fatalf("value (%d, %d) is %g, want %g", c, i, v, want)
			}
		}
	}
}
