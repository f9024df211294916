package plan

import (
	"fmt"
	"math"
)

// The accuracy budget. Winograd F(m x m, 3 x 3) sums its products over
// the input channels in a transformed domain whose values are larger
// than the outputs they combine into, so its rounding errors come out
// amplified, and correlated over each tile's outputs: unlike a direct
// convolution's, they do not average out over an image (as a global
// pooling averages them), and they grow through the layers after them.
// The planner keeps a package within ErrorBudget times the error
// PyTorch's float32 makes against float64 (the largest relative error of
// the outputs), by a model of the network's error in multiples of
// PyTorch's:
//
//	E^2 = 1.2^2 + sum over Winograd layers of c0 * x * g(n)
//
// where 1.2 is a network of direct convolutions (measured 0.97x on
// ResNet-20 and 1.37x on ResNet-56, 32 samples each), n is the number of
// convolutions after the layer and x its excess: for F(4), 93 with 16
// input channels, 40 with 32, 12 with 64 or more (between, by the
// channels' logarithm); for F(2) 5, 2 and 0.5. c0 = 1.35e-3. The
// excesses' ratios for few channels follow the kernels' arithmetic
// emulated in float32 against float64 (an F(4) layer of 16 channels
// errs 9.7x a direct one, averaged over its image); the rest is fitted
// to the networks measured with bench/accuracy (32 samples): with F(4)
// in every stride-1 3x3 layer ResNet-20 made 2.36x PyTorch's error (the
// model: 2.40x), ResNet-56 3.66x (4.79x), ResNet-18 1.20x (1.41x); with
// F(2) in ResNet-56's 17 layers where it is the faster, 1.43x.
//
// How a layer's error grows, g(n), depends on where it lies. On a
// residual branch (a later sum adds it to a value that does not depend
// on it: every 3x3 layer of a ResNet) the branch's error joins a trunk
// that carries the signal past it, and g(n) = sqrt(n), as fitted above.
// On the network's main path (a plain stack, as VGG, RepVGG once fused,
// or Inception and GoogLeNet, whose concatenations sum nothing), every
// layer after it carries the error on, and g(n) = n: torchvision's
// Inception-v3 at 75x75 (random weights and BatchNorm statistics) made
// 4.6x PyTorch's error with F(4) in its three stem layers of 32 to 80
// channels, which the square root modelled as 1.65x; by leaving out one
// layer at a time, the three contributed 7.3, 3.2 and 1.1 to E^2, and
// g(n) = n models them as 5.1, 5.1 and 1.5 (sqrt(n): 0.52, 0.52, 0.16).
//
// The model is the assembly kernels'; the portable Go kernels err up to
// 1.3x more with Winograd (ResNet-20, F(4) everywhere: 3.08x). Layers
// start with the fastest algorithm the cost model finds; while the
// model's error exceeds the budget, the layer whose move to a more
// accurate algorithm (F(4) to F(2), or to direct) saves the most error
// for the cycles it costs moves. Package driver then checks the plan by
// emulation (see EmulatedError), and where the emulation finds it beyond
// the budget, makes more of the same moves.

// ErrorBudget is how many times PyTorch's float32 error a package may
// make, less a tenth for the model's own error.
const ErrorBudget = 2 * 0.9

// errorGrowth is c0 of the model above; directError is a network of
// direct convolutions.
const errorGrowth, directError = 1.35e-3, 1.2

// winogradExcess is the model's excess of a convolution of c's input
// channels by Winograd F(m x m, 3 x 3) (m = 0: direct, none).
func winogradExcess(c *ConvStep, m int) float64 {
	// x16, x32 and x64 for 16, 32 and 64 or more channels.
	var x16, x32, x64 float64
	switch m {
	case 2:
		x16, x32, x64 = 5, 2, 0.5
	case 4:
		x16, x32, x64 = 93, 40, 12
	default:
		return 0
	}
	l := math.Log2(float64(c.In / max(1, c.Groups)))
	switch {
	case l <= 4:
		return x16
	case l <= 5:
		return x16 + (l-4)*(x32-x16)
	case l <= 6:
		return x32 + (l-5)*(x64-x32)
	}
	return x64
}

// winogradOption is one algorithm a step may take: m (0 direct) and
// the cost model's cycles.
type winogradOption struct {
	m      int
	cycles float64
}

// chooseWinograd returns the Winograd tile size of each convolution step
// (0: none), the fastest the cost model finds within the accuracy budget
// of the whole program, and sets each candidate's Why.
func (p *planner) chooseWinograd() map[*Step]int {
	chosen := map[*Step]int{}
	options := map[*Step][]winogradOption{} // each step's algorithms, fastest first, direct among them
	after := map[*Step]float64{}            // convolutions after each one
	var convs []*Step
	for _, s := range p.prog.Steps {
		if s.Kind == Conv {
			convs = append(convs, s)
		}
	}
	branch := onResidualBranch(p.prog.Steps)
	growth := func(s *Step, m int) float64 {
		return errorGrowth * winogradExcess(s.Conv, m) * errorReach(after[s], branch[s])
	}
	total := directError * directError
	for i, s := range convs {
		after[s] = float64(len(convs) - 1 - i)
		c := s.Conv
		m := 0
		if s.Act.Clamp() && p.target.Runs(Winograd) { // see Act.Clamp
			var opts []winogradOption
			m, opts = p.winogradM(c)
			if len(opts) > 0 {
				options[s] = append(opts, winogradOption{0, p.convCycles(c, 0)})
			}
		}
		chosen[s] = m
		total += growth(s, m)
	}
	budget := ErrorBudget * ErrorBudget
	if !(p.opt.ForceWinograd || p.opt.WinogradM != 0 || p.opt.NoErrorBudget) {
		for moves := 0; ; moves++ {
			if n, set := p.opt.WinogradMoves[p.target.Name]; set && moves >= n || !set && total <= budget {
				break
			}
			// The move that saves the most error for its cycles.
			var best *Step
			var bestM int
			var bestRate, bestSaved float64
			for _, s := range convs {
				cur := chosen[s]
				if cur == 0 {
					continue
				}
				var curCycles float64
				for _, o := range options[s] {
					if o.m == cur {
						curCycles = o.cycles
					}
				}
				for _, o := range options[s] {
					saved := growth(s, cur) - growth(s, o.m)
					if saved <= 0 {
						continue
					}
					rate := saved / max(o.cycles-curCycles, 1)
					if best == nil || rate > bestRate {
						best, bestM, bestRate, bestSaved = s, o.m, rate, saved
					}
				}
			}
			if best == nil {
				break
			}
			p.prog.WinogradMoves++
			was := chosen[best]
			chosen[best] = bestM
			total -= bestSaved
			to := "direct"
			if bestM > 0 {
				to = fmt.Sprintf("F(%d)", bestM)
			}
			best.Conv.Why += fmt.Sprintf("; %s, not F(%d), for the accuracy budget", to, was)
		}
	}
	p.prog.ModelledError = math.Sqrt(total)
	return chosen
}

// errorReach is g(n) of the model: how a layer's error grows through the
// n convolutions after it, on a residual branch or on the main path.
func errorReach(n float64, onBranch bool) float64 {
	if onBranch {
		return math.Sqrt(n)
	}
	return n
}

// onResidualBranch reports the convolution steps that lie on a residual
// branch: a later sum (an Add step, or a convolution's fused residual)
// adds a value that depends on the step to one that does not. Steps are
// in the order they run; a value's dependencies are those of every step
// that writes it (concatenations write theirs in parts).
func onResidualBranch(steps []*Step) map[*Step]bool {
	deps := map[*Value]map[*Step]bool{}
	of := func(v *Value) map[*Step]bool { return deps[v] } // nil (none) for nil or the input
	union := func(sets ...map[*Step]bool) map[*Step]bool {
		u := map[*Step]bool{}
		for _, set := range sets {
			for s := range set {
				u[s] = true
			}
		}
		return u
	}
	branch := map[*Step]bool{}
	// sum marks the steps on one side of a sum and not on the other.
	sum := func(sides ...map[*Step]bool) {
		all := union(sides...)
		for s := range all {
			for _, side := range sides {
				if !side[s] {
					branch[s] = true
				}
			}
		}
	}
	for _, s := range steps {
		var ins []map[*Step]bool
		for _, v := range s.In {
			ins = append(ins, of(v))
		}
		d := union(ins...)
		switch {
		case s.Kind == Add:
			sum(ins...)
		case s.Residual() != nil:
			main := union(ins[0])
			main[s] = true
			sum(main, ins[1])
		}
		if s.Kind == Conv {
			d[s] = true
		}
		if s.Out != nil {
			deps[s.Out] = union(deps[s.Out], d)
		}
	}
	return branch
}
