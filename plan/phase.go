package plan

import "github.com/acgen/acgen/target"

// Phase is one piece of a program's work that goroutines sharing a call
// split among themselves, with a barrier after it: a step (or, where
// Step.Units allows, ranges of its rows or Winograd blocks), a range of
// tile rows of a Winograd step run by assembly kernels, or one of the
// three phases of one of its blocks.
//
// Such a Winograd step has two schedules, and a call takes the one its
// goroutine count n selects (MinThreads <= n <= MaxThreads): ranges of
// tile rows, each goroutine running all three phases of its rows in its
// own scratch space (one barrier for the step, and each goroutine keeps
// its part of the image in its own cache from layer to layer, as the
// direct convolutions, split by rows, do), or each block's three phases
// shared in turn (three barriers a block, and the phases' data moves
// between the goroutines' caches, but it splits images with fewer tile
// rows than goroutines).
type Phase struct {
	Step     int
	Kind     PhaseKind
	Block    int // Winograd phases: the block of tile rows
	Units    int // what a part is a range of: rows, blocks, tile rows, channel blocks, transform elements
	MaxParts int // at most this many parts are worth their synchronisation
	// Cycles is the cost model's estimate of the whole phase on one
	// goroutine (see bench/scaling).
	Cycles float64

	// The phase runs in calls over MinThreads to MaxThreads goroutines;
	// MaxThreads 0 is no limit.
	MinThreads, MaxThreads int
}

// Runs reports whether the phase is part of a call over n goroutines.
func (ph *Phase) Runs(n int) bool {
	return ph.MinThreads <= n && (ph.MaxThreads == 0 || n <= ph.MaxThreads)
}

// PhaseKind says which part of a step a phase runs.
type PhaseKind int

const (
	WholeStep    PhaseKind = iota // the step, over a range of its Units
	WinogradIn                    // input transform, a range of input channel blocks
	WinogradGemm                  // products, a range of transform elements
	WinogradOut                   // output transform, a range of output channel blocks
	WinogradRows                  // all three phases, a range of the step's tile rows
)

// scheduleThreads is the largest goroutine count the plan compares the
// two Winograd schedules for; past it, the one chosen for it holds.
const scheduleThreads = 64

// Phases lists the phases of program p: with asm, Winograd steps run by
// their assembly kernels get both schedules (see Phase); the portable
// Go kernel splits a Winograd step by blocks only.
func (p *Program) Phases(asm bool) []Phase {
	t := p.Target
	var ph []Phase
	for i, s := range p.Steps {
		if !asm || s.Kind != Conv || s.Conv.Algo != Winograd {
			ph = append(ph, Phase{Step: i, Kind: WholeStep, Units: s.Units(), MaxParts: s.MaxParts(t), Cycles: s.Cycles(t), MinThreads: 1})
			continue
		}
		c := s.Conv
		w := p.winogradPhases(c)
		whole := float64(w.blocks) * w.block()
		rows := Phase{Step: i, Kind: WinogradRows, Units: c.TilesY, MinThreads: 1,
			MaxParts: maxParts(t, c.TilesY, whole), Cycles: whole}
		// Rows while every goroutine gets some (measured on Zen 4, they
		// beat shared phases on every layer of ResNet-20 and ResNet-18,
		// even where each goroutine then reads all the weights), then
		// while the cost model says they are no slower.
		upTo := max(1, min(c.TilesY, rows.MaxParts))
		for n := upTo + 1; n <= scheduleThreads && w.rows(t, rows, n) <= w.sharedPhases(t, n); n++ {
			upTo = n
		}
		if upTo == scheduleThreads {
			ph = append(ph, rows)
			continue
		}
		rows.MaxThreads = upTo
		ph = append(ph, rows)
		for b := 0; b < w.blocks; b++ {
			for k, units := range w.units {
				ph = append(ph, Phase{Step: i, Kind: WinogradIn + PhaseKind(k), Block: b, Units: units,
					MaxParts: maxParts(t, units, w.cycles[k]), Cycles: w.cycles[k], MinThreads: upTo + 1})
			}
		}
	}
	return ph
}

// winogradCost is the cost model's view of one block of a Winograd
// step: the units and cycles of its input transform, products and output
// transform, and the cycles it takes to read the transformed weights
// once, which bound the products of every block, and of every range of
// rows run apart.
type winogradCost struct {
	c       *ConvStep
	t       *target.Target
	units   [3]int
	cycles  [3]float64
	blocks  int
	weights float64
}

func (p *Program) winogradPhases(c *ConvStep) winogradCost {
	t := p.Target
	a := c.WinogradM + 2
	tiles := float64(c.BlockRows * c.TilesX)
	icb, ocb := c.InBlocks(), c.OutBlocks()
	in, out := t.Cost.WinogradIn2, t.Cost.WinogradOut2
	if c.WinogradM == 4 {
		in, out = t.Cost.WinogradIn4, t.Cost.WinogradOut4
	}
	w := winogradCost{c: c, t: t, units: [3]int{icb, a * a, ocb}, blocks: c.TilesY / c.BlockRows,
		weights: float64(a*a*c.In*ocb*c.Block*4) / p.weightBandwidth()}
	w.cycles = [3]float64{tiles * float64(icb) * in, w.gemm(c.BlockRows * c.TilesX), tiles * float64(ocb) * out}
	return w
}

// gemm estimates the products of a block's first tiles: a 1x1
// convolution per transform element, the larger of its FMAs, its loads
// (each register tile loads its weight vectors and broadcasts one input
// per tile, every channel) and reading the weights.
func (w winogradCost) gemm(tiles int) float64 {
	if tiles == 0 {
		return 0
	}
	c, cost := w.c, w.t.Cost
	a := float64(c.WinogradM + 2)
	fmas := a * a * float64(tiles*c.In*c.OutBlocks())
	loads := 0.0
	for _, tl := range c.Tiles {
		passes := float64(ceilDiv(tiles, c.Pixels))
		loads += a * a * float64(c.In) * (passes*float64(tl.Blocks) + float64(tiles))
	}
	return max(fmas/(cost.FMAsPerCycle*cost.Efficiency), loads/cost.LoadsPerCycle, w.weights)
}

// block is one block's cycles on one goroutine.
func (w winogradCost) block() float64 { return w.cycles[0] + w.cycles[1] + w.cycles[2] }

// rows estimates the step's cycles over n goroutines that each run a
// range of its tile rows: the largest range, whose products are in
// pieces no larger than a block, and a barrier.
func (w winogradCost) rows(t *target.Target, rows Phase, n int) float64 {
	k := min(n, rows.MaxParts)
	r := ceilDiv(rows.Units, k) // the largest range
	br := w.c.BlockRows
	transforms := float64(r) / float64(br) * (w.cycles[0] + w.cycles[2])
	gemm := float64(r/br)*w.cycles[1] + w.gemm(r%br*w.c.TilesX)
	cycles := transforms + gemm
	if k > 1 {
		cycles += t.Cost.SyncCycles
	}
	return cycles
}

// sharedPhases estimates the step's cycles over n goroutines that share
// each phase of each block: each phase takes its largest part, and
// costs a barrier if shared.
func (w winogradCost) sharedPhases(t *target.Target, n int) float64 {
	per := 0.0
	for k, units := range w.units {
		parts := min(n, maxParts(t, units, w.cycles[k]))
		per += w.cycles[k] * float64(ceilDiv(units, parts)) / float64(units)
		if parts > 1 {
			per += t.Cost.SyncCycles
		}
	}
	return float64(w.blocks) * per
}
