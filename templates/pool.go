//lint:file-ignore U1000 the helpers are used by the generated packages this file is copied into

package templates

import "math"

// window is a pooling window, per axis (PyTorch's kernel_size, stride,
// padding and dilation), and average pooling's count_include_pad.
type window struct {
	kh, kw, sh, sw, ph, pw, dh, dw int
	countPad                       bool
}

// maxPool takes the maximum over each window's input values for output
// rows lo to hi-1, skipping padding (which PyTorch fills with -inf) and
// the part of a ceil_mode window past the input.
func maxPool(ws []float32, in, out layout, p window, lo, hi int) {
	for cb := 0; cb < out.cb(); cb++ {
		for oy := lo; oy < hi; oy++ {
			for ox := 0; ox < out.w; ox++ {
				var buf [maxBlock]float32
				m := buf[:out.b]
				for l := range m {
					m[l] = float32(math.Inf(-1))
				}
				for ky := 0; ky < p.kh; ky++ {
					iy := oy*p.sh - p.ph + ky*p.dh
					if iy < 0 || iy >= in.h {
						continue
					}
					for kx := 0; kx < p.kw; kx++ {
						ix := ox*p.sw - p.pw + kx*p.dw
						if ix < 0 || ix >= in.w {
							continue
						}
						i := in.pixel(cb, iy, ix)
						for l := range m {
							m[l] = max(m[l], ws[i+l])
						}
					}
				}
				o := out.pixel(cb, oy, ox)
				for l := range m {
					if cb*out.b+l < out.c {
						ws[o+l] = m[l]
					}
				}
			}
		}
	}
}

// avgPool averages each window as PyTorch's avg_pool2d does: the sum of
// the input values it covers, divided with countPad by its size within
// the padded input (padding counts, a ceil_mode window's part past it
// does not), else by the number of values summed.
func avgPool(ws []float32, in, out layout, p window) {
	for oy := 0; oy < out.h; oy++ {
		y0 := oy*p.sh - p.ph
		y1 := min(y0+p.kh, in.h+p.ph)
		for ox := 0; ox < out.w; ox++ {
			x0 := ox*p.sw - p.pw
			x1 := min(x0+p.kw, in.w+p.pw)
			div := (y1 - y0) * (x1 - x0)
			y0, y1, x0, x1 := max(y0, 0), min(y1, in.h), max(x0, 0), min(x1, in.w)
			if !p.countPad {
				div = (y1 - y0) * (x1 - x0)
			}
			inv := 1 / float32(max(div, 1))
			for cb := 0; cb < out.cb(); cb++ {
				var buf [maxBlock]float32
				s := buf[:out.b]
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						i := in.pixel(cb, iy, ix)
						for l := range s {
							s[l] += ws[i+l]
						}
					}
				}
				o := out.pixel(cb, oy, ox)
				for l := range s {
					ws[o+l] = s[l] * inv
				}
			}
		}
	}
}

// adaptiveAvgPool averages, for output (oy, ox), the input rows
// floor(oy*h/oh) to ceil((oy+1)*h/oh)-1 and the columns so (PyTorch's
// adaptive windows, of different sizes where the output size does not
// divide the input's).
func adaptiveAvgPool(ws []float32, in, out layout) {
	for oy := 0; oy < out.h; oy++ {
		y0, y1 := oy*in.h/out.h, ((oy+1)*in.h+out.h-1)/out.h
		for ox := 0; ox < out.w; ox++ {
			x0, x1 := ox*in.w/out.w, ((ox+1)*in.w+out.w-1)/out.w
			inv := 1 / float32((y1-y0)*(x1-x0))
			for cb := 0; cb < out.cb(); cb++ {
				var buf [maxBlock]float32
				s := buf[:out.b]
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						i := in.pixel(cb, iy, ix)
						for l := range s {
							s[l] += ws[i+l]
						}
					}
				}
				o := out.pixel(cb, oy, ox)
				for l := range s {
					ws[o+l] = s[l] * inv
				}
			}
		}
	}
}
