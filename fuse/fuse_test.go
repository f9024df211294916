package fuse_test

import (
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

// TestFusedMatchesPyTorch checks the fused graph of every fixture, from
// both checkpoint formats, against PyTorch's outputs of the unfused model
// and against the unfused reference.
func TestFusedMatchesPyTorch(t *testing.T) {
	for _, f := range fixtures.All() {
		for _, weights := range []string{f.Pth, f.Safetensors} {
			t.Run(f.Name+"/"+weights[len(f.Dir)+1:], func(t *testing.T) {
				g := load(t, f.Spec, weights)
				fused, rep := fuse.Fuse(g)
				for _, n := range fused.Nodes {
					if r := graph.RowOf(n.Op); r == nil || !r.Deployed() {
						t.Fatalf("fused graph still holds %s", n)
					}
				}
				// A network with nothing to fold (SqueezeNet has no
				// BatchNorm) keeps its parameters.
				folds := false
				for _, n := range g.Nodes {
					switch n.Op {
					case spec.ACBlock, spec.BN, spec.RepVGG, spec.DBB, spec.Scale:
						folds = true
					}
				}
				if folds && rep.ParamsOut >= rep.ParamsIn {
					t.Errorf("fusion kept %d of %d parameters", rep.ParamsOut, rep.ParamsIn)
				}
				s, err := f.LoadSamples()
				if err != nil {
					t.Fatal(err)
				}
				for i, in := range s.Input {
					got, err := ref.Run(fused, in)
					if err != nil {
						t.Fatal(err)
					}
					if e := fixtures.MaxRelErr(got, s.Output[i]); !(e <= 1e-5) {
						t.Errorf("sample %d: fused vs PyTorch: max relative error %.3g, want <= 1e-5", i, e)
					}
					unfused, err := ref.Run(g, in)
					if err != nil {
						t.Fatal(err)
					}
					if e := fixtures.MaxRelErr(got, unfused); !(e <= 1e-5) {
						t.Errorf("sample %d: fused vs unfused reference: max relative error %.3g, want <= 1e-5", i, e)
					}
				}
			})
		}
	}
}

// TestFuseLeavesInputAlone guards against folding in place into the
// training graph's weights.
func TestFuseLeavesInputAlone(t *testing.T) {
	f := fixtures.Get("misc")
	g := load(t, f.Spec, f.Pth)
	s, err := f.LoadSamples()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := ref.Run(g, s.Input[0])
	fuse.Fuse(g)
	after, _ := ref.Run(g, s.Input[0])
	if e := fixtures.MaxRelErr(after, before); e != 0 {
		t.Errorf("Fuse changed its input graph: outputs moved by %g", e)
	}
}

func TestReport(t *testing.T) {
	f := fixtures.Get("misc")
	_, rep := fuse.Fuse(load(t, f.Spec, f.Pth))
	// misc: one ACBlock; a foldable conv+bn; a bn reading a conv that
	// also feeds a relu; a bn after an add.
	if rep.ACBlocks != 1 || rep.FoldedBNs != 1 || len(rep.KeptBNs) != 2 {
		t.Errorf("report %+v: want 1 ACBlock, 1 folded BN, 2 kept", rep)
	}
}

func load(t testing.TB, specPath, weights string) *graph.Graph {
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
		t.Fatal(err)
	}
	return g
}
