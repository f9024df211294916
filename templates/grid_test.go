package templates

import (
	"slices"
	"testing"
)

// TestWinogradParts: every run of a grid's units becomes at most three
// rectangles that cover each of its units once and no other, numbered
// row-major (rows schedule) or tile-major (channels schedule), and the
// part's rows are exactly the rows its rectangles touch.
func TestWinogradParts(t *testing.T) {
	for rows := 1; rows <= 5; rows++ {
		for tiles := 1; tiles <= 5; tiles++ {
			units := rows * tiles
			for lo := 0; lo < units; lo++ {
				for hi := lo + 1; hi <= units; hi++ {
					for _, byRows := range []bool{true, false} {
						p := winogradChannelsPart(lo, hi, rows, oneBlockTiles(tiles))
						unit := func(r, tl int) int { return tl*rows + r }
						if byRows {
							p = winogradRowsPart(lo, hi, tiles)
							unit = func(r, tl int) int { return r*tiles + tl }
						}
						if p.n < 1 || p.n > 3 {
							t.Fatalf("%dx%d units %d-%d (by rows %v): %d rectangles", rows, tiles, lo, hi, byRows, p.n)
						}
						seen := map[int]int{}
						touched := [2]int{rows, 0}
						for _, q := range p.rects[:p.n] {
							if q.rows[0] >= q.rows[1] || q.tiles[0] >= q.tiles[1] || q.rows[0] < 0 || q.rows[1] > rows || q.tiles[0] < 0 || q.tiles[1] > tiles {
								t.Fatalf("%dx%d units %d-%d (by rows %v): rectangle %v", rows, tiles, lo, hi, byRows, q)
							}
							touched = [2]int{min(touched[0], q.rows[0]), max(touched[1], q.rows[1])}
							for r := q.rows[0]; r < q.rows[1]; r++ {
								for tl := q.tiles[0]; tl < q.tiles[1]; tl++ {
									seen[unit(r, tl)]++
								}
							}
						}
						for u := 0; u < units; u++ {
							if want := 1; (u < lo || u >= hi) && seen[u] != 0 || u >= lo && u < hi && seen[u] != want {
								t.Fatalf("%dx%d units %d-%d (by rows %v): unit %d covered %d times (%v)", rows, tiles, lo, hi, byRows, u, seen[u], p.rects[:p.n])
							}
						}
						if p.rows != touched {
							t.Fatalf("%dx%d units %d-%d (by rows %v): rows %v, the rectangles touch %v", rows, tiles, lo, hi, byRows, p.rows, touched)
						}
					}
				}
			}
		}
	}
}

// oneBlockTiles is the block table of n tiles of one block each, for
// which the channels schedule's block grid is its tile grid.
func oneBlockTiles(n int) []int {
	b := make([]int, n+1)
	for i := range b {
		b[i] = i
	}
	return b
}

// TestChannelTileUnit: the channels schedule's boundaries between
// (tile row, block) units map to boundaries between (tile row, tile)
// units that keep both ends, never fall, and leave before them the work
// (blocks) of x block units, less by under one tile unit.
func TestChannelTileUnit(t *testing.T) {
	for _, widths := range [][]int{{1}, {3}, {3, 3, 2}, {2, 1, 3}, {1, 4, 1, 1}, {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2}} {
		block0 := []int{0}
		for _, w := range widths {
			block0 = append(block0, block0[len(block0)-1]+w)
		}
		blocks, tiles := block0[len(block0)-1], len(widths)
		for rows := 1; rows <= 5; rows++ {
			prev := 0
			for x := 0; x <= rows*blocks; x++ {
				u := channelTileUnit(x, rows, block0)
				if u < prev || u > rows*tiles {
					t.Fatalf("widths %v, %d rows: block unit %d maps to tile unit %d, after %d", widths, rows, x, u, prev)
				}
				prev = u
				// The blocks of tile units 0 to u-1, tile-major.
				work := block0[u/rows]*rows + u%rows*widths[min(u/rows, tiles-1)]
				if d := x - work; d < 0 || d >= slices.Max(widths) {
					t.Fatalf("widths %v, %d rows: block unit %d maps to tile unit %d, which holds %d blocks' work", widths, rows, x, u, work)
				}
			}
			if got := channelTileUnit(0, rows, block0); got != 0 {
				t.Fatalf("widths %v, %d rows: 0 maps to %d", widths, rows, got)
			}
			if got := channelTileUnit(rows*blocks, rows, block0); got != rows*tiles {
				t.Fatalf("widths %v, %d rows: the end maps to %d, want %d", widths, rows, got, rows*tiles)
			}
		}
	}
}
