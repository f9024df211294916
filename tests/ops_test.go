package tests

import (
	"os"
	"sort"
	"testing"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/spec"
)

// TestOpsCovered walks every op through every stage, the way Go's
// compiler refuses an op without code generation for an architecture:
// each op that reaches the planner must appear, after fusion, in a
// kernel network, which TestKernelVariants generates, builds and runs on
// every instruction set against the reference runtime (guard bands,
// alignment shifts, split parts); each training-time op (a block, a
// BatchNorm, a dropout) must appear in a fixture made by PyTorch, which
// TestFixtures checks on every instruction set against PyTorch's own
// outputs. A new op without either fails here.
func TestOpsCovered(t *testing.T) {
	inKernelNets := map[spec.Op]bool{}
	inSpecs := map[spec.Op]bool{} // of kernel networks and fixtures, before fusion
	for _, kn := range kernelNets {
		net, err := spec.Parse(kn.name+".yaml", []byte(kn.spec))
		if err != nil {
			t.Fatalf("%s: %v", kn.name, err)
		}
		for _, l := range net.Layers {
			inSpecs[l.Op] = true
		}
		ts, err := synth.Checkpoint(net, 1)
		if err != nil {
			t.Fatal(err)
		}
		g, err := graph.Build(net, synth.File("model.pth", ts), graph.Options{})
		if err != nil {
			t.Fatalf("%s: %v", kn.name, err)
		}
		fused, _ := fuse.Fuse(g)
		for _, n := range fused.Nodes {
			inKernelNets[n.Op] = true
		}
	}
	fixtureOps := map[spec.Op]bool{}
	inFixtures := map[spec.Op]bool{}
	for op := range inSpecs {
		inFixtures[op] = true // an identity op (dropout) is checked wherever it is
	}
	for _, f := range fixtures.All() {
		data, err := os.ReadFile(f.Spec)
		if err != nil {
			t.Fatal(err)
		}
		net, err := spec.Parse(f.Spec, data)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, l := range net.Layers {
			inFixtures[l.Op] = true
			fixtureOps[l.Op] = true
		}
	}
	var missing []string
	for _, r := range graph.Rows() {
		switch {
		case r.Deployed() && !inKernelNets[r.Op]:
			missing = append(missing, string(r.Op)+": in no kernel network (tests/kernels_test.go)")
		case r.Identity && !inFixtures[r.Op]:
			missing = append(missing, string(r.Op)+": in no kernel network or fixture")
		case !r.Deployed() && !r.Identity && !fixtureOps[r.Op]:
			missing = append(missing, string(r.Op)+": in no PyTorch-made fixture (fixtures/)")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
}
