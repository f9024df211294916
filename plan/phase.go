package plan

// Phase is one piece of a program's work that goroutines sharing a call
// split among themselves, with a barrier after it: a step (or, where
// Step.Units allows, ranges of its rows), or one of the three phases of
// one block of tile rows of a Winograd step run by assembly kernels.
type Phase struct {
	Step     int
	Kind     PhaseKind
	Block    int // Winograd: the block of tile rows
	Units    int // what a part is a range of: rows, channel blocks, transform elements
	MaxParts int // at most this many parts are worth their synchronisation
}

// PhaseKind says which part of a step a phase runs.
type PhaseKind int

const (
	WholeStep    PhaseKind = iota // the step, over a range of its Units
	WinogradIn                    // input transform, a range of input channel blocks
	WinogradGemm                  // products, a range of transform elements
	WinogradOut                   // output transform, a range of output channel blocks
)

// Phases lists the phases of program p: with asm, Winograd steps run by
// their assembly kernels split into three phases per block, so that small
// images, which are one block, split too; the portable Go kernel splits
// a Winograd step by blocks.
func (p *Program) Phases(asm bool) []Phase {
	t := p.Target
	var ph []Phase
	parts := func(units int, cycles float64) int { return maxParts(t, units, cycles) }
	for i, s := range p.Steps {
		if !asm || s.Kind != Conv || s.Conv.Algo != Winograd {
			ph = append(ph, Phase{Step: i, Kind: WholeStep, Units: s.Units(), MaxParts: s.MaxParts(t)})
			continue
		}
		c := s.Conv
		a := float64(c.WinogradM + 2)
		tiles := float64(c.BlockRows * c.TilesX)
		icb, ocb := c.InBlocks(), c.OutBlocks()
		in, out := t.Cost.WinogradIn2, t.Cost.WinogradOut2
		if c.WinogradM == 4 {
			in, out = t.Cost.WinogradIn4, t.Cost.WinogradOut4
		}
		gemm := a * a * tiles * float64(c.In*ocb) / (t.Cost.FMAsPerCycle * t.Cost.Efficiency)
		for b := 0; b < c.TilesY/c.BlockRows; b++ {
			ph = append(ph,
				Phase{Step: i, Kind: WinogradIn, Block: b, Units: icb, MaxParts: parts(icb, tiles*float64(icb)*in)},
				Phase{Step: i, Kind: WinogradGemm, Block: b, Units: int(a * a), MaxParts: parts(int(a*a), gemm)},
				Phase{Step: i, Kind: WinogradOut, Block: b, Units: ocb, MaxParts: parts(ocb, tiles*float64(ocb)*out)},
			)
		}
	}
	return ph
}
