package tests

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/runtime/ref"
)

// TestTorch2Spec checks the specs tools/torch2spec.py wrote by tracing the
// fixture networks (tools/make_testdata.sh): with the fixtures'
// checkpoints, every key is read (graph.Build refuses unused ones) and the
// network as trained gives PyTorch's float64 outputs.
func TestTorch2Spec(t *testing.T) {
	specs, err := filepath.Glob(filepath.Join("..", "tools", "testdata", "*.yaml"))
	if err != nil || len(specs) < 6 {
		t.Fatalf("tools/testdata holds %d specs (%v), want the 6 of make_testdata.sh", len(specs), err)
	}
	for _, path := range specs {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			f := fixtures.Get(name)
			g := buildGraph(t, path, f.Pth)
			s, err := f.LoadSamples()
			if err != nil {
				t.Fatal(err)
			}
			for i, in := range s.Input {
				got, err := ref.Run(g, in)
				if err != nil {
					t.Fatal(err)
				}
				if e := fixtures.MaxRelErr(got, s.Output64[i]); !(e <= 1e-10) {
					t.Errorf("sample %d: max relative error %.3g vs PyTorch float64, want <= 1e-10", i, e)
				}
			}
		})
	}
}
