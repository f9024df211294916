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
	act            int
	bias           int // weight offset of the bias
	xi             int // weight floats per transform element
	tiles          []convTile
	tilesY, tilesX int
	scratch        int // workspace offset of room for V and M
}

func (c *winogradConv) run(ws, w []float32) {
	a := c.m + 2
	aa := a * a
	ic := c.in.c
	v := ws[c.scratch : c.scratch+aa*ic] // V[xi][ic], then M[xi][lane]
	var d [36]float32
	var y [16]float32
	for ty := 0; ty < c.tilesY; ty++ {
		for tx := 0; tx < c.tilesX; tx++ {
			origin := c.inBase + ty*c.m*c.in.row() + tx*c.m*8
			for ch := 0; ch < ic; ch++ {
				p := origin + (ch/8)*c.in.plane() + ch%8
				for i := 0; i < a; i++ {
					row := ws[p+i*c.in.row():]
					for j := 0; j < a; j++ {
						d[i*a+j] = row[j*8]
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
				lanes := t.blocks * 8
				acc := ws[c.scratch+aa*ic : c.scratch+aa*(ic+lanes)]
				for i := range acc {
					acc[i] = 0
				}
				for xi := 0; xi < aa; xi++ {
					u := w[t.wOff+xi*c.xi : t.wOff+xi*c.xi+ic*lanes]
					vx := v[xi*ic : (xi+1)*ic]
					// Eight lanes at a time through array pointers, so
					// the compiler checks no bounds in the loop.
					for b := 0; b < lanes; b += 8 {
						m := (*[8]float32)(acc[xi*lanes+b:])
						m0, m1, m2, m3, m4, m5, m6, m7 := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
						for ch, x := range vx {
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
						m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7] = m0, m1, m2, m3, m4, m5, m6, m7
					}
				}
				for l := 0; l < lanes; l++ {
					oc := t.block0*8 + l
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
					for i := 0; i < c.m; i++ {
						for j := 0; j < c.m; j++ {
							py, px := ty*c.m+i, tx*c.m+j
							if py >= c.out.h || px >= c.out.w {
								continue // a tile reaching past the output
							}
							s := y[i*c.m+j] + b
							if c.hasRes {
								s += ws[c.res.at(oc, py, px)]
							}
							ws[c.out.at(oc, py, px)] = act(s, c.act)
						}
					}
				}
			}
		}
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
