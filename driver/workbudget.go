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

// checkSamples is how many golden samples the check stage can afford
// within its work budget, besides the run of the unfused network with its
// weights moved that measures its sensitivity: want, or fewer, at least
// one; a network whose single sample costs more than the budget is
// refused, naming its largest layer.
func checkSamples(cfg *Config, r *Result, want int) (int, error) {
	budget := cfg.MaxCheckFLOPs
	if budget <= 0 {
		budget = DefaultMaxCheckFLOPs
	}
	var per, unfused, worstFLOPs float64
	var worst *graph.Node
	for _, g := range []*graph.Graph{r.Unfused, r.Fused} {
		for _, n := range g.Nodes {
			f := g.FLOPs(n)
			per += f
			if g == r.Unfused {
				unfused += f
			}
			if g == r.Unfused && (worst == nil || f > worstFLOPs) {
				worst, worstFLOPs = n, f
			}
		}
	}
	n := min(want, int((budget-unfused)/max(per, 1)))
	if n >= 1 {
		return n, nil
	}
	where := ""
	if worst != nil && worst.Layer != nil {
		where = fmt.Sprintf("%s: layer %q alone takes %.3g GFLOP; ", worst.Layer.Pos, worst.Name, worstFLOPs/1e9)
	}
	return 0, fmt.Errorf("%sthe check stage would compute %.3g GFLOP in the float64 reference runtime for one sample (about %.0f s), more than the budget of %.3g GFLOP: raise it with -max-check-gflop if the network is meant to be this large",
		where, (per+unfused)/1e9, (per+unfused)/2e9, budget/1e9)
}
