package graph_test

import (
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/runtime/ref"
)

// TestSplitShuffle: a split makes a node per output, named as readers
// name it, each a range of channels; a channel shuffle takes channel
// (j % g)*(C/g) + j/g, as view, transpose, view does (checked against
// PyTorch's nn.ChannelShuffle(3) on 12 channels when written:
// 0 4 8 1 5 9 2 6 10 3 7 11).
func TestSplitShuffle(t *testing.T) {
	net := parseNet(t, `input: [12, 1, 2]
layers:
  - {name: sh, op: channel_shuffle, groups: 3}
  - {name: sp, op: split, sizes: [5, 7]}
  - {name: cat, op: concat, inputs: [sp:1, sp:0]}
`)
	g, err := graph.Build(net, synthFile(t, net), graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range g.Nodes {
		names = append(names, n.Name)
	}
	if len(names) != 4 || names[1] != "sp:0" || names[2] != "sp:1" || g.Nodes[2].Port != 1 || g.Nodes[2].Shape != (graph.Shape{C: 7, H: 1, W: 2}) {
		t.Errorf("nodes %v; sp:1 port %d shape %s", names, g.Nodes[2].Port, g.Nodes[2].Shape)
	}
	in := make([]float64, 24)
	for i := range in {
		in[i] = float64(i / 2) // channel c holds c
	}
	out, err := ref.Run(g, in)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := []float64{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}
	want := append(append([]float64(nil), shuffled[5:]...), shuffled[:5]...)
	for j, c := range want {
		if out[2*j] != c || out[2*j+1] != c {
			t.Fatalf("output channel %d holds %g, %g; want channel %g", j, out[2*j], out[2*j+1], c)
		}
	}
	net = parseNet(t, "input: [4, 2, 2]\nlayers:\n  - {name: sp, op: split, sizes: [1, 2]}\n  - {op: relu, inputs: [sp:1]}\n")
	none := synth.File("model.pth", map[string]synth.Tensor{}) // no layer has weights
	_, err = graph.Build(net, none, graph.Options{})
	checkLines(t, err, graph.ErrShape, []string{`s.yaml:3:34: layer "sp": sizes [1, 2] add up to 3 channels; the input has 4$`})
	net = parseNet(t, "input: [4, 2, 2]\nlayers:\n  - {name: sh, op: channel_shuffle, groups: 3}\n")
	_, err = graph.Build(net, none, graph.Options{})
	checkLines(t, err, graph.ErrShape, []string{`s.yaml:3:45: layer "sh": the input has 4 channels, not a multiple of groups 3$`})
}
