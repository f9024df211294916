package plan

import "slices"

// A TileGroup is a run of consecutive tiles of a convolution that one
// kernel loop can walk, a period of tiles an iteration: each tile of the
// period has the same number of blocks and input channels, and (for a
// direct convolution) its blocks find their weights at the same
// distances from its first block's, as the same tile of the next period;
// and from one period to the next the input moves by whole channel
// blocks and the weights by a fixed step. A period of two walks AVX2
// tiles of an odd number of blocks through the 16-channel weight groups,
// whose halves alternate. Every emitter walks the tiles so.
type TileGroup struct {
	Tiles  []OCTile // one period, first to last
	Count  int      // periods
	InStep int      // input channel blocks from one period to the next
	WStep  int      // weight floats from one period to the next
}

// First is the group's first tile.
func (g TileGroup) First() OCTile { return g.Tiles[0] }

// TileGroups splits c's tiles into the runs a kernel loop walks.
func (c *ConvStep) TileGroups() []TileGroup {
	blk := c.Block
	pattern := func(t OCTile) []int {
		if c.Algo != Direct {
			return nil
		}
		var d []int
		for o := 0; o < t.Blocks; o++ {
			d = append(d, c.BlockWeights(t.Block0+o, t.ICLo)-t.WeightOff)
		}
		return d
	}
	like := func(a, b OCTile) bool {
		return a.Blocks == b.Blocks && a.ICHi-a.ICLo == b.ICHi-b.ICLo && slices.Equal(pattern(a), pattern(b))
	}
	ts := c.Tiles
	// run is how many periods of p tiles from i one loop walks.
	run := func(i, p int) (int, TileGroup) {
		g := TileGroup{Tiles: ts[i : i+p], Count: 1}
		if i+2*p > len(ts) {
			return 1, g
		}
		d := ts[i+p].ICLo - ts[i].ICLo
		g.InStep, g.WStep = d/blk, ts[i+p].WeightOff-ts[i].WeightOff
		if d%blk != 0 || g.WStep < 0 {
			return 1, g
		}
		for m := 1; i+(m+1)*p <= len(ts); m++ {
			for j := 0; j < p; j++ {
				t, f := ts[i+m*p+j], ts[i+j]
				if !like(t, f) || t.ICLo-f.ICLo != m*d || t.WeightOff-f.WeightOff != m*g.WStep || t.Block0-f.Block0 != m*(ts[i+p].Block0-ts[i].Block0) {
					return m, g
				}
			}
			g.Count = m + 1
		}
		return g.Count, g
	}
	var groups []TileGroup
	for i := 0; i < len(ts); {
		n, g := run(i, 1)
		if n == 1 && c.Algo == Direct && i+4 <= len(ts) {
			if n2, g2 := run(i, 2); n2 >= 2 {
				g2.Count = n2
				groups = append(groups, g2)
				i += 2 * n2
				continue
			}
		}
		g.Count = n
		groups = append(groups, g)
		i += n
	}
	return groups
}

// A ChunkRun is Count consecutive channel blocks of which the same
// Channels (offsets within the block) are read.
type ChunkRun struct {
	Channels []int
	Count    int
}

// ChunkRuns splits a tile's input channels into runs of channel blocks
// of blk channels: whole blocks, and partial ones at either end of the
// range.
func ChunkRuns(t OCTile, blk int) []ChunkRun {
	var runs []ChunkRun
	for b := t.ICLo / blk; b*blk < t.ICHi; b++ {
		var cs []int
		for ch := 0; ch < blk; ch++ {
			if ic := b*blk + ch; ic >= t.ICLo && ic < t.ICHi {
				cs = append(cs, ch)
			}
		}
		if n := len(runs); n > 0 && len(runs[n-1].Channels) == blk && len(cs) == blk {
			runs[n-1].Count++
			continue
		}
		runs = append(runs, ChunkRun{Channels: cs, Count: 1})
	}
	return runs
}
