package templates

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinogradLanes runs the portable Winograd kernel on programs of 8-
// and 4-lane channel blocks, with tiles of one and two blocks (4, 8 and
// 16 lanes), against a direct 3x3 convolution in float64: its product
// loop takes any multiple of 4 lanes, not only AVX2's 8.
func TestWinogradLanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const ic, oc, h, w, halo, group = 5, 6, 6, 7, 3, 16
	x := make([]float64, ic*h*w)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	k := make([]float64, oc*ic*9)
	for i := range k {
		k[i] = rng.NormFloat64() / 3
	}
	bias := []float64{0.1, -0.2, 0.3, 0, 0.5, -0.6}
	// The packed weights: the bias, then [oc/group][ic][3][3][group].
	packed := make([]float32, 32+ic*9*group)
	for o := 0; o < oc; o++ {
		packed[o] = float32(bias[o])
		for c := 0; c < ic; c++ {
			for i := 0; i < 9; i++ {
				packed[32+(c*9+i)*group+o] = float32(k[(o*ic+c)*9+i])
			}
		}
	}
	for _, b := range []int{8, 4} {
		for _, tiles := range [][]convTile{{{block0: 0, blocks: 1}, {block0: 1, blocks: 1}}, {{block0: 0, blocks: 2}}} {
			if b == 8 && len(tiles) == 2 {
				tiles = tiles[:1] // 6 channels are one 8-lane block
			}
			for _, m := range []int{2, 4} {
				in := layout{off: 0, c: ic, h: h, w: w, halo: halo, b: b}
				out := layout{off: in.cb() * in.plane(), c: oc, h: h, w: w, halo: 0, b: b}
				c := &winogradConv{m: m, in: in, out: out, inBase: in.at(0, -1, -1), bias: 0, biasSrc: 0, kernels: 32, group: group,
					tiles: append([]convTile(nil), tiles...), tilesY: (h + m - 1) / m, tilesX: (w + m - 1) / m, blockRows: 1}
				c.scratch = out.off + out.cb()*out.plane()
				off := 16
				for i := range c.tiles {
					c.tiles[i].wOff = off
					off += ic * c.tiles[i].blocks * b
				}
				c.xi = off - 16
				a := m + 2
				u := make([]float32, 16+a*a*c.xi)
				c.transformWeights(u, packed)
				ws := make([]float32, c.scratch+a*a*(ic+16))
				for ch := 0; ch < ic; ch++ {
					for y := 0; y < h; y++ {
						for xx := 0; xx < w; xx++ {
							ws[in.at(ch, y, xx)] = float32(x[(ch*h+y)*w+xx])
						}
					}
				}
				c.run(ws, u, 0, c.tilesY, 0)
				for o := 0; o < oc; o++ {
					for y := 0; y < h; y++ {
						for xx := 0; xx < w; xx++ {
							want := bias[o]
							for ch := 0; ch < ic; ch++ {
								for i := 0; i < 9; i++ {
									yy, xw := y+i/3-1, xx+i%3-1
									if yy >= 0 && yy < h && xw >= 0 && xw < w {
										want += k[(o*ic+ch)*9+i] * x[(ch*h+yy)*w+xw]
									}
								}
							}
							if got := float64(ws[out.at(o, y, xx)]); math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
								t.Fatalf("%d lanes, tiles %v, F(%d): out[%d][%d][%d] = %v, want %v", b, tiles, m, o, y, xx, got, want)
							}
						}
					}
				}
			}
		}
	}
}
