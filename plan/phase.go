package plan

import "github.com/acgen/acgen/target"

// Phase is one piece of a program's work that goroutines sharing a call
// split among themselves, with a barrier after it: a step (or, where
// Step.Units allows, ranges of its rows, its (tile, row) pairs or its
// Winograd blocks), a range of the grid of (tile row, output channel
// tile) units of a Winograd step run by assembly kernels, or one of the
// three phases of one of its blocks.
//
// Such a Winograd step has three schedules, and a call takes the one its
// goroutine count n selects (MinThreads <= n <= MaxThreads; see
// winogradSchedules): by rows, the grid numbered row-major, so that each
// goroutine runs all three phases of a run of tile rows in its own
// scratch space (one barrier for the step, and each goroutine keeps its
// part of the image in its own cache from layer to layer, as the direct
// convolutions, split by rows, do); by channels, a grid of (tile row,
// output channel block) units numbered block-major, each part rounded to
// whole (tile row, tile) units in proportion to its tiles' widths, so
// that each goroutine transforms the input it needs in its own scratch
// space and reads only its tiles' weights (one barrier); or each block's
// three phases shared in turn (three barriers a block, and the phases'
// data moves between the goroutines' caches, but it splits steps with
// fewer grid units worth a part than goroutines). A run of grid units may
// start and end inside a row or a tile, so that 7 tile rows or 11 tiles
// split evenly.
type Phase struct {
	Step     int
	Kind     PhaseKind
	Block    int // Winograd phases: the block of tile rows
	Units    int // what a part is a range of: rows, (tile, row) pairs, blocks, grid units, channel blocks, transform elements
	MaxParts int // at most this many parts are worth their synchronisation
	// Cycles is the cost model's estimate of the whole phase on one
	// goroutine (see bench/scaling).
	Cycles float64

	// The phase runs in calls over MinThreads to MaxThreads goroutines;
	// MaxThreads 0 is no limit. A Winograd schedule that no goroutine
	// count chooses is there all the same, with MaxThreads -1 (never),
	// for the kernel harness to test.
	MinThreads, MaxThreads int
}

// Runs reports whether the phase is part of a call over n goroutines.
func (ph *Phase) Runs(n int) bool {
	return ph.MinThreads <= n && (ph.MaxThreads == 0 || n <= ph.MaxThreads)
}

// never is the thread range of a schedule no call runs.
const never = -1

// PhaseKind says which part of a step a phase runs.
type PhaseKind int

const (
	WholeStep        PhaseKind = iota // the step, over a range of its Units
	WinogradIn                        // input transform, a range of input channel blocks
	WinogradGemm                      // products, a range of transform elements
	WinogradOut                       // output transform, a range of output channel blocks
	WinogradRows                      // all three phases, a range of the step's grid, row-major
	WinogradChannels                  // all three phases, a range of the step's (tile row, channel block) units, block-major
)

// scheduleThreads is the largest goroutine count the plan compares the
// Winograd schedules for; past it, the one chosen for it holds.
const scheduleThreads = 64

// Phases lists the phases of program p: with asm, Winograd steps run by
// their assembly kernels get their three schedules (see Phase); the
// portable Go kernel splits a Winograd step by blocks only.
func (p *Program) Phases(asm bool) []Phase {
	t := p.Target
	var ph []Phase
	for i, s := range p.Steps {
		if !asm || s.Kind != Conv || s.Conv.Algo != Winograd {
			ph = append(ph, Phase{Step: i, Kind: WholeStep, Units: s.Units(), MaxParts: s.MaxParts(t), Cycles: s.Cycles(t), MinThreads: 1})
			continue
		}
		ph = append(ph, p.winogradSchedules(i, s.Conv)...)
	}
	return ph
}

// A Winograd step's schedules, for calls over n goroutines (see Phase).
const (
	byRows = iota
	byChannels
	byPhases
)

// winogradSchedules are the phases of Winograd step i for calls over any
// number of goroutines: for each n the schedule the cost model finds
// fastest, ranges of tile rows unless another is a tenth faster. Rows
// keep each goroutine's part of the image in its own cache from layer to
// layer, which the model does not count. Splitting by output channels
// has each goroutine read only its share of the weights, which wins
// where they outweigh the image (small images, many channels:
// ResNet-18's 28x28 layers split by channels were 5-13% faster than by
// rows on two cores of AMD Zen 1 and Zen 4, where the model finds them
// 17-23% faster); but each goroutine transforms all the input its tiles
// need. Sharing each block's three phases in turn splits the input
// transform too, and the products by transform element, so that each
// goroutine reads its elements' weights only, for two more barriers a
// block and V and M read from the other goroutines' caches: on two cores
// of AMD Zen 1, ResNet-18's one-block layers of 128 to 512 channels ran
// 1.80-1.94x faster than on one, against 1.71-1.88x split by channels
// (the model finds it 1-6% faster than channels). It also splits what
// has too few rows and channel tiles for the goroutines.
func (p *Program) winogradSchedules(i int, c *ConvStep) []Phase {
	t := p.Target
	w := p.winogradPhases(c)
	whole := float64(w.blocks) * w.block()
	// Rows split the grid of (tile row, output channel tile) units,
	// numbered row-major; channels the grid of (tile row, output channel
	// block) units, numbered block-major, each part rounded to the first
	// grid's units (tile-major) in proportion to its tiles' blocks.
	grid := c.TilesY * len(c.Tiles)
	rows := Phase{Step: i, Kind: WinogradRows, Units: grid, MaxParts: maxParts(t, grid, whole), Cycles: whole}
	blocks := c.TilesY * c.OutBlocks()
	channels := Phase{Step: i, Kind: WinogradChannels, Units: blocks, MaxParts: maxParts(t, blocks, whole), Cycles: whole}
	choose := func(n int) int {
		r, ch, sh := w.rows(rows, n), w.channels(channels, n), w.sharedPhases(n)
		switch {
		case sh < 0.9*r && sh < ch:
			return byPhases
		case ch < 0.9*r:
			return byChannels
		}
		return byRows
	}
	var ph []Phase
	used := map[int]bool{}
	add := func(kind, lo, upTo int) {
		used[kind] = true
		switch kind {
		case byRows, byChannels:
			sched := rows
			if kind == byChannels {
				sched = channels
			}
			sched.MinThreads, sched.MaxThreads = lo, upTo
			ph = append(ph, sched)
		case byPhases:
			for b := 0; b < w.blocks; b++ {
				for k, units := range w.units {
					ph = append(ph, Phase{Step: i, Kind: WinogradIn + PhaseKind(k), Block: b, Units: units,
						MaxParts: maxParts(t, units, w.cycles[k]), Cycles: w.cycles[k], MinThreads: lo, MaxThreads: upTo})
				}
			}
		}
	}
	for lo := 1; lo <= scheduleThreads; {
		kind := choose(lo)
		hi := lo
		for hi < scheduleThreads && choose(hi+1) == kind {
			hi++
		}
		upTo := hi
		if hi == scheduleThreads {
			upTo = 0 // and beyond
		}
		add(kind, lo, upTo)
		lo = hi + 1
	}
	for kind := byRows; kind <= byPhases; kind++ {
		if !used[kind] {
			add(kind, 0, never)
		}
	}
	return ph
}

// winogradCost is the cost model's view of one block of a Winograd
// step: the units and cycles of its input transform, products and output
// transform; and the cycles it takes one goroutine to read the
// transformed weights once, which bound a whole step's products.
type winogradCost struct {
	c       *ConvStep
	t       *target.Target
	units   [3]int
	cycles  [3]float64
	blocks  int
	weights float64
	streams bool // the weights come from memory (Program.StreamsWeights)
}

func (p *Program) winogradPhases(c *ConvStep) winogradCost {
	t := p.Target
	a := c.WinogradM + 2
	tiles := float64(c.BlockRows * c.TilesX)
	icb, ocb := c.InBlocks(), c.OutBlocks()
	in, out := transformCycles(t.Cost, c.WinogradM)
	w := winogradCost{c: c, t: t, units: [3]int{icb, a * a, ocb}, blocks: c.TilesY / c.BlockRows,
		weights: float64(a*a*c.In*ocb*c.Block*4) / p.weightBandwidth(), streams: p.StreamsWeights}
	w.cycles = [3]float64{tiles * float64(icb) * in, w.gemm(c.BlockRows * c.TilesX), tiles * float64(ocb) * out}
	return w
}

// transformCycles are the target's cycles per tile and channel block of
// Winograd F(m x m, 3 x 3)'s input and output transforms.
func transformCycles(cost target.Cost, m int) (in, out float64) {
	if m == 4 {
		return cost.WinogradIn4, cost.WinogradOut4
	}
	return cost.WinogradIn2, cost.WinogradOut2
}

// gemm estimates the products of a block's first tiles: a 1x1
// convolution per transform element, the larger of its FMAs and its
// loads (each register tile loads its weight vectors and broadcasts one
// input per tile, every channel).
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
	return max(fmas/(cost.FMAsPerCycle*cost.Efficiency), loads/cost.LoadsPerCycle)
}

// block is one block's cycles on one goroutine.
func (w winogradCost) block() float64 { return w.cycles[0] + w.cycles[1] + w.cycles[2] }

// barrier is a barrier's cycles if k goroutines share a phase.
func (w winogradCost) barrier(k int) float64 {
	if k > 1 {
		return w.t.Cost.SyncCycles
	}
	return 0
}

// rows estimates the step's cycles over n goroutines that each run a
// run of its grid, row-major: the largest run, whose input transforms
// cover every tile row it touches, whose products are in pieces no
// larger than a block, and which reads all the weights.
func (w winogradCost) rows(rows Phase, n int) float64 {
	k := min(n, rows.MaxParts)
	c := w.c
	tiles := len(c.Tiles)
	u := ceilDiv(rows.Units, k) // the largest run
	r := u / tiles              // its whole rows
	br := float64(c.BlockRows)
	touched := min(c.TilesY, ceilDiv(u+tiles-1, tiles))
	share := float64(u) / float64(tiles) // rows of products and outputs
	transforms := float64(touched)/br*w.cycles[0] + share/br*w.cycles[2]
	gemm := float64(r/c.BlockRows)*w.cycles[1] + w.gemm(r%c.BlockRows*c.TilesX) + float64(u%tiles)/float64(tiles)*w.gemm(c.TilesX)
	return w.withWeights(transforms+gemm, k, 1) + w.barrier(k)
}

// channels estimates the step's cycles over n goroutines that each run
// a run of its grid, tile-major: every input transform, and the run's
// share of the products, weights and output transforms.
func (w winogradCost) channels(channels Phase, n int) float64 {
	k := min(n, channels.MaxParts)
	share := float64(ceilDiv(channels.Units, k)) / float64(channels.Units)
	per := w.cycles[0] + share*(w.cycles[1]+w.cycles[2])
	return w.withWeights(float64(w.blocks)*per, k, share) + w.barrier(k)
}

// sharedPhases estimates the step's cycles over n goroutines that share
// each phase of each block: each phase takes its largest part, and
// costs a barrier if shared; and the products and output transforms
// read the V and M the others wrote from their caches.
func (w winogradCost) sharedPhases(n int) float64 {
	per, readers, share := 0.0, 1, 1.0
	for k, units := range w.units {
		parts := min(n, maxParts(w.t, units, w.cycles[k]))
		s := float64(ceilDiv(units, parts)) / float64(units)
		per += w.cycles[k]*s + w.barrier(parts)
		if k == 1 {
			readers, share = parts, s
		}
	}
	if readers > 1 {
		v, m, _ := w.c.WinogradScratch()
		per += float64((v+m)*4) * float64(readers-1) / float64(readers) / w.t.Cost.CacheBytesPerCycle
	}
	return w.withWeights(float64(w.blocks)*per, readers, share)
}

// withWeights adds to compute, a part's cycles, the time it waits for
// the transformed weights when readers goroutines each read share of
// them at once. From the last-level cache each core reads them at its
// own rate, behind its FMAs. Weights streamed from memory come over one
// path all the cores share, and the products wait for them (on one core
// ResNet-18's Winograd layers take about their FMAs plus one read of
// their weights, measured on AMD Zen 1): parts that each read all of
// them take as many reads as there are parts, parts that each read
// their own share, one.
func (w winogradCost) withWeights(compute float64, readers int, share float64) float64 {
	if w.streams {
		return compute + float64(readers)*share*w.weights
	}
	return max(compute, share*w.weights)
}
