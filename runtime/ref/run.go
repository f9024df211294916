package ref

import (
	"fmt"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/spec"
)

// Tensor is one sample's activation, C x H x W, row-major.
type Tensor struct {
	graph.Shape
	Data []float64
}

func newTensor(s graph.Shape) Tensor { return Tensor{Shape: s, Data: make([]float64, s.Len())} }

func (t Tensor) at(c, y, x int) float64 { return t.Data[(c*t.H+y)*t.W+x] }

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

func eval(n *graph.Node, args []Tensor) (Tensor, error) {
	x := args[0]
	switch n.Op {
	case spec.ACBlock:
		return acblock(x, n.AC), nil
	case spec.RepVGG:
		return repvgg(x, n.Rep), nil
	case spec.DBB:
		return dbb(x, n.DBB), nil
	case spec.Conv:
		return conv(x, n.Conv), nil
	case spec.BN:
		return batchNorm(x, n.BN), nil
	case graph.OpAffine:
		return affine(x, n.Affine.Scale, n.Affine.Shift), nil
	case spec.Linear:
		return linear(x, n.Linear), nil
	case spec.Mul:
		return mul(x, args[1]), nil
	case spec.MaxPool:
		return maxPool(x, n.Pool), nil
	case spec.AvgPool:
		return avgPool(x, n.Pool), nil
	case spec.GlobalAvgPool:
		return globalAvgPool(x), nil
	case spec.Flatten:
		return Tensor{Shape: graph.Shape{C: x.Len(), H: 1, W: 1}, Data: x.Data}, nil
	case spec.Add:
		return add(args), nil
	case spec.Concat:
		return concat(args), nil
	}
	if f := act.Of(n.Op); f != nil {
		return mapValues(x, func(v float64) float64 { return f.Ref(v, n.Param) }), nil
	}
	return Tensor{}, fmt.Errorf("the reference runtime has no op %q", n.Op)
}
