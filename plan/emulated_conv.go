package plan

import "github.com/acgen/acgen/graph"

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
	graph.Parallel(c.Out, func(oc int) {
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
	graph.Parallel(tiles, func(t int) {
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
		var mm [8][36]float32
		for oc0 := 0; oc0 < c.Out; oc0 += 8 {
			// Eight output channels at once (the last repeated): eight
			// independent chains, to hide the latency of each step's
			// rounding.
			var ocs [8]int
			for q := range ocs {
				ocs[q] = min(oc0+q, c.Out-1)
			}
			for xi := 0; xi < aa; xi++ {
				vv := v[xi*c.In : (xi+1)*c.In]
				var us [8][]float32
				for q, oc := range ocs {
					us[q] = u[(oc*aa+xi)*c.In:][:len(vv)]
				}
				var acc [8]float32
				for c0 := 0; c0 < len(vv); c0 += WinogradChain {
					s := chain8(&us, vv, c0, min(c0+WinogradChain, len(vv)))
					for q := range acc {
						acc[q] += float32(s[q])
					}
				}
				for q := range acc {
					mm[q][xi] = acc[q]
				}
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

// chain8 is eight chains of float32 fused multiply-adds, us[q][ch] *
// vv[ch] over channels c0 to c1-1: each sum is rounded as an FMA rounds
// it (the product is exact in float64).
func chain8(us *[8][]float32, vv []float32, c0, c1 int) [8]float64 {
	u0, u1, u2, u3 := us[0][:c1], us[1][:c1], us[2][:c1], us[3][:c1]
	u4, u5, u6, u7 := us[4][:c1], us[5][:c1], us[6][:c1], us[7][:c1]
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	for ch := c0; ch < c1; ch++ {
		x := float64(vv[ch])
		s0 = float64(float32(s0 + float64(u0[ch])*x))
		s1 = float64(float32(s1 + float64(u1[ch])*x))
		s2 = float64(float32(s2 + float64(u2[ch])*x))
		s3 = float64(float32(s3 + float64(u3[ch])*x))
		s4 = float64(float32(s4 + float64(u4[ch])*x))
		s5 = float64(float32(s5 + float64(u5[ch])*x))
		s6 = float64(float32(s6 + float64(u6[ch])*x))
		s7 = float64(float32(s7 + float64(u7[ch])*x))
	}
	return [8]float64{s0, s1, s2, s3, s4, s5, s6, s7}
}
