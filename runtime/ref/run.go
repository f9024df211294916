package ref

import (
	"fmt"

	"github.com/acgen/acgen/graph"
)

// Tensor is one sample's activation, C x H x W, row-major, in float64.
type Tensor = graph.Tensor

// Run executes g on one sample given in C,H,W order and returns the
// output activation, flattened.
func Run(g *graph.Graph, input []float64) ([]float64, error) {
	acts, err := Trace(g, input)
	if err != nil {
		return nil, err
	}
	return acts[g.Output].Data, nil
}

// Trace executes g and returns the output of every node.
func Trace(g *graph.Graph, input []float64) (map[*graph.Node]Tensor, error) {
	if len(input) != g.Input.Len() {
		return nil, fmt.Errorf("input has %d values, want %d (%s)", len(input), g.Input.Len(), g.Input)
	}
	in := Tensor{Shape: g.Input, Data: input}
	acts := make(map[*graph.Node]Tensor, len(g.Nodes))
	for _, n := range g.Nodes {
		args := []Tensor{in}
		if len(n.Inputs) > 0 {
			args = args[:0]
			for _, src := range n.Inputs {
				args = append(args, acts[src])
			}
		}
		out, err := eval(n, args)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n, err)
		}
		if out.Shape != n.Shape {
			return nil, fmt.Errorf("node %s: computed %s, graph says %s", n, out.Shape, n.Shape)
		}
		acts[n] = out
	}
	return acts, nil
}

// eval runs n's row's float64 definition on its inputs' values.
func eval(n *graph.Node, args []Tensor) (out Tensor, err error) {
	r := graph.RowOf(n.Op)
	if r == nil || r.Ref == nil {
		return Tensor{}, fmt.Errorf("the reference runtime has no op %q", n.Op)
	}
	return r.Ref(n, args), nil
}
