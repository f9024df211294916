package driver

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// TestStreamMatchesHeld: streaming the weights layer by layer, letting
// each go once packed, generates exactly the files that holding them all
// does, for every PyTorch-made fixture; and the streamed run holds no
// weight at its end.
func TestStreamMatchesHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("generates every fixture twice")
	}
	for _, f := range fixtures.All() {
		run := func(stream bool) *Result {
			cfg := &Config{Spec: f.Spec, Weights: f.Pth, Out: filepath.Join(t.TempDir(), "pkg"), KeepWeights: !stream}
			cfg.Out = "" // stop before writing; emit still runs for the files
			cfg.Dump = "emit"
			res, err := Run(cfg)
			if err != nil {
				t.Fatalf("%s (stream %v): %v", f.Name, stream, err)
			}
			return res
		}
		held, streamed := run(false), run(true)
		// And both pack what planning the eagerly built, fused graph
		// packs: the skeleton the driver plans on loses nothing.
		net, err := spec.Load(f.Spec)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := checkpoint.Load(f.Pth, checkpoint.Options{})
		if err != nil {
			t.Fatal(err)
		}
		g, err := graph.Build(net, ck, graph.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fused, _ := fuse.Fuse(g)
		// For the targets the driver planned (without an assembler, the
		// portable one alone): a LayerNorm's mask is a section per width.
		var targets []*target.Target
		for _, p := range streamed.Plan.Programs {
			targets = append(targets, p.Target)
		}
		eager, err := plan.BuildPackage(fused, targets, plan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(eager.Weights, streamed.Plan.Weights) {
			t.Errorf("%s: the packed weights differ from an eager plan's", f.Name)
		}
		if len(held.Files) == 0 || len(held.Files) != len(streamed.Files) {
			t.Fatalf("%s: %d files held, %d streamed", f.Name, len(held.Files), len(streamed.Files))
		}
		for i, a := range held.Files {
			if b := streamed.Files[i]; a.Name != b.Name || !bytes.Equal(a.Data, b.Data) {
				t.Errorf("%s: %s differs when streamed", f.Name, a.Name)
			}
		}
		for _, n := range streamed.Unfused.Nodes {
			if len(n.Tensors()) > 0 && n.Loaded() {
				t.Errorf("%s: %s still holds its weights after the stream", f.Name, n)
			}
		}
		for _, n := range held.Unfused.Nodes {
			if !n.Loaded() {
				t.Errorf("%s: %s lost its weights though they were to be kept", f.Name, n)
			}
		}
	}
}
