//lint:file-ignore U1000 the helpers are used by the generated packages this file is copied into

package templates

import "math"

// normChunk is how many pixels of a row layerNorm normalises together:
// their statistics live on the stack, and their channels (a few hundred
// at most in a real network) stay in the cache between its passes.
const normChunk = 32

// layerNorm normalises the channels of each pixel of rows lo to hi-1, as
// nn.LayerNorm over channels: y = (x - mean) / sqrt(var + eps) * w + b,
// with the biased variance, summed in float64. w and b are padded to
// whole blocks; padded lanes are not written. It is the portable kernel;
// the assembly's (asm/layernorm.go) sums in float32, a few pixels' worth
// of registers at a time.
func layerNorm(ws []float32, in, out layout, w, b []float32, eps float32, lo, hi int) {
	n := float64(in.c)
	for y := lo; y < hi; y++ {
		for x0 := 0; x0 < in.w; x0 += normChunk {
			px := min(normChunk, in.w-x0)
			var sum, sq [normChunk]float64
			var mean, inv [normChunk]float32
			for cb := 0; cb < in.cb(); cb++ {
				lanes := min(in.b, in.c-cb*in.b)
				row := ws[in.pixel(cb, y, x0):]
				for i := 0; i < px; i++ {
					s := 0.0
					for _, v := range row[i*in.b : i*in.b+lanes] {
						s += float64(v)
					}
					sum[i] += s
				}
			}
			for i := 0; i < px; i++ {
				mean[i] = float32(sum[i] / n)
			}
			for cb := 0; cb < in.cb(); cb++ {
				lanes := min(in.b, in.c-cb*in.b)
				row := ws[in.pixel(cb, y, x0):]
				for i := 0; i < px; i++ {
					m, s := mean[i], 0.0
					for _, v := range row[i*in.b : i*in.b+lanes] {
						d := float64(v) - float64(m)
						s += d * d
					}
					sq[i] += s
				}
			}
			for i := 0; i < px; i++ {
				inv[i] = float32(1 / math.Sqrt(sq[i]/n+float64(eps)))
			}
			for cb := 0; cb < out.cb(); cb++ {
				lanes := min(out.b, out.c-cb*out.b)
				src, dst := ws[in.pixel(cb, y, x0):], ws[out.pixel(cb, y, x0):]
				wb, bb := w[cb*out.b:cb*out.b+lanes], b[cb*out.b:cb*out.b+lanes]
				for i := 0; i < px; i++ {
					m, r := mean[i], inv[i]
					d := dst[i*out.b : i*out.b+lanes]
					for l, v := range src[i*in.b : i*in.b+lanes] {
						d[l] = (v-m)*r*wb[l] + bb[l]
					}
				}
			}
		}
	}
}
