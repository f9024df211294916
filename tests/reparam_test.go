package tests

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

// TestReparamMatchesSwitchToDeploy: for the RepVGG and DBB fixtures
// (fixtures/make_reparam_fixtures.py), every block acgen fuses holds the
// kernel and bias that the blocks' own switch_to_deploy computed in
// PyTorch (deploy.safetensors), to float32 rounding. (TestFixtures checks
// their generated packages against PyTorch's outputs, like every
// fixture's.) torch2spec's spec of the deploy form runs too.
func TestReparamMatchesSwitchToDeploy(t *testing.T) {
	for _, name := range []string{"repvgg_cifar", "repvgg_g2", "repvgg_se", "dbb_resnet18", "dbb_mobilenet"} {
		f := fixtures.Get(name)
		g := buildGraph(t, f.Spec, f.Pth)
		deploy, err := checkpoint.Load(filepath.Join(f.Dir, "deploy.safetensors"), checkpoint.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fused, _ := fuse.Fuse(g)
		blocks := 0
		for i, n := range g.Nodes {
			var suffix string
			switch n.Op {
			case spec.RepVGG:
				suffix = ".rbr_reparam."
			case spec.DBB:
				suffix = ".dbb_reparam."
			default:
				continue
			}
			blocks++
			var conv *graph.Conv
			for _, m := range fused.Nodes {
				if m.Name == n.Name {
					conv = m.Conv
				}
			}
			if conv == nil {
				t.Fatalf("%s: node %d (%s) has no fused convolution", name, i, n.Name)
			}
			for _, c := range []struct {
				key string
				got []float64
			}{{"weight", conv.Weight}, {"bias", conv.Bias}} {
				want := deploy.Tensors[n.Layer.Prefix+suffix+c.key]
				if want == nil {
					t.Fatalf("%s: deploy.safetensors has no %s", name, n.Layer.Prefix+suffix+c.key)
				}
				if e := relErr(c.got, want.Data); !(e <= 2e-5) {
					t.Errorf("%s: %s %s: acgen's fusion and switch_to_deploy differ by %.3g (relative to the largest value)", name, n.Name, c.key, e)
				}
			}
		}
		if blocks == 0 {
			t.Errorf("%s: no RepVGG or DBB block", name)
		}
		// torch2spec's spec of the deploy form (rbr_reparam and
		// dbb_reparam as conv layers) on the deployed weights gives
		// PyTorch's outputs of the training form.
		dg := buildGraph(t, filepath.Join(f.Dir, "net_deploy.yaml"), filepath.Join(f.Dir, "deploy.safetensors"))
		s, err := f.LoadSamples()
		if err != nil {
			t.Fatal(err)
		}
		for i, in := range s.Input {
			got, err := ref.Run(dg, in)
			if err != nil {
				t.Fatal(err)
			}
			if e := fixtures.MaxRelErr(got, s.Output[i]); !(e <= 1e-4) {
				t.Errorf("%s: sample %d: the deploy form's spec vs PyTorch: %.3g", name, i, e)
			}
		}
	}
}

// buildGraph is the training-form graph of a spec with a checkpoint.
func buildGraph(t *testing.T, specPath, weights string) *graph.Graph {
	t.Helper()
	net, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.Load(weights, checkpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Build(net, ck, graph.Options{})
	if err != nil {
		t.Fatalf("%s with %s: %v", specPath, weights, err)
	}
	return g
}

// relErr is max |a-b| over max |b|, or +Inf for different lengths.
func relErr(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
		m = max(m, math.Abs(b[i]))
	}
	return d / max(m, 1e-30)
}
