package plan

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/acgen/acgen/graph"
)

// A Winograd layer's excess, measured. How much more a layer errs by
// Winograd than directly depends on its data and its map as well as on
// its channels, which are all the channel table (winogradExcess) knows.
// The check stage runs the fused network in float64 on a sample, and
// MeasureWinogradExcess computes a layer on that sample's input three
// ways: in float64, directly in float32, and by Winograd in float32 as
// the kernels do (transforms in float32, weights transformed in float64
// and rounded, products summed in chains of WinogradChain channels), on
// a spread of its tiles and output channels. Its excess is r^2 - 1, r
// the ratio of the two float32 ways' root-mean-square errors: the
// quantity the table's first column came from (an F(4) layer of 16
// channels, averaged over its image, errs 9.7x a direct one: 93).
//
// Measured, the excesses are smaller than the table's (ResNet-20: 6 to
// 19 for its 16-channel layers, 2 to 6 for its 64-channel ones), whose
// values absorb how errors grow through the network; they rank the
// layers, and the emulation (see EmulatedError) sets their scale.

// Excess is a layer's measured excess by Winograd F(2) and F(4).
type Excess struct{ F2, F4 float64 }

// Measured returns the measured excess of F(m), m 2 or 4.
func (x Excess) Measured(m int) float64 {
	if m == 2 {
		return x.F2
	}
	return x.F4
}

// WinogradEligible reports whether Winograd can compute c at all: a
// dense 3x3 stride-1 undilated convolution (see winogradM).
func WinogradEligible(c *graph.Conv) bool {
	return c.KH == 3 && c.KW == 3 && c.StrideH == 1 && c.StrideW == 1 && c.DilH == 1 && c.DilW == 1 && c.Groups == 1
}

// The sample MeasureWinogradExcess computes: at most this many tiles,
// spread evenly over the image in raster order (so borders come in their
// share), and output channels, spread over them.
const excessTiles, excessChannels = 48, 12

// MeasureWinogradExcess returns c's excess by Winograd (see above) on
// input in, of shape sh (float64, channel-major). c must be eligible.
// It is at least a tenth of the channel table's: a layer whose sample
// shows no excess still has some.
func MeasureWinogradExcess(c *graph.Conv, in []float64, sh graph.Shape) Excess {
	cs := &ConvStep{Conv: *c}
	return Excess{
		F2: max(measureExcess(c, in, sh, 2), winogradExcess(cs, 2)/10),
		F4: max(measureExcess(c, in, sh, 4), winogradExcess(cs, 4)/10),
	}
}

func measureExcess(c *graph.Conv, in []float64, sh graph.Shape, m int) float64 {
	tr := WinogradTransforms(m)
	a := tr.A
	oh, ow := c.OutSize(sh.H, sh.W)
	tilesY, tilesX := (oh+m-1)/m, (ow+m-1)/m
	nt := tilesY * tilesX
	if nt == 0 || c.In == 0 || c.Out == 0 {
		return 0
	}
	at := func(ch, y, x int) float64 { // the padded input
		y, x = y-c.PadH, x-c.PadW
		if y < 0 || y >= sh.H || x < 0 || x >= sh.W {
			return 0
		}
		return in[(ch*sh.H+y)*sh.W+x]
	}
	f32 := func(v float64) float64 { return float64(float32(v)) }
	// mul32 is a float32 matrix product row by row: t = p q, p r x k, q
	// k x s, each sum rounded to float32 term by term.
	mul32 := func(p [][]float64, q []float64, k, s int) []float64 {
		t := make([]float64, len(p)*s)
		for i := range p {
			for j := 0; j < s; j++ {
				var acc float32
				for l := 0; l < k; l++ {
					acc += float32(p[i][l]) * float32(q[l*s+j])
				}
				t[i*s+j] = float64(acc)
			}
		}
		return t
	}
	transpose := func(v []float64, r, s int) []float64 {
		t := make([]float64, len(v))
		for i := 0; i < r; i++ {
			for j := 0; j < s; j++ {
				t[j*r+i] = v[i*s+j]
			}
		}
		return t
	}
	bt, atT := tr.BT, tr.AT
	// U = G g G^T in float64, rounded once, for the sampled channels.
	nc := min(excessChannels, c.Out)
	ocs := make([]int, nc)
	for i := range ocs {
		ocs[i] = i * c.Out / nc
	}
	u := make([][]float64, nc) // [oc][ch*aa+xi]
	for i, oc := range ocs {
		u[i] = make([]float64, c.In*a*a)
		for ch := 0; ch < c.In; ch++ {
			g := c.Weight[(oc*c.In+ch)*9 : (oc*c.In+ch)*9+9]
			for r := 0; r < a; r++ {
				for s := 0; s < a; s++ {
					var v float64
					for k := 0; k < 3; k++ {
						for l := 0; l < 3; l++ {
							v += tr.G[r][k] * f32(g[k*3+l]) * tr.G[s][l]
						}
					}
					u[i][ch*a*a+r*a+s] = f32(v)
				}
			}
		}
	}
	var sumD, sumW float64
	nTiles := min(excessTiles, nt)
	d := make([]float64, a*a)
	v := make([]float64, c.In*a*a)
	for k := 0; k < nTiles; k++ {
		t := k * nt / nTiles
		ty, tx := t/tilesX, t%tilesX
		y0, x0 := ty*m, tx*m
		for ch := 0; ch < c.In; ch++ {
			for r := 0; r < a; r++ {
				for s := 0; s < a; s++ {
					d[r*a+s] = f32(at(ch, y0+r, x0+s))
				}
			}
			// B^T d B, rows then columns, in float32.
			bd := mul32(bt, d, a, a)
			copy(v[ch*a*a:], transpose(mul32(bt, transpose(bd, a, a), a, a), a, a))
		}
		for i, oc := range ocs {
			// M = sum over channels of U .* V, in chains.
			mm := make([]float64, a*a)
			for xi := 0; xi < a*a; xi++ {
				var acc float32
				for c0 := 0; c0 < c.In; c0 += WinogradChain {
					var chain float32
					for ch := c0; ch < min(c0+WinogradChain, c.In); ch++ {
						chain = float32(float64(chain) + u[i][ch*a*a+xi]*v[ch*a*a+xi])
					}
					acc += chain
				}
				mm[xi] = float64(acc)
			}
			// Y = A^T M A in float32.
			am := mul32(atT, mm, a, a)
			y := transpose(mul32(atT, transpose(am, m, a), a, m), m, m)
			for r := 0; r < m && y0+r < oh; r++ {
				for s := 0; s < m && x0+s < ow; s++ {
					var exact float64
					var direct float32
					for ch := 0; ch < c.In; ch++ {
						g := c.Weight[(oc*c.In+ch)*9:]
						for ky := 0; ky < 3; ky++ {
							for kx := 0; kx < 3; kx++ {
								x := at(ch, y0+r+ky, x0+s+kx)
								exact += f32(g[ky*3+kx]) * f32(x)
								direct = float32(float64(direct) + f32(g[ky*3+kx])*f32(x))
							}
						}
					}
					ed, ew := float64(direct)-exact, y[r*m+s]-exact
					sumD += ed * ed
					sumW += ew * ew
				}
			}
		}
	}
	if sumD == 0 {
		if sumW == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return max(0, sumW/sumD-1)
}

// WinogradConv32 computes convolution c (eligible) of input in, of shape
// sh, by Winograd F(m x m, 3 x 3) in float32 as the kernels do (see
// above): the whole output, in float64 slots.
func WinogradConv32(c *graph.Conv, in []float64, sh graph.Shape, m int) []float64 {
	tr := WinogradTransforms(m)
	a := tr.A
	aa := a * a
	oh, ow := c.OutSize(sh.H, sh.W)
	tilesY, tilesX := (oh+m-1)/m, (ow+m-1)/m
	tiles := tilesY * tilesX
	at := func(ch, y, x int) float32 {
		y, x = y-c.PadH, x-c.PadW
		if y < 0 || y >= sh.H || x < 0 || x >= sh.W {
			return 0
		}
		return float32(in[(ch*sh.H+y)*sh.W+x])
	}
	// U[oc][xi][ch] = G g G^T in float64, rounded once.
	u := make([]float32, c.Out*aa*c.In)
	inParallel(c.Out, func(oc int) {
		var h [6][3]float64 // G g
		for ch := 0; ch < c.In; ch++ {
			g := c.Weight[(oc*c.In+ch)*9 : (oc*c.In+ch)*9+9]
			for r := 0; r < a; r++ {
				for l := 0; l < 3; l++ {
					h[r][l] = 0
					for k := 0; k < 3; k++ {
						h[r][l] += tr.G[r][k] * float64(float32(g[k*3+l]))
					}
				}
			}
			for r := 0; r < a; r++ {
				for s := 0; s < a; s++ {
					var x float64
					for l := 0; l < 3; l++ {
						x += h[r][l] * tr.G[s][l]
					}
					u[(oc*aa+r*a+s)*c.In+ch] = float32(x)
				}
			}
		}
	})
	out := make([]float64, c.Out*oh*ow)
	inParallel(tiles, func(t int) {
		y0, x0 := t/tilesX*m, t%tilesX*m
		// V[xi][ch] = B^T d B, rows then columns, in float32.
		v := make([]float32, aa*c.In)
		d, e := make([]float32, aa), make([]float32, aa)
		for ch := 0; ch < c.In; ch++ {
			for r := 0; r < a; r++ {
				for s := 0; s < a; s++ {
					d[r*a+s] = at(ch, y0+r, x0+s)
				}
			}
			for i := 0; i < a; i++ {
				for j := 0; j < a; j++ {
					var acc float32
					for k := 0; k < a; k++ {
						acc += float32(tr.BT[i][k]) * d[k*a+j]
					}
					e[i*a+j] = acc
				}
			}
			for i := 0; i < a; i++ {
				for j := 0; j < a; j++ {
					var acc float32
					for k := 0; k < a; k++ {
						acc += e[i*a+k] * float32(tr.BT[j][k])
					}
					v[(i*a+j)*c.In+ch] = acc
				}
			}
		}
		var mm [4][36]float32
		for oc0 := 0; oc0 < c.Out; oc0 += 4 {
			// Four output channels at once (the last repeated): four
			// independent chains.
			var ocs [4]int
			for q := range ocs {
				ocs[q] = min(oc0+q, c.Out-1)
			}
			for xi := 0; xi < aa; xi++ {
				vv := v[xi*c.In : (xi+1)*c.In]
				u0 := u[(ocs[0]*aa+xi)*c.In:][:len(vv)]
				u1 := u[(ocs[1]*aa+xi)*c.In:][:len(vv)]
				u2 := u[(ocs[2]*aa+xi)*c.In:][:len(vv)]
				u3 := u[(ocs[3]*aa+xi)*c.In:][:len(vv)]
				var a0, a1, a2, a3 float32
				for c0 := 0; c0 < len(vv); c0 += WinogradChain {
					var s0, s1, s2, s3 float64 // float32 values: each sum is rounded, as an FMA rounds
					for ch := c0; ch < min(c0+WinogradChain, len(vv)); ch++ {
						x := float64(vv[ch])
						s0 = float64(float32(s0 + float64(u0[ch])*x))
						s1 = float64(float32(s1 + float64(u1[ch])*x))
						s2 = float64(float32(s2 + float64(u2[ch])*x))
						s3 = float64(float32(s3 + float64(u3[ch])*x))
					}
					a0, a1, a2, a3 = a0+float32(s0), a1+float32(s1), a2+float32(s2), a3+float32(s3)
				}
				mm[0][xi], mm[1][xi], mm[2][xi], mm[3][xi] = a0, a1, a2, a3
			}
			for q, oc := range ocs {
				if q > 0 && oc == ocs[q-1] {
					break
				}
				var b float32
				if c.Bias != nil {
					b = float32(c.Bias[oc])
				}
				for i := 0; i < m && y0+i < oh; i++ { // A^T M A
					for j := 0; j < m && x0+j < ow; j++ {
						var acc float32
						for k := 0; k < a; k++ {
							var row float32
							for l := 0; l < a; l++ {
								row += mm[q][k*a+l] * float32(tr.AT[j][l])
							}
							acc += float32(tr.AT[i][k]) * row
						}
						out[(oc*oh+y0+i)*ow+x0+j] = float64(acc + b)
					}
				}
			}
		}
	})
	return out
}

// inParallel calls f(0) to f(n-1) on every processor.
func inParallel(n int, f func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(n, runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}
