package fuse

import (
	"math"
	"testing"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

// TestGRNBeta: a GRN's beta folds into the bias of the convolution that
// alone reads it when that has no padding (a grouped, strided 3x3 one
// too, and one followed by a BatchNorm folded into it), and stays where
// the reader pads, shares the GRN with another or is not a convolution,
// or the GRN is the output. The fused graph computes what the unfused
// one does, with those betas' parameters fewer.
func TestGRNBeta(t *testing.T) {
	net, err := spec.Parse("g.yaml", []byte(`input: [4, 9, 10]
layers:
  - {name: g1, op: grn}
  - {name: c1, op: conv, out: 6, kernel: 1}
  - {name: g2, op: grn}
  - {name: c2, op: conv, out: 4, kernel: 3, stride: 2, groups: 2}
  - {name: b2, op: bn}
  - {name: g3, op: grn}
  - {name: c3, op: conv, out: 4, kernel: 3, padding: 1}
  - {name: g4, op: grn}
  - {name: c4, op: conv, out: 4, kernel: 1}
  - {name: c5, op: conv, out: 4, kernel: 1, inputs: [g4]}
  - {name: s, op: add, inputs: [c4, c5]}
  - {name: g5, op: grn}
  - {name: r, op: relu}
  - {name: g6, op: grn}
`))
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Build(net, synthCheckpoint(t, net, weightOptions{seed: 3, varScale: 1}), graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fused, rep := fuse(g, false)
	var kept []string
	for _, n := range fused.Nodes {
		if n.Op == spec.GRN && n.GRN.Beta != nil {
			kept = append(kept, n.Name)
		}
	}
	if rep.FoldedShifts != 2 || len(kept) != 4 || kept[0] != "g3" || kept[1] != "g4" || kept[2] != "g5" || kept[3] != "g6" {
		t.Errorf("folded %d betas, kept %v; want g1's and g2's folded, g3's to g6's kept", rep.FoldedShifts, kept)
	}
	// The betas of g1 (4 channels) and g2 (6) go, and b2's weight and
	// bias, folded into c2.
	if d := rep.ParamsIn - rep.ParamsOut; d != 4+6+2*4 {
		t.Errorf("fusion shed %d parameters, want 18 (betas of 4 and 6, b2's weight and bias)", d)
	}
	in := make([]float64, g.Input.Len())
	for i := range in {
		in[i] = math.Sin(float64(i)*0.9) + 0.3
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
