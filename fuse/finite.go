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
	type param struct {
		what  string
		v     []float64
		shape []int
	}
	for _, n := range g.Nodes {
		var params []param
		switch {
		case n.Conv != nil:
			params = []param{{"weight", n.Conv.Weight, n.Conv.WeightShape()}, {"bias", n.Conv.Bias, nil}}
		case n.Affine != nil:
			params = []param{{"scale", n.Affine.Scale, nil}, {"shift", n.Affine.Shift, nil}}
		case n.Linear != nil:
			params = []param{{"weight", n.Linear.Weight, []int{n.Linear.Out, n.Linear.In}}, {"bias", n.Linear.Bias, nil}}
		}
		for _, p := range params {
			for i, v := range p.v {
				if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > math.MaxFloat32 {
					return n.Layer.Errorf("with its BatchNorm folded in, %s at %v is %g, beyond float32's range: "+
						"a BatchNorm's running_var + eps near 0, or a huge BatchNorm weight, scales it too far", p.what, graph.Unravel(i, p.shape), v)
				}
			}
		}
	}
	return nil
}
