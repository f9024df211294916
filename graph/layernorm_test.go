package graph_test

import (
	"math"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
)

// TestLayerNorm: without weight and bias every pixel's channels come out
// with mean 0 and variance var/(var+eps) (nn.LayerNorm's biased
// variance); with them, those values times the weight plus the bias.
// (The reference runtime matched PyTorch's LayerNorm between permutes to
// 1e-15 when written.)
func TestLayerNorm(t *testing.T) {
	net := parseNet(t, "input: [5, 3, 4]\nlayers:\n  - {name: ln, op: layernorm, eps: 0.5}\n")
	ck := synthFile(t, net)
	in := make([]float64, 60)
	for i := range in {
		in[i] = math.Sin(float64(i)*0.7)*3 + 1
	}
	plain := ck.Tensors
	w, b := plain["ln.weight"], plain["ln.bias"]
	delete(plain, "ln.weight")
	delete(plain, "ln.bias")
	g, err := graph.Build(net, ck, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	z, err := ref.Run(g, in)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < 12; p++ {
		mean, vr, zm, zv := 0.0, 0.0, 0.0, 0.0
		for c := 0; c < 5; c++ {
			mean += in[c*12+p] / 5
			zm += z[c*12+p] / 5
		}
		for c := 0; c < 5; c++ {
			vr += (in[c*12+p] - mean) * (in[c*12+p] - mean) / 5
			zv += (z[c*12+p] - zm) * (z[c*12+p] - zm) / 5
		}
		if math.Abs(zm) > 1e-12 || math.Abs(zv-vr/(vr+0.5)) > 1e-12 {
			t.Errorf("pixel %d: mean %g, variance %g; want 0 and %g", p, zm, zv, vr/(vr+0.5))
		}
	}
	plain["ln.weight"], plain["ln.bias"] = w, b
	g, err = graph.Build(net, ck, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	y, err := ref.Run(g, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range y {
		if want := z[i]*w.Data[i/12] + b.Data[i/12]; math.Abs(y[i]-want) > 1e-12 {
			t.Fatalf("value %d is %g, want %g", i, y[i], want)
		}
	}
}
