package asm

import (
	"testing"

	"github.com/mmcloughlin/avo/ir"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"

	"github.com/acgen/acgen/plan"
)

// TestCompileMatchesAvo: compiling a function at a time prints the same
// assembly as avo's pass.Compile over the whole file, for kernels of
// every algorithm (direct, Winograd, depthwise, pooling, LayerNorm) and
// the tables and CPU checks beside them.
func TestCompileMatchesAvo(t *testing.T) {
	progs := amd64Programs(t, `input: [16, 12, 12]
layers:
  - {name: ln, op: layernorm}
  - {name: c1, op: conv, out: 32, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: c2, op: conv, out: 32, kernel: 3, padding: 1}
  - {name: s1, op: silu}
  - {name: dw, op: conv, out: 32, kernel: 3, padding: 1, groups: 32, stride: 2}
  - {name: p, op: maxpool, kernel: 2, stride: 2}
  - {name: c3, op: conv, out: 24, kernel: 1}
`)
	algos := map[plan.Algo]bool{}
	for _, p := range progs {
		for _, s := range p.Steps {
			if s.Conv != nil && s.Kind == plan.Conv {
				algos[s.Conv.Algo] = true
			}
		}
	}
	if !algos[plan.Direct] || !algos[plan.Winograd] || !algos[plan.Depthwise] {
		t.Fatalf("the network's convolutions take %v, not every algorithm", algos)
	}
	emit := func(passes func(*ir.File) error) string {
		f, _, err := kernelFile(progs)
		if err != nil {
			t.Fatal(err)
		}
		if err := passes(f); err != nil {
			t.Fatal(err)
		}
		b, err := printer.NewGoAsm(printer.Config{Name: "acgen", Pkg: "p"}).Print(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ours, avos := emit(compile), emit(pass.Compile.Execute)
	if ours != avos {
		t.Errorf("compile's assembly (%d bytes) differs from pass.Compile's (%d bytes)", len(ours), len(avos))
	}
	if len(ours) < 1000 {
		t.Errorf("only %d bytes of assembly", len(ours))
	}
}
