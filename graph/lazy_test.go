package graph_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/runtime/ref"
)

// TestLazyGraph: a lazily built graph has every node's shape and
// parameter count but no values; Bind gives each node the values an
// eager build reads, Release takes them away again.
func TestLazyGraph(t *testing.T) {
	net, eager := buildEveryOp(t, true)
	ts, err := synth.Checkpoint(net, 7)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := synth.WriteFile(path, ts); err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.Load(path, checkpoint.Options{Lazy: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	lazy, err := graph.Build(net, ck, graph.Options{Lazy: true})
	if err != nil {
		t.Fatal(err)
	}
	if lazy.Params() != eager.Params() {
		t.Errorf("lazy graph counts %d parameters, eager %d", lazy.Params(), eager.Params())
	}
	in := make([]float64, eager.Input.Len())
	for i := range in {
		in[i] = float64(i%7) - 3
	}
	want, err := ref.Trace(eager, in)
	if err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for i, n := range lazy.Nodes {
		if len(n.Tensors()) > 0 && n.Loaded() {
			t.Errorf("%s: loaded before Bind", n)
		}
		if err := lazy.Bind(n); err != nil {
			t.Fatal(err)
		}
		if !n.Loaded() {
			t.Errorf("%s: not loaded after Bind", n)
		}
		m := eager.Nodes[i]
		args := []ref.Tensor{{Shape: lazy.Input, Data: in}}
		if len(m.Inputs) > 0 {
			args = args[:0]
			for _, x := range m.Inputs {
				args = append(args, want[x])
			}
		}
		if got := n.Row().Ref(n, args); !slices.Equal(got.Data, want[m].Data) {
			t.Errorf("%s: bound lazily, computes other values", n)
		}
		if len(n.Tensors()) > 0 {
			loaded++
			lazy.Release(n)
			if n.Loaded() {
				t.Errorf("%s: loaded after Release", n)
			}
		}
	}
	if loaded < 8 {
		t.Errorf("only %d nodes with weights", loaded)
	}
	if lazy.Params() != eager.Params() {
		t.Errorf("after Release, %d parameters", lazy.Params())
	}
}
