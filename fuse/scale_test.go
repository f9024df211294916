package fuse

import (
	"math"
	"testing"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

// TestScale: a scale layer folds into the convolution or linear layer
// that only it reads, whether its parameter is [C, 1, 1] or [C]; after
// an add, or a convolution with another reader, it stays (an affine
// step). The fused graph computes what the unfused one does.
func TestScale(t *testing.T) {
	net, err := spec.Parse("s.yaml", []byte(`input: [4, 5, 6]
layers:
  - {name: c, op: conv, out: 6, kernel: 3, padding: 1}
  - {name: gamma, op: scale}
  - {name: d, op: conv, out: 6, kernel: 1}
  - {name: both, op: add, inputs: [gamma, d]}
  - {name: kept, op: scale}
  - {name: e, op: conv, out: 6, kernel: 1, inputs: [d]}
  - {name: shared, op: scale, inputs: [d]}
  - {name: sum, op: add, inputs: [kept, e, shared]}
  - {name: f, op: flatten}
  - {name: fc, op: linear, out: 3}
  - {name: fcs, op: scale, prefix: head.layer_scale}
`))
	if err != nil {
		t.Fatal(err)
	}
	ck := synthCheckpoint(t, net, weightOptions{seed: 2, varScale: 1})
	v := ck.Tensors["gamma"]
	v.Shape = []int{6} // nn.Parameter(torch.ones(dim)), as well as (dim, 1, 1)
	if _, ok := ck.Tensors["head.layer_scale"]; !ok {
		t.Fatalf("synth did not make the key the prefix names: %v", ck.Keys())
	}
	g, err := graph.Build(net, ck, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fused, rep := fuse(g, false)
	var kept []string
	for _, n := range fused.Nodes {
		if n.Op == spec.Scale {
			kept = append(kept, n.Name)
		}
	}
	if rep.FoldedScales != 2 || len(kept) != 2 || kept[0] != "kept" || kept[1] != "shared" {
		t.Errorf("folded %d scales, kept %v; want gamma and fcs folded, kept and shared kept", rep.FoldedScales, kept)
	}
	in := make([]float64, g.Input.Len())
	for i := range in {
		in[i] = math.Sin(float64(i) * 0.9)
	}
	want, err := ref.Run(g, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ref.Run(fused, in)
	if err != nil {
		t.Fatal(err)
	}
	if e := fixtures.MaxRelErr(got, want); !(e <= 1e-12) {
		t.Errorf("fused vs unfused: %.3g", e)
	}
}
