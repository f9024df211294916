package plan

import (
	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/spec"
)

// A lowering turns fused-graph node n into step s: it sets s's kind and
// geometry, may absorb the nodes after n that s computes too (an
// activation, a residual add), and returns the last node s computes, or
// nil when n needs no step of its own (its reader reads its input).
type lowering func(p *planner, s *Step, n *graph.Node) (last *graph.Node)

// lowerings hold each op's lowering: every op a fused graph can hold
// (graph's rows without a Fold) must have one, as TestLowerings checks.
var lowerings = map[spec.Op]lowering{
	spec.Conv: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		s.Kind = Conv
		s.Conv = &ConvStep{Conv: n.Conv.Geometry(), OutH: n.Shape.H, OutW: n.Shape.W, Block: p.target.Lanes,
			weights: func() ([]float64, []float64) { return n.Conv.Weight, n.Conv.Bias }}
		s.FLOPs = 2 * int64(n.Shape.Len()) * int64(n.Conv.In/n.Conv.Groups*n.Conv.KH*n.Conv.KW)
		return p.absorbAct(s, p.absorbResidual(s, n))
	},
	spec.Linear: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		if in := n.Inputs; len(in) == 1 && in[0].Op == spec.Flatten && p.elided(in[0]) {
			s.In = p.args(in[0]) // read the unflattened value
		}
		s.FLOPs = 2 * int64(n.Linear.In) * int64(n.Linear.Out)
		if x := s.In[0].Layout; x.H*x.W <= maxLoweredTaps {
			// A linear layer is a convolution whose kernel covers its
			// whole input: the weight [out][C*H*W] is [out][C][H][W].
			s.Kind = Conv
			s.Conv = lowered(x, window(n.Linear.Out, x.H, x.W, 1, 0, 1), func() ([]float64, []float64) { return n.Linear.Weight, n.Linear.Bias })
		} else {
			s.Kind = Linear
			s.Linear = &LinearStep{In: n.Linear.In, Out: n.Linear.Out}
		}
		return p.absorbAct(s, n)
	},
	spec.GlobalAvgPool: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		lowerGlobalAvgPool(s)
		return n
	},
	spec.AvgPool: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		lowerAvgPool(s, n.Pool, n.Shape)
		return n
	},
	spec.AdaptiveAvgPool: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		x, out := s.In[0].Layout, n.Shape
		switch {
		case out.H == 1 && out.W == 1:
			lowerGlobalAvgPool(s)
		case x.H%out.H == 0 && x.W%out.W == 0:
			// Windows of in/out values, side by side: average pooling
			// with kernel and stride in/out.
			kh, kw := x.H/out.H, x.W/out.W
			lowerAvgPool(s, &graph.Pool{KH: kh, KW: kw, StrideH: kh, StrideW: kw, DilH: 1, DilW: 1, CountPad: true}, out)
		default:
			s.Kind = AdaptiveAvgPool
			s.FLOPs = int64(n.Row().FLOPs(n, []graph.Shape{{C: x.C, H: x.H, W: x.W}}))
		}
		return n
	},
	spec.Flatten: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		if p.elided(n) {
			return nil // its reader, a linear layer, reads its input
		}
		s.Kind = Flatten
		return n
	},
	spec.MaxPool: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		s.Kind = MaxPool
		s.Pool = n.Pool
		return n
	},
	spec.Add: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		s.Kind = Add
		return p.absorbAct(s, n)
	},
	spec.Concat: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		s.Kind = Concat
		return n
	},
	graph.OpAffine: lowerAffine,
	spec.Scale:     lowerAffine, // one fusion could not fold: a shift of zeros
	spec.LayerNorm: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		s.Kind = LayerNorm
		s.Norm = &NormStep{Eps: float32(n.Norm.Eps)}
		s.FLOPs = int64(n.Row().FLOPs(n, nil))
		return n
	},
	spec.GRN: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		s.Kind = GRN
		s.GRN = &GRNStep{Eps: float32(n.GRN.Eps)}
		s.FLOPs = int64(n.Row().FLOPs(n, nil))
		return n
	},
	spec.Split:          lowerGather,
	spec.ChannelShuffle: lowerGather,
	spec.Mul: func(p *planner, s *Step, n *graph.Node) *graph.Node {
		s.Kind = Mul
		return p.absorbAct(s, n)
	},
}

func init() {
	for _, f := range act.Table[1:] {
		lowerings[f.Op] = lowerActivation
	}
}

// lowerGlobalAvgPool computes the mean of each channel: as a depthwise
// convolution whose kernel covers the image, with weights 1/(H*W), or
// where the image is too large to unroll, by its own kernel.
func lowerGlobalAvgPool(s *Step) {
	x := s.In[0].Layout
	s.FLOPs = 2 * int64(x.C*x.H*x.W)
	if x.H*x.W <= maxLoweredTaps {
		s.Kind = Conv
		s.Conv = lowered(x, window(x.C, x.H, x.W, 1, 0, x.C), constantWeights(x.C*x.H*x.W, 1/float64(x.H*x.W)))
		return
	}
	s.Kind = GlobalAvgPool
}

// lowerAvgPool computes average pooling pl to out: where every window
// has the divisor KH*KW, as a depthwise convolution with weights
// 1/(KH*KW) over the zero halo, else by its own kernel.
func lowerAvgPool(s *Step, pl *graph.Pool, out graph.Shape) {
	x := s.In[0].Layout
	taps := pl.KH * pl.KW
	s.FLOPs = 2 * int64(out.Len()*taps)
	if taps <= maxLoweredTaps && sameDivisor(pl, x, out) {
		s.Kind = Conv
		s.Conv = lowered(x, poolWindow(x.C, pl), constantWeights(x.C*taps, 1/float64(taps)))
		return
	}
	s.Kind = AvgPool
	s.Pool = pl
}

// lowerAffine scales and shifts each channel (n.Affine).
func lowerAffine(p *planner, s *Step, n *graph.Node) *graph.Node {
	s.Kind = Affine
	s.Affine = &AffineStep{}
	return p.absorbAct(s, n)
}

// lowerGather copies the channels of a gather (a split's output, a
// shuffle) that fusion left.
func lowerGather(p *planner, s *Step, n *graph.Node) *graph.Node {
	s.Kind = Gather
	s.Channels = n.Gather.Channels
	return n
}

// lowerActivation is an activation that no step before it absorbed.
func lowerActivation(p *planner, s *Step, n *graph.Node) *graph.Node {
	s.Kind = Activation
	s.Act = ActOf(n)
	return n
}

// Lowers reports whether the planner can lower op: the op-table tests
// check every op a fused graph can hold.
func Lowers(op spec.Op) bool { return lowerings[op] != nil }
