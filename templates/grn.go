//lint:file-ignore U1000 the helpers are used by the generated packages this file is copied into

package templates

import "math"

// grn is global response normalisation (ConvNeXt-V2's GRN): each
// channel's L2 norm over the image, N = norm / (mean norm + eps), then
// y = x*(gamma*N + 1) + beta. gamma and beta are padded to whole blocks;
// scratch holds a block-padded float per channel between the passes
// (the norms, then the scales). Sums are in float64. It is the portable
// kernel; the assembly's (asm/grn.go) sums in float32 vectors, a few
// accumulators a channel block.
func grn(ws []float32, in, out layout, gamma, beta []float32, eps float32, scratch int) {
	s := ws[scratch : scratch+in.cb()*in.b]
	total := 0.0
	for c := 0; c < in.c; c++ {
		cb, l := c/in.b, c%in.b
		ss := 0.0
		for y := 0; y < in.h; y++ {
			row := ws[in.pixel(cb, y, 0)+l:]
			for x := 0; x < in.w; x++ {
				v := float64(row[x*in.b])
				ss += v * v
			}
		}
		n := math.Sqrt(ss)
		s[c] = float32(n)
		total += n
	}
	denom := total/float64(in.c) + float64(eps)
	for c := 0; c < in.c; c++ {
		s[c] = float32(float64(gamma[c])*(float64(s[c])/denom) + 1)
	}
	for cb := 0; cb < out.cb(); cb++ {
		lanes := min(out.b, out.c-cb*out.b)
		sc, bb := s[cb*out.b:cb*out.b+lanes], beta[cb*out.b:cb*out.b+lanes]
		for y := 0; y < out.h; y++ {
			src, dst := ws[in.pixel(cb, y, 0):], ws[out.pixel(cb, y, 0):]
			for x := 0; x < out.w; x++ {
				d := dst[x*out.b : x*out.b+lanes]
				for l, v := range src[x*in.b : x*in.b+lanes] {
					d[l] = v*sc[l] + bb[l]
				}
			}
		}
	}
}
