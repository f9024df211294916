package driver

import (
	"fmt"
	"math"
	"runtime/debug"
	"slices"

	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
)

// Winograd's error, emulated. The plan stage chooses each layer's
// algorithm by the accuracy model (package plan), which knows nothing of
// the data. The check stage's stream has computed the fused network in
// float64; replan then emulates the planned network (see
// plan.EmulatedError) and, where the model's plan is beyond the budget
// by the emulation, keeps fewer Winograd layers, and packs the plan it
// keeps in a last pass (refill). Each pass reads and fuses the weights
// again, layer by layer, as the first did: what the stream holds stays
// one layer's weights.

// wantsEmulation reports whether the check stage emulates the plan:
// unless Winograd is off or chosen by hand, the plan is for speed alone,
// or the network is larger than emulationFLOPs.
func wantsEmulation(cfg *Config, r *Result) bool {
	if cfg.MeasureEmulation {
		return true
	}
	o := cfg.Plan
	if o.NoWinograd || o.ForceWinograd || o.WinogradM != 0 || o.NoErrorBudget || o.WinogradMoves != nil {
		return false
	}
	var flops int64
	for _, s := range r.Program.Steps {
		flops += s.FLOPs
	}
	return flops <= emulationFLOPs
}

// emulationFLOPs is the largest network (FLOPs a sample) whose plan the
// check stage emulates. The emulation runs the network again up to six
// times in Go, some of them in float32 arithmetic emulated a value at a
// time: ResNet-18 at 224x224 (3.6 GFLOP) took 20 s to generate instead
// of 6, ResNet-50 (8.2 GFLOP) 39 s instead of 11. The model alone
// misjudged networks at small inputs, where the emulation is cheap
// (ResNet-18 at 64x64, 0.3 GFLOP, as fast either way); at 224x224,
// where only ResNet-18 was measured, it overestimated (1.16x PyTorch's
// error measured, 1.43x modelled), and an early form of the emulation,
// more cautious still, cost ResNet-18 at 224x224 12% of its speed. So a
// larger network is planned by the model alone, as before. That leaves
// Wide-ResNet-101-2 at 64x64 (3.7 GFLOP) at 2.07x PyTorch's error, which
// the emulation mends (1.2x): the limit is a compromise, not a bound.
const emulationFLOPs = 2e9

// emulationRounds is the most plans the check stage emulates after the
// model's own, and emulatedSamples the samples it emulates them on (each
// costs a run of the network with its convolutions emulated in Go:
// ResNet-50 at 224x224 takes about 3 s).
const emulationRounds, emulatedSamples = 4, 1

// replan checks the plan's Winograd layers by emulation, plans again
// where they are beyond the budget, and packs the plan it keeps. It runs
// after run, while s.fused holds the fused network's float64 outputs.
//
// The model's plan is kept when its emulation is within the budget.
// Else the model's order of moves stands (each moves one layer to a more
// accurate algorithm, the one that saves the most modelled error for its
// cycles first) but the emulation, not the model, says how many to make:
// each program that failed bisects between the model's count and the
// count that leaves no Winograd, which cannot fail, on its own (the
// targets' cost models order their moves differently).
func (s *stream) replan(cfg *Config) error {
	if cfg.MeasureEmulation {
		return s.measureEmulation()
	}
	if !slices.ContainsFunc(s.r.Plan.Programs, func(p *plan.Program) bool { return len(p.WinogradLayers()) > 0 }) {
		return nil // the weights are packed already
	}
	exact := s.fused[s.r.Fused.Output][:s.emulated()]
	build := func(moves []int) error {
		opt := cfg.Plan
		opt.WinogradMoves = map[string]int{}
		for i, p := range s.r.Plan.Programs {
			opt.WinogradMoves[p.Target.Name] = moves[i]
		}
		return buildPlan(cfg, s.r, opt)
	}
	direct, err := s.forward(true, nil)
	if err != nil {
		return err
	}
	d := rmsErr(direct, exact)
	// emulate sets each program's EmulatedError (programs that choose
	// the same layers share one run) and reports which are within the
	// budget.
	emulate := func() ([]bool, error) {
		var ok []bool
		var runs []map[*graph.Node]int
		var errs []float64
		for _, p := range s.r.Plan.Programs {
			layers := p.WinogradLayers()
			p.EmulatedError = plan.EmulatedError(0, d)
			if len(layers) > 0 {
				i := slices.IndexFunc(runs, func(l map[*graph.Node]int) bool { return sameLayers(l, layers) })
				if i < 0 {
					y, err := s.forward(false, layers)
					if err != nil {
						return nil, err
					}
					runs, errs = append(runs, layers), append(errs, plan.EmulatedError(rmsErr(y, exact), d))
					i = len(runs) - 1
				}
				p.EmulatedError = errs[i]
			}
			ok = append(ok, plan.WithinBudget(p.EmulatedError))
		}
		return ok, nil
	}
	ok, err := emulate()
	if err != nil || !slices.Contains(ok, false) {
		return err // the model's plan, packed already
	}
	// Each program bisects its own count of moves: lo fails, hi passes.
	n := len(s.r.Plan.Programs)
	lo, hi := make([]int, n), make([]int, n)
	hiErrs := make([]float64, n)
	for i, p := range s.r.Plan.Programs {
		lo[i], hiErrs[i] = p.WinogradMoves, p.EmulatedError // the model's plan's, kept where it passed
	}
	all := make([]int, n)
	for i := range all {
		all[i] = math.MaxInt
	}
	if err := build(all); err != nil {
		return err
	}
	for i, p := range s.r.Plan.Programs {
		if ok[i] {
			hi[i] = lo[i] // within it already: the model's plan stays
		} else {
			hi[i], hiErrs[i] = p.WinogradMoves, plan.EmulatedError(0, d) // no Winograd left
		}
	}
	for round := 0; round < emulationRounds; round++ {
		mid, open := make([]int, n), false
		for i := range mid {
			mid[i] = hi[i]
			if hi[i]-lo[i] > 1 {
				mid[i], open = (lo[i]+hi[i])/2, true
			}
		}
		if !open {
			break
		}
		s.r.EmulatedPlans++
		if err := build(mid); err != nil {
			return err
		}
		ok, err := emulate()
		if err != nil {
			return err
		}
		for i, p := range s.r.Plan.Programs {
			switch {
			case mid[i] == hi[i]:
			case ok[i]:
				hi[i], hiErrs[i] = mid[i], p.EmulatedError
			default:
				lo[i] = mid[i]
			}
		}
	}
	if err := build(hi); err != nil {
		return err
	}
	for i, p := range s.r.Plan.Programs { // as emulated, or with no Winograd
		p.EmulatedError = hiErrs[i]
	}
	return s.refill()
}

// measureEmulation emulates every program's plan as replan does, and
// the whole float32 run besides, on every golden sample (replan, on the
// first), and records what it measured in each program, changing no
// plan.
func (s *stream) measureEmulation() error {
	n := len(s.samples) // every golden sample, where the plan is emulated on the first
	exact := s.fused[s.r.Fused.Output][:n]
	direct, err := s.forwardOn(n, true, nil)
	if err != nil {
		return err
	}
	var e plan.Emulation
	e.DirectRMS, e.DirectMax = errStats(direct, exact)
	for _, p := range s.r.Plan.Programs {
		p.Emulation = e
		p.EmulatedError = plan.EmulatedError(0, e.DirectRMS)
		if layers := p.WinogradLayers(); len(layers) > 0 {
			w, err := s.forwardOn(n, false, layers)
			if err != nil {
				return err
			}
			full, err := s.forwardOn(n, true, layers)
			if err != nil {
				return err
			}
			p.Emulation.WinogradRMS, p.Emulation.WinogradMax = errStats(w, exact)
			p.Emulation.FullRMS, p.Emulation.FullMax = errStats(full, exact)
			p.EmulatedError = plan.EmulatedError(p.Emulation.WinogradRMS, e.DirectRMS)
		}
	}
	return nil
}

// errStats is the root mean square of got - want over every sample's
// outputs, and the largest |got - want| / max(1, |want|).
func errStats(got, want [][]float64) (rms, largest float64) {
	for k := range got {
		for i, v := range got[k] {
			largest = max(largest, math.Abs(v-want[k][i])/max(1, math.Abs(want[k][i])))
		}
	}
	return rmsErr(got, want), largest
}

// sameLayers reports whether two programs compute the same layers by
// Winograd of the same tile sizes.
func sameLayers(a, b map[*graph.Node]int) bool {
	if len(a) != len(b) {
		return false
	}
	for n, m := range a {
		if b[n] != m {
			return false
		}
	}
	return true
}

// rmsErr is the root mean square of got - want over every sample's
// outputs.
func rmsErr(got, want [][]float64) float64 {
	var s float64
	var n int
	for k := range got {
		for i, v := range got[k] {
			d := v - want[k][i]
			s += d * d
			n++
		}
	}
	return math.Sqrt(s / float64(max(n, 1)))
}

// forward runs the fused network on the golden samples, reading and
// fusing the weights again as run does. With direct, as float32 would:
// every convolution and linear layer by graph.Conv32, every value
// rounded to float32. Else in float64, but the layers of winograd with
// the error Winograd makes in float32 added (winogradError).
func (s *stream) forward(direct bool, winograd map[*graph.Node]int) ([][]float64, error) {
	return s.forwardOn(s.emulated(), direct, winograd)
}

// emulated is the number of golden samples replan emulates plans on.
func (s *stream) emulated() int { return min(emulatedSamples, len(s.samples)) }

// forwardOn is forward on the first n golden samples.
func (s *stream) forwardOn(n int, direct bool, winograd map[*graph.Node]int) ([][]float64, error) {
	g := s.r.Fused
	acts := map[*graph.Node][][]float64{}
	err := s.restream(func(m *graph.Node, i int) error {
		shapes := g.InputShapes(m)
		out := make([][]float64, n)
		for k, in := range s.samples[:n] {
			args := nodeArgs(m, shapes, acts, in, k)
			var y []float64
			switch {
			case winograd[m] > 0:
				y = winogradError(m, args[0], winograd[m])
			case direct && m.Op == spec.Conv:
				y = graph.Conv32(args[0], m.Conv, plan.DirectChain(m.Conv)).Data
			case direct && m.Op == spec.Linear:
				// A 1x1 convolution of the flattened input, as the
				// kernels compute it.
				c := graph.LinearConv(m.Linear)
				y = graph.Conv32(graph.Tensor{Shape: graph.Shape{C: c.In, H: 1, W: 1}, Data: args[0].Data}, c, plan.DirectChain(c)).Data
			default:
				y = m.Row().Ref(m, args).Data
			}
			if direct {
				y = graph.Round32(y) // a copy: Ref may return its input's values
			}
			out[k] = y
		}
		acts[m] = out
		dropRead(acts, s.fusedEnd, i)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return acts[g.Output], nil
}

// winogradError is convolution node m of x in float64 plus the error
// Winograd F(mm) makes computing it in float32 (plan.WinogradConv32)
// from x rounded to float32: the rounding of x itself is not Winograd's
// doing, and the direct run counts it already.
//
// That is conv(x) + (W(x32) - conv(x32)) = W(x32) + conv(x - x32), the
// convolution being linear (the bias cancels): one float64 convolution,
// of x's rounding error, instead of two.
func winogradError(m *graph.Node, x graph.Tensor, mm int) []float64 {
	x32 := graph.Round32(x.Data)
	y := plan.WinogradConv32(m.Conv, x32, x.Shape, mm)
	rounding := graph.NewTensor(x.Shape)
	for i, v := range x.Data {
		rounding.Data[i] = v - x32[i]
	}
	for i, v := range graph.ConvLinear(rounding, m.Conv).Data {
		y[i] += v
	}
	return y
}

// refill packs every fused node's weights into the plan.
func (s *stream) refill() error {
	err := s.restream(func(m *graph.Node, _ int) error {
		s.r.Plan.Fill(m)
		return nil
	})
	if err != nil {
		return err
	}
	if pending := s.r.Plan.Unfilled(); len(pending) > 0 {
		return fmt.Errorf("%w: the weights of %s were never packed", ErrInternal, pending[0])
	}
	return nil
}

// restream reads and fuses the weights again in run's order, calling do
// with each fused node once its weights are ready (and the step of the
// training-form node it is due at), then letting them go.
func (s *stream) restream(do func(m *graph.Node, step int) error) error {
	for i, u := range s.r.Unfused.Nodes {
		if s.streamsBig(u) {
			debug.FreeOSMemory()
		}
		if err := s.r.Unfused.Bind(u); err != nil {
			return err
		}
		m := s.fusedOf[u]
		if m == nil || u != m.From[len(m.From)-1] {
			continue
		}
		fuse.Materialize(m)
		if err := fuse.FiniteNode(m); err != nil {
			return err
		}
		if err := do(m, i); err != nil {
			return err
		}
		s.letGo(m)
	}
	return nil
}
