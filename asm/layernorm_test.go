package asm

import (
	"strings"
	"testing"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
)

// TestLayerNormKernels: every assembly program runs its LayerNorm steps
// (a channel count that fills the blocks and one that does not) with an
// assembly kernel, not the Go helper, and GELU in a convolution's
// epilogue with the constant table defined once.
func TestLayerNormKernels(t *testing.T) {
	progs := amd64Programs(t, `input: [16, 5, 31]
layers:
  - {name: ln, op: layernorm}
  - {name: c, op: conv, out: 13, kernel: 1}
  - {name: g, op: gelu}
  - {name: ln2, op: layernorm}
  - {name: c2, op: conv, out: 8, kernel: 1}
  - {name: g2, op: gelu, approximate: tanh}
`)
	k, err := Generator{}.Emit(progs, "p")
	if err != nil {
		t.Fatal(err)
	}
	calls := k.Calls
	files := []gen.File{{Name: "kernels_amd64.s", Data: k.Asm}}
	for _, p := range progs {
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
