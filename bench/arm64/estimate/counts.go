package main

import (
	"github.com/acgen/acgen/plan"
)

// work is what one kernel function of a step executes, in terms of its
// innermost loops: iterations of the loop whose iteration holds fpi
// vector FMAs, FMAs in straight-line code (run at the function's best
// loop's rate), and iterations of the transform loop (one a tile and
// channel block) of a Winograd input or output kernel.
type work struct {
	iters    map[int]float64 // vector FMAs an iteration -> iterations
	straight float64         // vector FMAs outside any loop counted in iters
	tiles    float64         // transform loop iterations (In, Out kernels)
}

func newWork() *work { return &work{iters: map[int]float64{}} }

// directWork is the FMA loops of a direct or depthwise NEON kernel: for
// every tile, output row and pixel tile, each run of whole channel
// blocks is a loop of one block an iteration; a tile whose channels are
// all partial blocks (a 3-channel image) is straight-line code in the
// pixel loop, which is then the innermost loop.
func directWork(c *plan.ConvStep) *work {
	w := newWork()
	full, rem := c.OutW/c.Pixels, c.OutW%c.Pixels
	taps := c.KH * c.KW
	for _, t := range c.Tiles {
		for _, px := range []struct{ n, count int }{{c.Pixels, full}, {rem, 1}} {
			if px.n == 0 || px.count == 0 {
				continue
			}
			rows := float64(c.OutH * px.count)
			if c.Algo == plan.Depthwise {
				// One block of channels a tile, every tap in the pixel loop.
				if px.n == c.Pixels {
					w.iters[taps*px.n] += rows
				} else {
					w.straight += rows * float64(taps*px.n)
				}
				continue
			}
			looped, straight := false, 0
			for _, r := range plan.ChunkRuns(t, c.Block) {
				fpi := len(r.Channels) * t.Blocks * px.n * taps
				if r.Count > 1 {
					w.iters[fpi] += rows * float64(r.Count)
					looped = true
				} else {
					straight += fpi
				}
			}
			if !looped && px.n == c.Pixels {
				w.iters[straight] += rows // the pixel loop is innermost
			} else {
				w.straight += rows * float64(straight)
			}
		}
	}
	return w
}

// gemmWork is the FMA loops of a Winograd products kernel over the whole
// step: every block of tile rows, transform element and output channel
// tile, its register tiles of Pixels tiles and the shorter last one, a
// loop of one input channel block an iteration.
func gemmWork(c *plan.ConvStep) *work {
	w := newWork()
	a := c.WinogradM + 2
	blocks := float64(c.TilesY / c.BlockRows)
	per := c.BlockRows * c.TilesX
	full, rem := per/c.Pixels, per%c.Pixels
	for _, t := range c.Tiles {
		for _, px := range []struct{ n, count int }{{c.Pixels, full}, {rem, 1}} {
			if px.n == 0 || px.count == 0 {
				continue
			}
			n := blocks * float64(a*a*px.count)
			for _, r := range plan.ChunkRuns(plan.OCTile{ICLo: 0, ICHi: c.In}, c.Block) {
				fpi := len(r.Channels) * t.Blocks * px.n
				if r.Count > 1 {
					w.iters[fpi] += n * float64(r.Count)
				} else {
					w.straight += n * float64(fpi)
				}
			}
		}
	}
	return w
}

// transformWork is a Winograd input (channel blocks cb of the input) or
// output transform kernel: one loop iteration a tile and block.
func transformWork(c *plan.ConvStep, cb int) *work {
	w := newWork()
	w.tiles = float64(c.TilesY * c.TilesX * cb)
	return w
}

// goMACs is the multiply-adds the portable Go kernel of a convolution
// executes: every lane of its weight groups (direct), of its blocks
// (depthwise), or of its tiles (Winograd's products; its transforms are
// left out, so the Go estimate is a lower bound).
func goMACs(c *plan.ConvStep) float64 {
	taps := float64(c.KH * c.KW)
	switch c.Algo {
	case plan.Direct:
		n := 0.0
		for _, g := range c.WeightGroups {
			n += float64(g.ICHi-g.ICLo) * taps * plan.Group
		}
		return n * float64(c.OutH*c.OutW)
	case plan.Depthwise:
		return float64(c.OutH*c.OutW*c.OutBlocks()*c.Block) * taps
	}
	a := float64(c.WinogradM + 2)
	lanes := 0
	for _, t := range c.Tiles {
		lanes += t.Blocks * c.Block
	}
	return a * a * float64(c.TilesY*c.TilesX*c.In*lanes)
}
