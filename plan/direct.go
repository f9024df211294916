package plan

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/target"
)

// DirectSchedule is how a direct convolution's kernel walks its work,
// chosen per layer by the target's cost model (chooseDirect):
//
//	for each output channel tile (Tiles):
//	  for each pass over KBlock input channels:
//	    for each output row of the call's part (Rows at a time):
//	      for each pixel tile of the row (Runs):
//	        accumulators = bias (first pass) or the partial sums stored
//	        for each input channel of the pass, each tap: FMAs
//	        store: the epilogue (last pass) or the partial sums
//
// One pass (KBlock 0) reads a tile's whole weight panel (input channels x
// taps x the tile's channels) once per pixel tile: from the L1 cache when
// it fits, else from L2 or beyond, which the FMAs wait for on layers of
// many input channels. Passes of KBlock channels keep a panel in L1 and
// reread each pass's input instead, for a load and a store of the
// accumulators per pass and pixel tile. Each pass sums its products in a
// chain of FMAs of its own, added to the sums of the passes before it as
// it ends: chains of at most maxChain products round less than one chain
// over a layer's thousands (a 3x3 layer of 64 channels made 1.9x the
// error in one chain as in 16-channel ones, emulated against float64),
// so a layer of more products than that always takes passes. The passes
// are the plan's, so the parts of a step shared between goroutines give
// the same bits.
type DirectSchedule struct {
	// Runs split an output row into pixel tiles, left to right: Count
	// tiles of Width pixels each.
	Runs []PixelRun
	// Rows, when above 1, makes each pixel tile span Rows output rows of
	// a whole row each (Runs is then the one run of the row): on maps
	// narrower than a register tile (7x7), so that a tile of 2x14 or
	// 1x28 pixels reuses each weight vector it loads as often as on wide
	// maps, where rows of 4+3 pixels streamed the weights from L2 for
	// 3-4 FMAs a vector. The rows a call's part leaves (its rows mod
	// Rows) take one-row tiles. The tiles are only the order outputs are
	// computed in: each output sums the same products in the same order.
	Rows int
	// KBlock is the input channels of a pass, a multiple of the channel
	// block; 0 is one pass over all of them.
	KBlock int
	// Unroll is the input channels of a channel block whose taps the
	// kernel's innermost body unrolls (a divisor of the block); RowLoop
	// loops over the window's rows, unrolling one row of taps. Both keep
	// the body within what the core's decoded-instruction cache holds:
	// a body it does not hold runs at the rate the legacy decoders
	// deliver, slower than the FMAs on a 3x3 or larger window.
	Unroll  int
	RowLoop bool

	// Cycles is the model's estimate of the step; Why says what it
	// weighed, and against which runner-up, for the layer report.
	Cycles float64
	Why    string
}

// PixelRun is Count adjacent pixel tiles of Width output pixels.
type PixelRun struct{ Width, Count int }

// PixelBytes is the byte offset of pixel p of a kernel body's pixel
// tile from the tile's first pixel, where an output row lies rowBytes
// and a column colBytes further on: the tile is one row when bandW is 0,
// else rows of bandW pixels (DirectSchedule.Rows). The emitters take it
// for the input window, the output and the residual alike.
func PixelBytes(p, bandW, rowBytes, colBytes int) int {
	if bandW == 0 {
		return p * colBytes
	}
	return p/bandW*rowBytes + p%bandW*colBytes
}

// TileRows is the output rows a pixel tile of the schedule spans.
func (d DirectSchedule) TileRows() int { return max(d.Rows, 1) }

// passes is the number of passes over the input channels of tile t.
func (d DirectSchedule) passes(t OCTile) int {
	if d.KBlock == 0 {
		return 1
	}
	return ceilDiv(t.ICHi-t.ICLo, d.KBlock)
}

// Passes is the number of passes over the input channels of every tile.
func (c *ConvStep) Passes() int {
	if len(c.Tiles) == 0 {
		return 1
	}
	return c.Direct.passes(c.Tiles[0])
}

// bodyBudget is the most instructions the innermost unrolled body of a
// direct kernel may hold: well within the decoded-instruction cache of
// the cores the targets describe (1.5K-4K micro-ops).
const bodyBudget = 640

// directPlan is one candidate schedule with its register tile.
type directPlan struct {
	tiles  []OCTile
	pixels int
	sched  DirectSchedule
}

// chooseDirect picks, by the target's cycle model, the register tile
// (from the target's DirectShapes), the split of each row into pixel
// tiles and the passes over the input channels, and splits the output
// channels into tiles. For each (input channel, tap) a pixel tile of n
// pixels and v vectors costs max(FMAs/FMAsPerCycle, loads/LoadsPerCycle,
// FMALatency, weight bytes / the bandwidth of the cache its weight panel
// lives in) cycles: a broadcast is a load, so tiles with few weight
// vectors and many pixels are load-bound, tiles with few accumulators
// are latency-bound, and tiles whose panel outgrows L1 wait for L2.
func (p *planner) chooseDirect(c *ConvStep) {
	var best, second *directPlan
	var bestCost, secondCost float64
	// better: a candidate within half a percent of the best is as good,
	// and then the one of more vectors wins (it reads the input fewer
	// times, which the model does not count).
	better := func(d *directPlan, cost float64) bool {
		if banded := d.sched.Rows > 1; p.opt.Bands && best != nil && banded != (best.sched.Rows > 1) {
			return banded // see Options.Bands
		}
		if best == nil || cost < bestCost*0.995 {
			return true
		}
		return cost <= bestCost*1.005 && d.tiles[0].Blocks > best.tiles[0].Blocks
	}
	consider := func(d *directPlan, cost float64) {
		switch {
		case better(d, cost):
			if best != nil && !sameOrder(best, d) {
				second, secondCost = best, bestCost
			}
			best, bestCost = d, cost
		case !sameOrder(best, d) && (second == nil || cost < secondCost):
			second, secondCost = d, cost
		}
	}
	t := p.target
	ocb := c.OutBlocks()
	// Tiles of several rows only where the layer's weights outgrow L2:
	// there (ResNet's 7x7 layers of 256 to 2048 channels, 4-9 MB of
	// weights) they ran 1.2-1.45x faster than rows of 4+3 pixels on an
	// Ice Lake Xeon; on layers whose weights L2 holds (MobileNetV2's 7x7
	// layers, 0.6-1.2 MB; ResNet-18's 1x1/2 downsampling, 0.5 MB)
	// 1.03-1.14x slower, which the cycles do not tell apart.
	bands := float64(c.weightFloats()*4) > float64(p.cost().L2Bytes) || p.opt.Bands
	shapes := append(slices.Clip(t.DirectShapes), t.RowShapes...)
	for i, sh := range shapes {
		rowShape := i >= len(t.DirectShapes)
		if sh.Vectors == 1 && c.Block < Group && ocb > 1 {
			// One-block tiles would walk the weight groups' halves one
			// kernel loop per pair of tiles; the model has better shapes.
			continue
		}
		tiles := directTiles(c, sh.Vectors)
		if !rowShape && (sh.Pixels <= c.OutW || sh.Pixels <= 4) || rowShape && sh.Pixels == c.OutW {
			for _, runs := range rowSplits(c.OutW, sh.Pixels) {
				for _, kb := range p.kBlocks(c, tiles) {
					d := &directPlan{tiles: tiles, pixels: sh.Pixels, sched: DirectSchedule{Runs: runs, KBlock: kb}}
					consider(d, p.directCost(c, d))
				}
			}
		}
		if rows := sh.Pixels / max(c.OutW, 1); rows > 1 && c.OutH > 1 && bands {
			// Tiles of whole rows, as many as the shape holds.
			rows = min(rows, c.OutH)
			for _, kb := range p.kBlocks(c, tiles) {
				d := &directPlan{tiles: tiles, pixels: rows * c.OutW, sched: DirectSchedule{Runs: []PixelRun{{c.OutW, 1}}, KBlock: kb, Rows: rows}}
				consider(d, p.directCost(c, d))
			}
		}
	}
	c.Tiles, c.Pixels, c.Direct = best.tiles, best.pixels, best.sched
	c.Direct.Unroll, c.Direct.RowLoop = bodyUnroll(c, t, best.tiles[0].Blocks, best.pixels)
	if p.opt.KBlock > 0 {
		c.Direct.Unroll, c.Direct.RowLoop = 1, c.KH > 1
		if t.PixelRegs > 0 {
			c.Direct.Unroll = c.Block // see bodyUnroll
		}
	}
	c.Direct.Cycles = bestCost
	c.Direct.Why = fmt.Sprintf("%s: %.0f kcycles", describeDirect(c, best), bestCost/1e3)
	if second != nil {
		c.Direct.Why += fmt.Sprintf(", runner-up %s: %.0f kcycles", describeDirect(c, second), secondCost/1e3)
	}
}

// sameOrder reports whether two candidates walk the layer in the same
// loop order (one pass, or passes): the report's runner-up is the best
// candidate of another order, else of another register tile.
func sameOrder(a, b *directPlan) bool {
	if (a.sched.KBlock == 0) != (b.sched.KBlock == 0) {
		return false
	}
	return a.tiles[0].Blocks == b.tiles[0].Blocks && a.pixels == b.pixels
}

// describeDirect names a candidate: its register tile, row split and
// passes.
func describeDirect(c *ConvStep, d *directPlan) string {
	s := fmt.Sprintf("tile %dx%d row", d.tiles[0].Blocks*c.Block, d.pixels)
	runs := d.sched.Runs
	if d.sched.Rows > 1 {
		s, runs = fmt.Sprintf("tile %dx%d (%d rows of %d)", d.tiles[0].Blocks*c.Block, d.pixels, d.sched.Rows, c.OutW), nil
	}
	for i, r := range runs {
		sep := " "
		if i > 0 {
			sep = "+"
		}
		if r.Count > 1 {
			s += fmt.Sprintf("%s%dx%d", sep, r.Count, r.Width)
		} else {
			s += fmt.Sprintf("%s%d", sep, r.Width)
		}
	}
	if d.sched.KBlock > 0 {
		s += fmt.Sprintf(", %d passes of %d channels", d.sched.passes(d.tiles[0]), d.sched.KBlock)
	} else {
		s += ", one pass"
	}
	return s
}

// rowSplits are the ways the model weighs of splitting a row of w
// pixels into tiles of at most pixels: whole tiles and a remainder, and
// the same number of tiles as even as they go (7 as 4+3 rather than
// 6+1, whose one-pixel tile waits on its FMAs' latency).
func rowSplits(w, pixels int) [][]PixelRun {
	pixels = min(pixels, w)
	full := []PixelRun{{pixels, w / pixels}}
	if r := w % pixels; r > 0 {
		full = append(full, PixelRun{r, 1})
	}
	splits := [][]PixelRun{full}
	n := ceilDiv(w, pixels)
	if w%pixels != 0 && n > 1 {
		wide, narrow := ceilDiv(w, n), w/n
		var even []PixelRun
		if k := w - narrow*n; k > 0 {
			even = append(even, PixelRun{wide, k})
		}
		if k := n - (w - narrow*n); k > 0 {
			even = append(even, PixelRun{narrow, k})
		}
		splits = append(splits, even)
	}
	return splits
}

// kBlocks are the pass sizes the model weighs for tiles: one pass, the
// fewest passes of whole channel blocks whose weight panel fits three
// quarters of the L1 cache (and one more, the channels shared out more evenly), and
// passes of one block, for windows so large that no more fit. Only
// dense convolutions take passes: their tiles all read every input
// channel, from whole blocks.
func (p *planner) kBlocks(c *ConvStep, tiles []OCTile) []int {
	ks := []int{0}
	if c.Groups != 1 || c.In <= c.Block {
		return ks
	}
	chain := directChain(c.KH, c.KW)
	if kb := p.opt.KBlock; kb > 0 {
		if kb%Group != 0 {
			panic("plan: Options.KBlock must be a multiple of 16")
		}
		if kb < c.In {
			return []int{kb}
		}
		return ks
	}
	if c.In > chain {
		ks = nil // a chain of every product would be too long
	}
	perChannel := c.KH * c.KW * tiles[0].Blocks * c.Block * 4 // panel bytes
	fit := min(chain, max(1, p.cost().L1Bytes*3/4/perChannel/c.Block)*c.Block)
	seen := map[int]bool{}
	add := func(kb int) {
		if kb < c.In && kb <= chain && !seen[kb] {
			seen[kb] = true
			ks = append(ks, kb)
		}
	}
	for n := ceilDiv(c.In, fit); n <= ceilDiv(c.In, fit)+1; n++ {
		add(ceilDiv(ceilDiv(c.In, n), Group) * Group)
	}
	add(Group)
	return ks
}

// maxChain is the most products a direct convolution sums in one chain
// of FMAs (see DirectSchedule).
const maxChain = 256

// directChain is the most input channels of a KH x KW window a pass of a
// dense direct convolution sums in one chain: whole channel blocks whose
// products number maxChain or fewer.
func directChain(kh, kw int) int { return max(Group, maxChain/(kh*kw)/Group*Group) }

// DirectChain is the most input channels of convolution c a direct
// kernel sums in one chain of FMAs, as its passes do (the emulation's
// direct float32 network, graph.Conv32, chains likewise).
func DirectChain(c *graph.Conv) int { return directChain(c.KH, c.KW) }

// directCost is the model's cycles for candidate d of step c. Per band
// of output rows a tile spans (one, or Rows) and (input channel, tap),
// each pixel tile takes the larger of its FMAs, its loads and the FMAs'
// latency, and the band as a whole no less than its tiles' weight bytes
// take to stream from the cache the panel stays in (the hardware runs
// ahead of one tile's FMAs into the next, so a band averages its tiles'
// demand).
func (p *planner) directCost(c *ConvStep, d *directPlan) float64 {
	cost, t := p.cost(), p.target
	taps := float64(c.KH * c.KW)
	vecBytes := float64(c.Block * 4)
	total := 0.0
	for _, tl := range d.tiles {
		v := float64(tl.Blocks)
		ic := tl.ICHi - tl.ICLo
		kb := d.sched.KBlock
		if kb == 0 {
			kb = ic
		}
		passes := float64(d.sched.passes(tl))
		bw := p.panelBandwidth(float64(min(kb, ic)) * taps * v * vecBytes)
		// rows is the cycles of a band of rows output rows whose pixel
		// tiles each span them all.
		rows := func(rows int) float64 {
			compute, bytes, edges := 0.0, 0.0, 0.0
			for _, r := range d.sched.Runs {
				n, count := float64(r.Width*rows), float64(r.Count)
				fma := v * n / cost.FMAsPerCycle
				loads := (v + n*t.InputLoads()) / cost.LoadsPerCycle
				compute += count * max(fma, loads, cost.FMALatency)
				bytes += count * v * vecBytes
				// Each pass starts and ends the tile's accumulators: the
				// first from the bias, the others from the partial sums,
				// each stored.
				edges += count * (passes*(v*n/cost.StoresPerCycle+8) + (passes-1)*v*n/cost.LoadsPerCycle)
			}
			if bw > 0 {
				compute = max(compute, bytes/bw)
			}
			return float64(ic)*taps*compute + edges
		}
		band := d.sched.TileRows()
		total += rows(band) * float64(c.OutH/band)
		if left := c.OutH % band; left > 0 {
			total += rows(1) * float64(left)
		}
	}
	return total
}

// panelBandwidth is the bytes a cycle a weight panel of the given size
// streams to the FMAs from the cache it stays in: 0 (no wait) when it
// fits in L1, L2's rate when it fits in an eighth of L2, else the last
// level's (no faster than L2's): a larger panel shares L2 with the input
// and output streaming through it and comes partly from L3.
func (p *planner) panelBandwidth(panel float64) float64 {
	cost := p.cost()
	switch {
	case panel <= float64(cost.L1Bytes)*3/4:
		return 0
	case panel <= float64(cost.L2Bytes)/8:
		return cost.L2BytesPerCycle
	}
	return min(cost.L2BytesPerCycle, cost.CacheBytesPerCycle)
}

// bodyUnroll picks how much of a channel block's taps the innermost body
// of a direct kernel on target t unrolls (see DirectSchedule.Unroll): the
// most channels whose code stays within bodyBudget, else one channel a
// kernel row at a time. A target that loads a pixel's input vector once
// for the block's channels (PixelRegs, NEON) unrolls whole blocks, a
// kernel row at a time when a block's window outgrows the budget.
func bodyUnroll(c *ConvStep, t *target.Target, vectors, pixels int) (unroll int, rowLoop bool) {
	taps := c.KH * c.KW
	if t.PixelRegs > 0 {
		perTap := pixels + c.Block*vectors*(1+pixels) // input loads, weight loads and FMAs
		return c.Block, c.KH > 1 && taps*perTap > bodyBudget
	}
	perTap := vectors + pixels*(1+vectors) // weight loads, broadcasts and FMAs
	for u := c.Block; u >= 1; u /= 2 {
		if c.Block%u == 0 && u*taps*perTap <= bodyBudget {
			return u, false
		}
	}
	return 1, c.KH > 1 && taps*perTap > bodyBudget
}

// cost is the target's cost model, with the caches Options.Caches says
// the user tuned it for: for the targets of this machine's architecture
// (the portable kernels among them), not another's, whose cores the
// caches read here say nothing of.
func (p *planner) cost() target.Cost {
	if g := p.target.GOARCH; g != "" && g != runtime.GOARCH {
		return p.target.Cost
	}
	return p.target.Cost.Tuned(p.opt.Caches)
}
