package driver

import (
	"math/rand/v2"

	"github.com/acgen/acgen/graph"
)

// perturbed is a copy of g with every parameter and buffer moved by a
// relative 2^-24 (half a float32 ulp), each up or down at random: what
// rounding the fused weights to float32 does, applied to the training
// form. Every op's tensors are its row's (graph.Row.Tensors), so none is
// left out.
func perturbed(g *graph.Graph, rng *rand.Rand) *graph.Graph {
	cp := *g
	cp.Nodes = make([]*graph.Node, len(g.Nodes))
	copies := map[*graph.Node]*graph.Node{}
	for i, n := range g.Nodes {
		m := n.Clone()
		for j, in := range n.Inputs {
			m.Inputs[j] = copies[in]
		}
		for _, p := range m.Tensors() {
			for k, x := range *p.Data {
				(*p.Data)[k] = x * (1 + float64(rng.IntN(2)*2-1)*0x1p-24)
			}
		}
		copies[n] = m
		cp.Nodes[i] = m
	}
	cp.Output = copies[g.Output]
	return &cp
}
