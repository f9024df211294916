package ref_test

import (
	"strings"
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

// TestMatchesPyTorch runs every fixture's training-form network on the
// inputs PyTorch saw and compares with what PyTorch computed.
func TestMatchesPyTorch(t *testing.T) {
	for _, f := range fixtures.All() {
		t.Run(f.Name, func(t *testing.T) {
			g := load(t, f, f.Pth)
			s, err := f.LoadSamples()
			if err != nil {
				t.Fatal(err)
			}
			for i, in := range s.Input {
				got, err := ref.Run(g, in)
				if err != nil {
					t.Fatal(err)
				}
				// float32 PyTorch: the 1e-5 relative.
				if e := fixtures.MaxRelErr(got, s.Output[i]); !(e <= 1e-5) {
					t.Errorf("sample %d: max relative error %.3g vs PyTorch float32, want <= 1e-5", i, e)
				}
				// float64 PyTorch: both compute the same float64 sums in
				// a different order, so only rounding separates them.
				if e := fixtures.MaxRelErr(got, s.Output64[i]); !(e <= 1e-10) {
					t.Errorf("sample %d: max relative error %.3g vs PyTorch float64, want <= 1e-10", i, e)
				}
			}
		})
	}
}

func load(t testing.TB, f fixtures.Fixture, weights string) *graph.Graph {
	t.Helper()
	net, err := spec.Load(f.Spec)
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

// TestWrongInputLength: a wrong-length input is an error, not a panic.
func TestWrongInputLength(t *testing.T) {
	f := fixtures.Get("cifar_small")
	g := load(t, f, f.Pth)
	for _, n := range []int{0, 1, g.Input.Len() - 1, g.Input.Len() + 1} {
		if _, err := ref.Run(g, make([]float64, n)); err == nil || !strings.Contains(err.Error(), "want 3072 (3x32x32)") {
			t.Errorf("%d values: %v", n, err)
		}
	}
}
