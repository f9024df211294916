package plan

// The register tile of a direct convolution: Blocks output channel
// blocks (8 channels each) by Pixels adjacent output pixels, all held in
// the 16 YMM registers with the Blocks weight vectors and one broadcast:
// Blocks*Pixels + Blocks + 1 <= 16.
var directShapes = []struct{ blocks, pixels int }{
	{4, 2}, {3, 4}, {2, 6}, {2, 5}, {2, 4}, {1, 14}, {1, 12}, {1, 8}, {1, 6}, {1, 4},
}

// chooseDirect picks the tile shape that a simple cycle model says is
// fastest, and splits the output channels into tiles. The model counts,
// for each (input channel, tap), max(FMAs/2, loads/2, 4) cycles: two FMA
// pipes, two 256-bit loads a cycle (AMD Zen 3/4, and recent Intel cores),
// and FMA latency (4 cycles) on each accumulator. A broadcast is a load,
// so tiles with few output blocks and many pixels are load-bound; tiles
// with fewer than 8 accumulators (remainders) are latency-bound.
func chooseDirect(c *ConvStep) {
	best := -1.0
	for _, sh := range directShapes {
		if sh.pixels > c.OutW && sh.pixels > 4 {
			continue
		}
		tiles := directTiles(c, sh.blocks)
		cost := 0.0
		for _, t := range tiles {
			perRow := 0.0
			full, rem := c.OutW/sh.pixels, c.OutW%sh.pixels
			for _, px := range []struct{ n, count int }{{sh.pixels, full}, {rem, 1}} {
				if px.n == 0 || px.count == 0 {
					continue
				}
				fma := float64(t.Blocks*px.n) / 2
				loads := float64(t.Blocks+px.n) / 2
				// Each accumulator takes one FMA an iteration, and an FMA
				// waits for the last one on its accumulator: 4 cycles.
				inner := float64((t.ICHi-t.ICLo)*c.KH*c.KW) * max(fma, loads, 4)
				perRow += float64(px.count) * (inner + float64(2*t.Blocks*px.n) + 8)
			}
			cost += perRow * float64(c.OutH)
		}
		if best < 0 || cost < best {
			best = cost
			c.Tiles, c.Pixels = tiles, sh.pixels
		}
	}
}

// directTiles splits the output channel blocks into tiles of up to
// blocks blocks. When each group of a grouped convolution spans whole
// blocks, tiles stay within a group, so they read only that group's
// input channels.
func directTiles(c *ConvStep, blocks int) []OCTile {
	ocb := (c.Out + Block - 1) / Block
	inPer, outPer := c.In/c.Groups, c.Out/c.Groups
	span := ocb // blocks a tile may not cross
	if c.Groups > 1 && outPer%Block == 0 {
		span = outPer / Block
	}
	var tiles []OCTile
	for b := 0; b < ocb; {
		end := min(b+blocks, (b/span+1)*span, ocb)
		lastOC := min(end*Block, c.Out) - 1
		tiles = append(tiles, OCTile{
			Block0: b, Blocks: end - b,
			ICLo: (b * Block / outPer) * inPer,
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
	ocb := (c.Out + Block - 1) / Block
	for b := 0; b < ocb; b++ {
		c.Tiles = append(c.Tiles, OCTile{Block0: b, Blocks: 1, ICLo: b * Block, ICHi: min((b+1)*Block, c.In)})
	}
}
