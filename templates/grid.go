//lint:file-ignore U1000 the helpers are used by the generated packages this file is copied into

package templates

// A Winograd step run by its assembly kernels splits over goroutines as
// a grid of units, one for each (tile row, output channel tile): by rows
// the units are numbered row-major, so that a part is a run of rows
// (each goroutine keeps its part of the image in its cache); by
// channels, tile-major, so that a part is a run of tiles (each goroutine
// reads only its tiles' weights), and a part is first a run of (tile
// row, output channel block) units so that tiles of different widths
// weigh what they cost. A run of units that starts or ends
// inside a row (or a tile) is what lets a step of 7 tile rows or 11
// tiles split evenly; package plan chooses the numbering (see
// plan.Phase).

// winogradRect is a rectangle of a Winograd step's grid: tile rows
// rows[0] to rows[1]-1 of output channel tiles tiles[0] to tiles[1]-1.
type winogradRect struct{ rows, tiles [2]int }

// winogradPart is a part of the grid as at most three rectangles, and
// the tile rows any of them covers, rows[0] to rows[1]-1: those whose
// input the part transforms.
type winogradPart struct {
	rects [3]winogradRect
	n     int
	rows  [2]int
}

// gridRuns splits units lo to hi-1 of a grid of cols units a line,
// numbered line by line, into at most three rectangles of lines a[0] to
// a[1]-1 and columns b[0] to b[1]-1: the first line's tail, whole
// lines, the last line's head.
func gridRuns(lo, hi, cols int, add func(a, b [2]int)) {
	if lo >= hi {
		return
	}
	la, ca := lo/cols, lo%cols
	lb, cb := (hi-1)/cols, (hi-1)%cols+1
	if la == lb {
		add([2]int{la, la + 1}, [2]int{ca, cb})
		return
	}
	if ca > 0 {
		add([2]int{la, la + 1}, [2]int{ca, cols})
		la++
	}
	if cb < cols {
		lb-- // the last line is a head
	}
	if la <= lb {
		add([2]int{la, lb + 1}, [2]int{0, cols})
	}
	if cb < cols {
		add([2]int{lb + 1, lb + 2}, [2]int{0, cb})
	}
}

// add appends rectangle q and widens the rows the part covers.
func (p *winogradPart) add(q winogradRect) {
	if p.n == 0 {
		p.rows = q.rows
	}
	p.rows[0], p.rows[1] = min(p.rows[0], q.rows[0]), max(p.rows[1], q.rows[1])
	p.rects[p.n] = q
	p.n++
}

// winogradRowsPart is units lo to hi-1 of a grid of tiles output channel
// tiles a row, numbered row-major.
func winogradRowsPart(lo, hi, tiles int) (p winogradPart) {
	gridRuns(lo, hi, tiles, func(rows, ts [2]int) { p.add(winogradRect{rows, ts}) })
	return p
}

// winogradChannelsPart is units lo to hi-1 of a grid of rows tile rows an
// output channel block, numbered block-major, as a run of the grid of
// rows tile rows a tile (tile i's blocks start at block0[i]; block0 ends
// with the block after the last), numbered tile-major.
func winogradChannelsPart(lo, hi, rows int, block0 []int) (p winogradPart) {
	lo, hi = channelTileUnit(lo, rows, block0), channelTileUnit(hi, rows, block0)
	gridRuns(lo, hi, rows, func(ts, rs [2]int) { p.add(winogradRect{rs, ts}) })
	return p
}

// channelTileUnit maps x, a boundary between units of the block grid of
// winogradChannelsPart, to one of the tile grid: the block units of a
// tile cover its tile units in proportion, so that parts of equal block
// units get about equal work when the tiles' widths differ (ResNet-18's
// 256 channels are ten tiles of 3 blocks and one of 2 on AVX2). It rises
// with x and keeps both ends, so the parts still cover the grid once.
func channelTileUnit(x, rows int, block0 []int) int {
	t := 0
	for t+2 < len(block0) && block0[t+1]*rows <= x {
		t++
	}
	return t*rows + (x-block0[t]*rows)/(block0[t+1]-block0[t])
}
