package tests

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// TestKernelNetsPackLikeEagerPlans: for every kernel network, every op
// among them, the driver plans on the weightless skeleton of the network
// and packs each layer's weights as it streams them; the packed weights
// must be exactly what planning the eagerly built, fused graph packs
// (fusing a shuffle into a convolution, a scale into its layer, a
// LayerNorm's constants...).
func TestKernelNetsPackLikeEagerPlans(t *testing.T) {
	dir := t.TempDir()
	for i, kn := range kernelNets {
		specPath := filepath.Join(dir, kn.name+".yaml")
		writeFile(t, specPath, []byte(strings.TrimSpace(kn.spec)+"\n"))
		net, err := spec.Load(specPath)
		if err != nil {
			t.Fatal(err)
		}
		tensors, err := synth.Checkpoint(net, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		weights := filepath.Join(dir, kn.name+".safetensors")
		if err := synth.WriteFile(weights, tensors); err != nil {
			t.Fatal(err)
		}
		res, err := driver.Run(&driver.Config{Spec: specPath, Weights: weights, Plan: kn.plan, Asm: assembler(), Dump: "check"})
		if err != nil {
			t.Fatalf("%s: %v", kn.name, err)
		}
		g, err := graph.Build(net, synth.File(weights, tensors), graph.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fused, _ := fuse.Fuse(g)
		eager, err := plan.BuildPackage(fused, target.Default, kn.plan)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(eager.Weights, res.Plan.Weights) {
			t.Errorf("%s: the packed weights differ from an eager plan's", kn.name)
		}
	}
}
