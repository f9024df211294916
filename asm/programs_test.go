package asm

import (
	"testing"

	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// amd64Programs plans the network of spec src, with synthesized weights,
// for every target, and returns the programs this package emits.
func amd64Programs(t *testing.T, src string) []*plan.Program {
	t.Helper()
	net, err := spec.Parse("s.yaml", []byte(src))
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
	var progs []*plan.Program
	for _, p := range pk.Programs {
		if p.Target.Emitter == (Generator{}).Name() {
			progs = append(progs, p)
		}
	}
	return progs
}
