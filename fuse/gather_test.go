package fuse

import (
	"math"
	"slices"
	"testing"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

// TestGathers: a shuffle read by a convolution alone folds into its
// weights; a split of a shuffle is one gather (the shuffle gone); a
// shuffle of one group is its input; a gather read by a depthwise
// convolution, by two layers, or taking some channels only stays, a
// copy. The fused graph computes what the unfused one does.
func TestGathers(t *testing.T) {
	net, err := spec.Parse("s.yaml", []byte(`input: [8, 5, 6]
layers:
  - {name: c0, op: conv, out: 12, kernel: 1}
  - {name: sh, op: channel_shuffle, groups: 3}
  - {name: folded, op: conv, out: 6, kernel: 3, padding: 1}
  - {name: sh2, op: channel_shuffle, groups: 2, inputs: [c0]}
  - {name: sp, op: split, sizes: [5, 7]}
  - {name: part, op: conv, out: 12, kernel: 1, inputs: [sp:1]}
  - {name: one, op: channel_shuffle, groups: 1, inputs: [c0]}
  - {name: dw, op: conv, out: 12, kernel: 3, padding: 1, groups: 12}
  - {name: sh3, op: channel_shuffle, groups: 4, inputs: [c0]}
  - {name: two1, op: conv, out: 12, kernel: 1}
  - {name: two2, op: conv, out: 12, kernel: 1, inputs: [sh3]}
  - {name: all, op: concat, inputs: [folded, sp:0, part, dw, two1, two2]}
`))
	if err != nil {
		t.Fatal(err)
	}
	g := buildSynth(t, net)
	fused, rep := fuse(g, false)
	var kept []string
	for _, n := range fused.Nodes {
		if n.Gather != nil {
			kept = append(kept, n.Name)
		}
		if n.Name == "folded" && (len(n.Inputs) != 1 || n.Inputs[0].Name != "c0") {
			t.Errorf("folded reads %v, want c0", n.Inputs)
		}
		if n.Name == "dw" && n.Inputs[0].Name != "c0" {
			t.Errorf("dw reads %v, want c0 (a shuffle of one group is its input)", n.Inputs)
		}
	}
	// sp:0 and sp:1 read c0 through sh2 composed; sh3 has two readers.
	if want := []string{"sp:0", "sp:1", "sh3"}; !slices.Equal(kept, want) || !slices.Equal(rep.KeptGathers, want) {
		t.Errorf("gathers kept %v, reported %v; want %v", kept, rep.KeptGathers, want)
	}
	if rep.FoldedGathers != 1 || rep.ComposedGathers != 2 {
		t.Errorf("folded %d, composed %d; want 1 and 2", rep.FoldedGathers, rep.ComposedGathers)
	}
	in := make([]float64, g.Input.Len())
	for i := range in {
		in[i] = math.Cos(float64(i) * 0.3)
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

func buildSynth(t *testing.T, net *spec.Net) *graph.Graph {
	t.Helper()
	ck := synthCheckpoint(t, net, weightOptions{seed: 1, varScale: 1})
	g, err := graph.Build(net, ck, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}
