package asm

import (
	"strings"
	"testing"

	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// TestLayerNormKernels: every assembly program runs its LayerNorm steps
// (a channel count that fills the blocks and one that does not) with an
// assembly kernel, not the Go helper, and GELU in a convolution's
// epilogue with the constant table defined once.
func TestLayerNormKernels(t *testing.T) {
	net, err := spec.Parse("s.yaml", []byte(`input: [16, 5, 31]
layers:
  - {name: ln, op: layernorm}
  - {name: c, op: conv, out: 13, kernel: 1}
  - {name: g, op: gelu}
  - {name: ln2, op: layernorm}
  - {name: c2, op: conv, out: 8, kernel: 1}
  - {name: g2, op: gelu, approximate: tanh}
`))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := synth.Checkpoint(net, 1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Build(net, synth.File("model.pth", ts), graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fused, _ := fuse.Fuse(g)
	pk, err := plan.BuildPackage(fused, target.All, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, calls, err := Generator{}.Generate(pk, "p")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pk.Programs {
		if !p.Target.Asm {
			continue
		}
		norms := 0
		for i, s := range p.Steps {
			if s.Kind == plan.LayerNorm {
				norms++
				if calls[p][i] == "" {
					t.Errorf("%s: LayerNorm step %s runs the Go helper", p.Target.Name, s.Name)
				}
			}
		}
		if norms != 2 {
			t.Errorf("%s: %d LayerNorm steps, want 2", p.Target.Name, norms)
		}
	}
	for _, f := range files {
		if f.Name == "kernels_amd64.s" {
			if n := strings.Count(string(f.Data), "GLOBL act_gelu<>(SB)"); n != 1 {
				t.Errorf("the GELU table is declared %d times", n)
			}
		}
	}
}
