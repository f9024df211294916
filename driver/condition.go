package driver

import (
	"math/rand/v2"

	"github.com/acgen/acgen/graph"
)

// perturbed is a copy of g with every parameter moved by a relative
// 2^-24 (half a float32 ulp), each up or down at random: what rounding
// the fused weights to float32 does, applied to the training form.
func perturbed(g *graph.Graph, rng *rand.Rand) *graph.Graph {
	move := func(v []float64) []float64 {
		if v == nil {
			return nil
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = x * (1 + float64(rng.IntN(2)*2-1)*0x1p-24)
		}
		return out
	}
	conv := func(c graph.Conv) graph.Conv {
		c.Weight, c.Bias = move(c.Weight), move(c.Bias)
		return c
	}
	bn := func(b graph.BatchNorm) graph.BatchNorm {
		b.Gamma, b.Beta, b.Mean = move(b.Gamma), move(b.Beta), move(b.Mean)
		return b
	}
	cp := *g
	cp.Nodes = make([]*graph.Node, len(g.Nodes))
	copies := map[*graph.Node]*graph.Node{}
	for i, n := range g.Nodes {
		m := *n
		m.Inputs = make([]*graph.Node, len(n.Inputs))
		for j, in := range n.Inputs {
			m.Inputs[j] = copies[in]
		}
		switch {
		case n.Conv != nil:
			c := conv(*n.Conv)
			m.Conv = &c
		case n.AC != nil:
			ac := *n.AC
			ac.Square, ac.Hor, ac.Ver = conv(ac.Square), conv(ac.Hor), conv(ac.Ver)
			ac.SquareBN, ac.HorBN, ac.VerBN = bn(ac.SquareBN), bn(ac.HorBN), bn(ac.VerBN)
			m.AC = &ac
		case n.BN != nil:
			b := bn(*n.BN)
			m.BN = &b
		case n.Linear != nil:
			l := *n.Linear
			l.Weight, l.Bias = move(l.Weight), move(l.Bias)
			m.Linear = &l
		case n.Affine != nil:
			m.Affine = &graph.Affine{Scale: move(n.Affine.Scale), Shift: move(n.Affine.Shift)}
		}
		copies[n] = &m
		cp.Nodes[i] = &m
	}
	cp.Output = copies[g.Output]
	return &cp
}
