//lint:file-ignore U1000 the helpers are used by the generated packages this file is copied into

package templates

// winogradConv is the portable kernel of a Winograd step (see package
// plan for the algorithm and the weight layout). Tile by tile, it
// transforms every input channel, accumulates the products with the
// transformed weights over input channels (weights contiguous in output
// channels, as the assembly reads them), and transforms back. Tiles may
// reach past the output; their extra pixels are not stored.
type winogradConv struct {
	m              int // output tile side: 2 or 4
	in             layout
	inBase         int // index of output tile (0,0)'s input window origin, channel 0
	out            layout
	res            layout // residual added before act when hasRes
	hasRes         bool
	act            actKind
	bias           int // weight offset of the bias
	xi             int // weight floats per transform element
	kernels        int // offset of the 3x3 kernels in the packed weights: [out/group][in][3][3][group]
	group          int // output channels per group of the packed kernels
	biasSrc        int // offset of the bias in the packed weights
	tiles          []convTile
	tilesY, tilesX int
	blockRows      int // rows of tiles in a unit of work (see run)
	scratch        int // workspace offset of room for V and M
}

// winogradChain is the most input channels the products sum in one
// chain (plan.WinogradChain).
const winogradChain = 32

// run computes blocks lo to hi-1 of blockRows rows of tiles, with its
// scratch space scratch floats past the step's.
func (c *winogradConv) run(ws, w []float32, lo, hi, scratch int) {
	a := c.m + 2
	aa := a * a
	ic := c.in.c
	s0 := c.scratch + scratch
	v := ws[s0 : s0+aa*ic] // V[xi][ic], then M[xi][lane]
	var d [36]float32
	var y [16]float32
	for ty := lo * c.blockRows; ty < hi*c.blockRows; ty++ {
		for tx := 0; tx < c.tilesX; tx++ {
			origin := c.inBase + ty*c.m*c.in.row() + tx*c.m*c.in.b
			for ch := 0; ch < ic; ch++ {
				p := origin + (ch/c.in.b)*c.in.plane() + ch%c.in.b
				for i := 0; i < a; i++ {
					row := ws[p+i*c.in.row():]
					for j := 0; j < a; j++ {
						d[i*a+j] = row[j*c.in.b]
					}
				}
				if c.m == 4 {
					inputF4(&d)
				} else {
					inputF2(&d)
				}
				for xi := 0; xi < aa; xi++ {
					v[xi*ic+ch] = d[xi]
				}
			}
			for _, t := range c.tiles {
				lanes := t.blocks * c.out.b
				acc := ws[s0+aa*ic : s0+aa*(ic+lanes)]
				for i := range acc {
					acc[i] = 0
				}
				for xi := 0; xi < aa; xi++ {
					u := w[t.wOff+xi*c.xi : t.wOff+xi*c.xi+ic*lanes]
					vx := v[xi*ic : (xi+1)*ic]
					// Eight lanes at a time through array pointers, so
					// the compiler checks no bounds in the loop, and
					// four for a tile of an odd number of 4-lane blocks.
					// In chains of winogradChain channels, each added to
					// the sums of those before as it ends, as the
					// assembly sums them.
					b := 0
					for ; b+8 <= lanes; b += 8 {
						m := (*[8]float32)(acc[xi*lanes+b:])
						for c0 := 0; c0 < ic; c0 += winogradChain {
							var m0, m1, m2, m3, m4, m5, m6, m7 float32
							for ch := c0; ch < min(c0+winogradChain, ic); ch++ {
								x := vx[ch]
								k := (*[8]float32)(u[ch*lanes+b:])
								m0 += k[0] * x
								m1 += k[1] * x
								m2 += k[2] * x
								m3 += k[3] * x
								m4 += k[4] * x
								m5 += k[5] * x
								m6 += k[6] * x
								m7 += k[7] * x
							}
							m[0], m[1], m[2], m[3] = m[0]+m0, m[1]+m1, m[2]+m2, m[3]+m3
							m[4], m[5], m[6], m[7] = m[4]+m4, m[5]+m5, m[6]+m6, m[7]+m7
						}
					}
					for ; b < lanes; b += 4 {
						m := (*[4]float32)(acc[xi*lanes+b:])
						for c0 := 0; c0 < ic; c0 += winogradChain {
							var m0, m1, m2, m3 float32
							for ch := c0; ch < min(c0+winogradChain, ic); ch++ {
								x := vx[ch]
								k := (*[4]float32)(u[ch*lanes+b:])
								m0 += k[0] * x
								m1 += k[1] * x
								m2 += k[2] * x
								m3 += k[3] * x
							}
							m[0], m[1], m[2], m[3] = m[0]+m0, m[1]+m1, m[2]+m2, m[3]+m3
						}
					}
				}
				for l := 0; l < lanes; l++ {
					oc := t.block0*c.out.b + l
					if oc >= c.out.c {
						break
					}
					for xi := 0; xi < aa; xi++ {
						d[xi] = acc[xi*lanes+l]
					}
					if c.m == 4 {
						outputF4(&d, &y)
					} else {
						outputF2(&d, &y)
					}
					b := w[c.bias+oc]
					// The part of the tile inside the output.
					rows, cols := min(c.m, c.out.h-ty*c.m), min(c.m, c.out.w-tx*c.m)
					o, orow := c.out.at(oc, ty*c.m, tx*c.m), c.out.row()
					r, rrow := 0, 0
					if c.hasRes {
						r, rrow = c.res.at(oc, ty*c.m, tx*c.m), c.res.row()
					}
					for i := 0; i < rows; i++ {
						for j := 0; j < cols; j++ {
							s := y[i*c.m+j] + b
							if c.hasRes {
								s += ws[r+i*rrow+j*c.res.b]
							}
							ws[o+i*orow+j*c.out.b] = act(s, c.act)
						}
					}
				}
			}
		}
	}
}

// transformWeights writes the step's bias and transformed weights
// (G g G^T for every 3x3 kernel g) into u, reading the kernels and the
// bias from the packed weights w. It computes in float64 and rounds once.
// Its products are by powers of two, which are exact, or explicitly
// rounded (a conversion keeps compilers from fusing them into a
// multiply-add), so every architecture gets the same bits.
func (c *winogradConv) transformWeights(u, w []float32) {
	copy(u[c.bias:c.bias+c.out.c], w[c.biasSrc:c.biasSrc+c.out.c])
	aa := (c.m + 2) * (c.m + 2)
	ic := c.in.c
	var g [9]float64
	var t [36]float64
	// Eight input channels at a time: eight adjacent kernels of each
	// output channel are read together, and each transform element's
	// values for them are stored as one run, as the layout has them.
	const chunk = 8
	var buf []float32 // [aa][chunk][lanes]
	for _, tile := range c.tiles {
		lanes := tile.blocks * c.out.b
		oc0 := tile.block0 * c.out.b
		if len(buf) < aa*chunk*lanes {
			buf = make([]float32, aa*chunk*lanes)
		}
		clear(buf) // lanes past the last channel stay zero
		for ch0 := 0; ch0 < ic; ch0 += chunk {
			n := min(chunk, ic-ch0)
			for oc := oc0; oc < min(oc0+lanes, c.out.c); oc++ {
				k := w[c.kernels+(oc/c.group)*ic*9*c.group+oc%c.group:]
				for j := 0; j < n; j++ {
					for i := range g {
						g[i] = float64(k[((ch0+j)*9+i)*c.group])
					}
					if c.m == 4 {
						kernelF4(&g, &t)
					} else {
						kernelF2(&g, &t)
					}
					at := j*lanes + oc - oc0
					for xi := 0; xi < aa; xi++ {
						buf[xi*chunk*lanes+at] = float32(t[xi])
					}
				}
			}
			for xi := 0; xi < aa; xi++ {
				at := tile.wOff + xi*c.xi + ch0*lanes
				copy(u[at:at+n*lanes], buf[xi*chunk*lanes:])
			}
		}
	}
}

// kernelF4 computes the 6x6 t = G g G^T for F(4x4, 3x3).
func kernelF4(g *[9]float64, t *[36]float64) {
	const sixth, twentyFourth = 1.0 / 6, 1.0 / 24
	f := func(x0, x1, x2 float64) (y0, y1, y2, y3, y4, y5 float64) {
		p, q := x0+x2, x0+x2*4
		return x0 / 4, float64(-(p + x1) * sixth), float64((x1 - p) * sixth),
			float64((q + x1*2) * twentyFourth), float64((q - x1*2) * twentyFourth), x2
	}
	var h [18]float64 // G g: 6 rows of 3
	for j := 0; j < 3; j++ {
		h[j], h[3+j], h[6+j], h[9+j], h[12+j], h[15+j] = f(g[j], g[3+j], g[6+j])
	}
	for i := 0; i < 6; i++ {
		r := (*[6]float64)(t[i*6:])
		r[0], r[1], r[2], r[3], r[4], r[5] = f(h[i*3], h[i*3+1], h[i*3+2])
	}
}

// kernelF2 computes the 4x4 t = G g G^T for F(2x2, 3x3) (the first 16 of t).
func kernelF2(g *[9]float64, t *[36]float64) {
	f := func(x0, x1, x2 float64) (y0, y1, y2, y3 float64) {
		p := x0 + x2
		return x0, (p + x1) / 2, (p - x1) / 2, x2
	}
	var h [12]float64 // G g: 4 rows of 3
	for j := 0; j < 3; j++ {
		h[j], h[3+j], h[6+j], h[9+j] = f(g[j], g[3+j], g[6+j])
	}
	for i := 0; i < 4; i++ {
		r := (*[4]float64)(t[i*4:])
		r[0], r[1], r[2], r[3] = f(h[i*3], h[i*3+1], h[i*3+2])
	}
}

// The transforms below are the rows of package plan's matrices with
// common subexpressions shared, applied to the rows and then the columns
// of a tile (the assembly kernels use the same schedules).

// inputF4 replaces the 6x6 tile d with B^T d B for F(4x4, 3x3).
func inputF4(d *[36]float32) {
	t := func(x0, x1, x2, x3, x4, x5 float32) (y0, y1, y2, y3, y4, y5 float32) {
		y0 = 4*x0 - 5*x2 + x4
		y1 = (x3 + x4) - 4*(x1+x2)
		y2 = 4*(x1-x2) + (x4 - x3)
		y3 = 2*(x3-x1) + (x4 - x2)
		y4 = 2*(x1-x3) + (x4 - x2)
		y5 = 4*x1 - 5*x3 + x5
		return
	}
	for i := 0; i < 36; i += 6 {
		d[i], d[i+1], d[i+2], d[i+3], d[i+4], d[i+5] = t(d[i], d[i+1], d[i+2], d[i+3], d[i+4], d[i+5])
	}
	for j := 0; j < 6; j++ {
		d[j], d[6+j], d[12+j], d[18+j], d[24+j], d[30+j] = t(d[j], d[6+j], d[12+j], d[18+j], d[24+j], d[30+j])
	}
}

// outputF4 computes y = A^T m A for F(4x4, 3x3); m (6x6) is clobbered.
func outputF4(m *[36]float32, y *[16]float32) {
	t := func(x0, x1, x2, x3, x4, x5 float32) (y0, y1, y2, y3 float32) {
		p, q, r, s := x1+x2, x1-x2, x3+x4, x3-x4
		return x0 + p + r, q + 2*s, p + 4*r, q + 8*s + x5
	}
	for j := 0; j < 6; j++ { // columns: rows 0..3 of m hold A^T m
		m[j], m[6+j], m[12+j], m[18+j] = t(m[j], m[6+j], m[12+j], m[18+j], m[24+j], m[30+j])
	}
	for i := 0; i < 4; i++ {
		r := m[i*6:]
		y[i*4], y[i*4+1], y[i*4+2], y[i*4+3] = t(r[0], r[1], r[2], r[3], r[4], r[5])
	}
}

// inputF2 replaces the 4x4 tile (the first 16 of d) with B^T d B for
// F(2x2, 3x3).
func inputF2(d *[36]float32) {
	t := func(x0, x1, x2, x3 float32) (float32, float32, float32, float32) {
		return x0 - x2, x1 + x2, x2 - x1, x1 - x3
	}
	for i := 0; i < 16; i += 4 {
		d[i], d[i+1], d[i+2], d[i+3] = t(d[i], d[i+1], d[i+2], d[i+3])
	}
	for j := 0; j < 4; j++ {
		d[j], d[4+j], d[8+j], d[12+j] = t(d[j], d[4+j], d[8+j], d[12+j])
	}
}

// outputF2 computes y = A^T m A for F(2x2, 3x3); m (4x4) is clobbered.
func outputF2(m *[36]float32, y *[16]float32) {
	t := func(x0, x1, x2, x3 float32) (float32, float32) {
		return x0 + x1 + x2, x1 - x2 - x3
	}
	for j := 0; j < 4; j++ {
		m[j], m[4+j] = t(m[j], m[4+j], m[8+j], m[12+j])
	}
	for i := 0; i < 2; i++ {
		r := m[i*4:]
		y[i*2], y[i*2+1] = t(r[0], r[1], r[2], r[3])
	}
}
