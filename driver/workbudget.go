package driver

import (
	"fmt"

	"github.com/acgen/acgen/graph"
)

// DefaultMaxCheckFLOPs bounds the check stage's work when Config says
// nothing: the reference runtime runs the unfused and the fused network
// on each golden sample in float64 at a few GFLOP/s, so this is some
// tens of seconds. ResNet-18 with ACBlocks takes about 20 GFLOP for two
// samples.
const DefaultMaxCheckFLOPs = 100e9

// nodeFLOPs is one node's floating-point operations per sample in the
// reference runtime (a multiply-add counts two).
func nodeFLOPs(n *graph.Node) float64 {
	conv := func(c *graph.Conv) float64 {
		return 2 * float64(n.Shape.Len()) * float64(c.In/c.Groups*c.KH*c.KW)
	}
	switch {
	case n.Conv != nil:
		return conv(n.Conv)
	case n.AC != nil:
		return conv(&n.AC.Square) + conv(&n.AC.Hor) + conv(&n.AC.Ver)
	case n.Linear != nil:
		return 2 * float64(n.Linear.In) * float64(n.Linear.Out)
	case n.Pool != nil:
		return float64(n.Shape.Len()) * float64(n.Pool.K*n.Pool.K)
	}
	return float64(n.Shape.Len())
}

// checkSamples is how many golden samples the check stage can afford
// within its work budget: want, or fewer, at least one; a network whose
// single sample costs more than the budget is refused, naming its
// largest layer.
func checkSamples(cfg *Config, r *Result, want int) (int, error) {
	budget := cfg.MaxCheckFLOPs
	if budget <= 0 {
		budget = DefaultMaxCheckFLOPs
	}
	var per float64
	var worst *graph.Node
	for _, g := range []*graph.Graph{r.Unfused, r.Fused} {
		for _, n := range g.Nodes {
			f := nodeFLOPs(n)
			per += f
			if g == r.Unfused && (worst == nil || f > nodeFLOPs(worst)) {
				worst = n
			}
		}
	}
	n := min(want, int(budget/max(per, 1)))
	if n >= 1 {
		return n, nil
	}
	where := ""
	if worst != nil && worst.Layer != nil {
		where = fmt.Sprintf("%s: layer %q alone takes %.3g GFLOP; ", worst.Layer.Pos, worst.Name, nodeFLOPs(worst)/1e9)
	}
	return 0, fmt.Errorf("%sthe check stage would compute %.3g GFLOP in the float64 reference runtime for one sample (about %.0f s), more than the budget of %.3g GFLOP: raise it with -max-check-gflop if the network is meant to be this large",
		where, per/1e9, per/2e9, budget/1e9)
}
