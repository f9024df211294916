package templates

import "testing"

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
						p := winogradChannelsPart(lo, hi, rows)
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
