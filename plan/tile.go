package plan

// chooseTiles picks the register tile of a Winograd step's products
// (from the target's DirectShapes) that the target's cycle model says is
// fastest, and splits the output channels into tiles. For each (input
// channel, transform element) the model counts max(FMAs/FMAsPerCycle,
// loads/LoadsPerCycle, FMALatency) cycles: a broadcast is a load (on
// NEON, one vector load serves a pixel's Lanes input channels; see
// target.Target.InputLoads), so tiles with few weight vectors and many
// pixels are load-bound, and tiles with few accumulators are
// latency-bound. The products read transformed weights laid out tile by
// tile, which any tile shape reads alike; direct convolutions, which
// read the packed weights, have a model of their own (chooseDirect).
func (p *planner) chooseTiles(c *ConvStep) {
	t := p.target
	cost := t.Cost
	best := -1.0
	for _, sh := range t.DirectShapes {
		blocks := sh.Vectors
		if sh.Pixels > c.OutW && sh.Pixels > 4 {
			continue
		}
		tiles := directTiles(c, blocks)
		total := 0.0
		for _, tl := range tiles {
			vectors := float64(tl.Blocks)
			perRow := 0.0
			full, rem := c.OutW/sh.Pixels, c.OutW%sh.Pixels
			for _, px := range []struct{ n, count int }{{sh.Pixels, full}, {rem, 1}} {
				if px.n == 0 || px.count == 0 {
					continue
				}
				n := float64(px.n)
				fma := vectors * n / cost.FMAsPerCycle
				loads := (vectors + n*t.InputLoads()) / cost.LoadsPerCycle
				inner := float64((tl.ICHi-tl.ICLo)*c.KH*c.KW) * max(fma, loads, cost.FMALatency)
				perRow += float64(px.count) * (inner + 2*vectors*n + 8)
			}
			total += perRow * float64(c.OutH)
		}
		if best < 0 || total < best {
			best = total
			c.Tiles, c.Pixels = tiles, sh.Pixels
		}
	}
}

// directTiles splits the output channel blocks into tiles of up to
// blocks blocks. When each group of a grouped convolution spans whole
// weight groups, tiles stay within a group, so they read only that
// group's input channels; when it does not, each tile stays within one
// weight group and reads that weight group's input channels (the packed
// weights hold zeros where a channel's group does not read one).
func directTiles(c *ConvStep, blocks int) []OCTile {
	ocb := c.OutBlocks()
	inPer, outPer := c.In/c.Groups, c.Out/c.Groups
	var tiles []OCTile
	if c.Groups > 1 && outPer%Group != 0 {
		per := max(1, Group/c.Block)
		for j := 0; j*per < ocb; j++ {
			lastOC := min((j+1)*Group, c.Out) - 1
			lo, hi := (j*Group/outPer)*inPer, (lastOC/outPer+1)*inPer
			end := min((j+1)*per, ocb)
			for b := j * per; b < end; b += blocks {
				tiles = append(tiles, OCTile{Block0: b, Blocks: min(blocks, end-b), ICLo: lo, ICHi: hi})
			}
		}
		return tiles
	}
	span := ocb // blocks a tile may not cross
	if c.Groups > 1 {
		span = outPer / c.Block
	}
	for b := 0; b < ocb; {
		end := min(b+blocks, (b/span+1)*span, ocb)
		lastOC := min(end*c.Block, c.Out) - 1
		tiles = append(tiles, OCTile{
			Block0: b, Blocks: end - b,
			ICLo: (b * c.Block / outPer) * inPer,
			ICHi: (lastOC/outPer + 1) * inPer,
		})
		b = end
	}
	return tiles
}

// chooseDepthwise tiles a depthwise convolution: one block of channels
// at a time, as many pixels as fit.
func chooseDepthwise(c *ConvStep) {
	c.Pixels = min(12, max(c.OutW, 1))
	ocb := c.OutBlocks()
	for b := 0; b < ocb; b++ {
		c.Tiles = append(c.Tiles, OCTile{Block0: b, Blocks: 1, ICLo: b * c.Block, ICHi: min((b+1)*c.Block, c.In)})
	}
}
