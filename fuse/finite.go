package fuse

import (
	"math"

	"github.com/acgen/acgen/graph"
)

// Finite reports the first parameter of a fused graph that float32 cannot
// hold. Every weight of a checkpoint is finite (graph.Build checks), but
// folding multiplies by gamma/sqrt(running_var+eps), which a running_var
// near 0 with a tiny eps, or a huge gamma, can take past float32's range;
// the generated code would then compute with infinities.
func Finite(g *graph.Graph) error {
	for _, n := range g.Nodes {
		if err := FiniteNode(n); err != nil {
			return err
		}
	}
	return nil
}

// FiniteNode is Finite for one fused node.
func FiniteNode(n *graph.Node) error {
	for _, p := range n.Tensors() {
		for i, v := range *p.Data {
			if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > math.MaxFloat32 {
				name := p.Name
				if name == "" {
					name = p.Key(n.Layer.Prefix) // a scale's own parameter
				}
				return n.Layer.Errorf("with its BatchNorm folded in, %s at %v is %g, beyond float32's range: "+
					"a BatchNorm's running_var + eps near 0, or a huge BatchNorm weight, scales it too far", name, graph.Unravel(i, p.Shape), v)
			}
		}
	}
	return nil
}
