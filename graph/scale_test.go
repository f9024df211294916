package graph_test

import (
	"math"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
)

// TestScale: a scale layer reads the parameter its prefix names, [C, 1,
// 1] or [C], multiplies each channel by it, and says which key and shape
// it wanted when the checkpoint's does not fit.
func TestScale(t *testing.T) {
	net := parseNet(t, "input: [3, 2, 2]\nlayers:\n  - {name: blk, op: relu}\n  - {op: scale, prefix: blk.gamma}\n")
	ck := synthFile(t, net)
	gamma := ck.Tensors["blk.gamma"]
	if gamma == nil || len(gamma.Shape) != 3 {
		t.Fatalf("the checkpoint wants %v", ck.Keys())
	}
	for _, shape := range [][]int{{3, 1, 1}, {3}} {
		gamma.Shape = shape
		g, err := graph.Build(net, ck, graph.Options{})
		if err != nil {
			t.Fatal(err)
		}
		in := []float64{1, 2, 3, 4, -1, -2, -3, -4, 5, 6, 7, 8}
		out, err := ref.Run(g, in)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range out {
			if want := max(in[i], 0) * gamma.Data[i/4]; math.Abs(v-want) > 1e-15 {
				t.Fatalf("%v: output %d is %g, want %g", shape, i, v, want)
			}
		}
		if ts := g.Nodes[1].Tensors(); len(ts) != 1 || ts[0].Key("blk.gamma") != "blk.gamma" || len(ts[0].Shape) != len(shape) {
			t.Errorf("%v: tensors %+v", shape, ts)
		}
	}
	gamma.Shape = []int{1, 3}
	_, err := graph.Build(net, ck, graph.Options{})
	checkLines(t, err, graph.ErrWeights, []string{`s.yaml:4:5: layer #1 (scale): checkpoint key "blk.gamma": shape [1 3], want [3 1 1] or [3]$`})
	rename(ck, "blk.gamma", "blk.gama")
	_, err = graph.Build(net, ck, graph.Options{})
	checkLines(t, err, graph.ErrWeights, []string{`checkpoint key "blk.gamma": missing from model.pth; did you mean "blk.gama"?`})
}
