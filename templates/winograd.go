package templates

// winogradConv is the portable kernel of a Winograd step (see package
// plan for the algorithm and the weight layout): tile by tile, it
// transforms every input channel, multiplies by the transformed weights
// summing over channels, and transforms back.
type winogradConv struct {
	m              int // output tile side: 2 or 4
	bt, at         [][]float32
	in             layout // input; inBase is the index of output tile (0,0)'s window origin
	inBase         int
	out            layout
	res            layout // residual added before act when hasRes
	hasRes         bool
	act            int
	bias           int // weight offset of the bias
	xi             int // weight floats per transform element
	tiles          []convTile
	tilesY, tilesX int
	scratch        int // workspace offset of a*a*(in.c+2) floats of scratch
}

func (c *winogradConv) run(ws, w []float32) {
	a := c.m + 2
	aa := a * a
	v := ws[c.scratch : c.scratch+aa*c.in.c]               // V[xi][ic]
	d := ws[c.scratch+aa*c.in.c : c.scratch+aa*(c.in.c+1)] // one tile, then its transform
	t := ws[c.scratch+aa*(c.in.c+1) : c.scratch+aa*(c.in.c+2)]
	for ty := 0; ty < c.tilesY; ty++ {
		for tx := 0; tx < c.tilesX; tx++ {
			origin := c.inBase + ty*c.m*c.in.row() + tx*c.m*8
			for ic := 0; ic < c.in.c; ic++ {
				p := origin + (ic/8)*c.in.plane() + ic%8
				for i := 0; i < a; i++ {
					for j := 0; j < a; j++ {
						d[i*a+j] = ws[p+i*c.in.row()+j*8]
					}
				}
				transform2D(c.bt, d, t, a, a) // B^T d B
				for xi := 0; xi < aa; xi++ {
					v[xi*c.in.c+ic] = d[xi]
				}
			}
			for _, tile := range c.tiles {
				lanes := tile.blocks * 8
				for l := 0; l < lanes; l++ {
					oc := tile.block0*8 + l
					for xi := 0; xi < aa; xi++ {
						u := w[tile.wOff+xi*c.xi : tile.wOff+xi*c.xi+c.in.c*lanes]
						var s float32
						for ic, x := range v[xi*c.in.c : (xi+1)*c.in.c] {
							s += u[ic*lanes+l] * x
						}
						d[xi] = s
					}
					transform2D(c.at, d, t, c.m, a) // A^T M A
					if oc >= c.out.c {
						continue
					}
					for i := 0; i < c.m; i++ {
						for j := 0; j < c.m; j++ {
							y, x := ty*c.m+i, tx*c.m+j
							if y >= c.out.h || x >= c.out.w {
								continue // a tile reaching past the output
							}
							s := d[i*c.m+j] + w[c.bias+oc]
							if c.hasRes {
								s += ws[c.res.at(oc, y, x)]
							}
							ws[c.out.at(oc, y, x)] = act(s, c.kind())
						}
					}
				}
			}
		}
	}
}

func (c *winogradConv) kind() int { return c.act }

// transform2D replaces the a x a matrix x with T x T^T, T being r x a;
// the result (r x r) is left in x's first r*r entries. tmp has a*a room.
func transform2D(T [][]float32, x, tmp []float32, r, a int) {
	for i := 0; i < r; i++ { // tmp = T x (r x a)
		for j := 0; j < a; j++ {
			var s float32
			for k := 0; k < a; k++ {
				s += T[i][k] * x[k*a+j]
			}
			tmp[i*a+j] = s
		}
	}
	for i := 0; i < r; i++ { // x = tmp T^T (r x r)
		for j := 0; j < r; j++ {
			var s float32
			for k := 0; k < a; k++ {
				s += tmp[i*a+k] * T[j][k]
			}
			x[i*r+j] = s
		}
	}
}

// The transforms of F(2x2, 3x3) and F(4x4, 3x3); they match package plan.
var (
	winogradBT2 = [][]float32{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winogradAT2 = [][]float32{{1, 1, 1, 0}, {0, 1, -1, -1}}
	winogradBT4 = [][]float32{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winogradAT4 = [][]float32{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)
