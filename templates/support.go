//lint:file-ignore U1000 the helpers are used by the generated packages this file is copied into

package templates

import (
	"math"
	"sync"
	"unsafe"
)

// convTile is one tile of a convolution's output channels: blocks
// channel blocks from block0, reading input channels icLo..icHi-1, with
// packed weights from wOff (see package plan).
type convTile struct {
	block0, blocks, icLo, icHi, wOff int
}

// tileGroups is the part of a direct convolution's portable kernel that
// computes one tile of a step split by tiles (see package plan,
// ConvStep.ByTiles): weight groups groupLo to groupHi-1, of which it
// stores output channel blocks blockLo to blockHi-1.
type tileGroups struct {
	groupLo, groupHi, blockLo, blockHi int
}

// lineRange is units lo to hi-1 of a sequence numbered n to a line, as
// positions of line i: from max(lo-i*n, 0) to min(hi-i*n, n), empty
// when none of them is in it. A direct convolution split by tiles
// numbers its rows so, a tile a line (see package plan,
// ConvStep.ByTiles); a Winograd step's tile rows fall into its blocks
// of rows so.
func lineRange(lo, hi, i, n int) (int, int) { return max(lo-i*n, 0), min(hi-i*n, n) }

// layout describes a buffer in the workspace: channels in blocks of b
// (the program's vector width: 8 or 16),
// [ceil(c/b)][h+2*halo][w+2*halo][b] floats starting at off.
type layout struct {
	off, c, h, w, halo, b int
}

// maxBlock bounds every program's channel block.
const maxBlock = 16

func (l layout) cb() int    { return (l.c + l.b - 1) / l.b }
func (l layout) row() int   { return (l.w + 2*l.halo) * l.b }
func (l layout) plane() int { return (l.h + 2*l.halo) * l.row() }

// at is the index of logical element (c, y, x).
func (l layout) at(c, y, x int) int {
	return l.off + (c/l.b)*l.plane() + (y+l.halo)*l.row() + (x+l.halo)*l.b + c%l.b
}

// pixel is the index of lane 0 of channel block cb at (y, x).
func (l layout) pixel(cb, y, x int) int {
	return l.off + cb*l.plane() + (y+l.halo)*l.row() + (x+l.halo)*l.b
}

var (
	weightsOnce sync.Once
	weights     []float32
	alignedOnce sync.Once
	aligned     []float32 // weights copied to a 64-byte boundary
)

// packedWeights returns the packed weights, on first use, so that
// importing the package costs nothing, starting at a multiple of align
// bytes (a level's weight vectors: 0 for any). On little-endian
// machines, where the embedded bytes already are the float32s, it uses
// them in place when they are aligned so: no copy, no decoding, half the
// memory. The kernels only read weights, and the embedded bytes are
// read-only. Elsewhere it decodes a copy. The Go linker aligns the
// embedded file to 32 bytes only, so in about half of all builds the
// AVX-512 kernels would load each 64-byte weight vector across two cache
// lines: ResNet-50 ran 11-17% slower so on an Ice Lake Xeon. There this
// copies them, once, to a 64-byte boundary. Every program reads these;
// each computes its Winograd weights from them (program.transformed).
func packedWeights(align int) []float32 {
	weightsOnce.Do(func() {
		weights = decodeWeights(weightsRaw[weightsHeader:])
	})
	if isAligned(weights, align) {
		return weights
	}
	alignedOnce.Do(func() { aligned = alignedCopy(weights, 64) })
	return aligned
}

// isAligned reports whether w starts at a multiple of align bytes.
func isAligned(w []float32, align int) bool {
	return align <= 1 || len(w) == 0 || uintptr(unsafe.Pointer(&w[0]))%uintptr(align) == 0
}

// alignedCopy copies w to a new slice that starts at a multiple of align
// bytes (a multiple of 4).
func alignedCopy(w []float32, align int) []float32 {
	buf := make([]float32, len(w)+align/4)
	i := 0
	for !isAligned(buf[i:], align) {
		i++
	}
	c := buf[i : i+len(w) : i+len(w)]
	copy(c, w)
	return c
}

func decodeWeights(raw string) []float32 {
	if p := unsafe.StringData(raw); nativeLittleEndian() && uintptr(unsafe.Pointer(p))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(p)), len(raw)/4)
	}
	w := make([]float32, len(raw)/4)
	for i := range w {
		b := raw[4*i : 4*i+4]
		w[i] = math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	}
	return w
}

func nativeLittleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// packInput copies rows lo to hi-1 of the caller's C,H,W input into the
// interior of layout l, pixel by pixel: each pixel's channels fill one
// run of lanes, written once (channel by channel, a first image layer's
// few channels would write every cache line of its blocks again).
func packInput(ws []float32, l layout, src []float32, lo, hi int) {
	plane := l.h * l.w
	for cb := 0; cb < l.cb(); cb++ {
		c0 := cb * l.b
		n := min(l.b, l.c-c0)
		for y := lo; y < hi; y++ {
			out := ws[l.pixel(cb, y, 0):]
			in := src[c0*plane+y*l.w:]
			for x := 0; x < l.w; x++ {
				px := out[x*l.b : x*l.b+n]
				for i := range px {
					px[i] = in[i*plane+x]
				}
			}
		}
	}
}

// unpackOutput copies the interior of layout l to dst in C,H,W order.
func unpackOutput(dst []float32, ws []float32, l layout) {
	for c := 0; c < l.c; c++ {
		for y := 0; y < l.h; y++ {
			row := dst[(c*l.h+y)*l.w : (c*l.h+y+1)*l.w]
			i := l.at(c, y, 0)
			for x := range row {
				row[x] = ws[i+l.b*x]
			}
		}
	}
}

// actKind is an activation: its row of acgen's act table (0 none; act,
// generated, switches on it), its parameter, and whether f(0) != 0, so
// that the padded lanes must be set back to zero.
type actKind struct {
	k    int
	p    float32
	mask bool
}

// maskLanes zeroes the padded lanes of out's last channel block in rows
// lo to hi-1, which an activation with f(0) != 0 has written.
func maskLanes(ws []float32, out layout, a actKind, lo, hi int) {
	if !a.mask || out.c%out.b == 0 {
		return
	}
	cb := out.cb() - 1
	for y := lo; y < hi; y++ {
		for x := 0; x < out.w; x++ {
			o := out.pixel(cb, y, x)
			for l := out.c % out.b; l < out.b; l++ {
				ws[o+l] = 0
			}
		}
	}
}

// forPixels calls f with the index of lane 0 of every interior pixel of
// rows lo to hi-1 of in and out, two layouts of the same shape.
func forPixels(in, out layout, lo, hi int, f func(i, o int)) {
	for cb := 0; cb < out.cb(); cb++ {
		for y := lo; y < hi; y++ {
			i, o := in.pixel(cb, y, 0), out.pixel(cb, y, 0)
			for x := 0; x < out.w; x++ {
				f(i+out.b*x, o+out.b*x)
			}
		}
	}
}

// The elementwise helpers below compute output rows lo to hi-1 (of every
// channel block), as their assembly kernels do, so that goroutines can
// share a step.

// activation applies kind to every value of in, writing out.
func activation(ws []float32, in, out layout, kind actKind, lo, hi int) {
	forPixels(in, out, lo, hi, func(i, o int) {
		for l := 0; l < out.b; l++ {
			ws[o+l] = act(ws[i+l], kind)
		}
	})
	maskLanes(ws, out, kind, lo, hi)
}

// mul scales every channel c of in by s's value c (s is C x 1 x 1), then
// applies kind; padded lanes are 0 in both.
func mul(ws []float32, in, s, out layout, kind actKind, lo, hi int) {
	for cb := 0; cb < out.cb(); cb++ {
		sv := ws[s.pixel(cb, 0, 0) : s.pixel(cb, 0, 0)+out.b]
		for y := lo; y < hi; y++ {
			for x := 0; x < out.w; x++ {
				i, o := in.pixel(cb, y, x), out.pixel(cb, y, x)
				for l, v := range sv {
					ws[o+l] = act(ws[i+l]*v, kind)
				}
			}
		}
	}
	maskLanes(ws, out, kind, lo, hi)
}

// mulElementwise multiplies a and b, of one shape, value by value, then
// applies kind (padded lanes are 0 in both).
func mulElementwise(ws []float32, a, b, out layout, kind actKind, lo, hi int) {
	n := out.w * out.b
	for cb := 0; cb < out.cb(); cb++ {
		for y := lo; y < hi; y++ {
			i, j, o := a.pixel(cb, y, 0), b.pixel(cb, y, 0), out.pixel(cb, y, 0)
			x, s, d := ws[i:i+n], ws[j:j+n], ws[o:o+n]
			for k := range d {
				d[k] = act(x[k]*s[k], kind)
			}
		}
	}
	maskLanes(ws, out, kind, lo, hi)
}

// add sums the inputs into out, then applies kind.
func add(ws []float32, ins []layout, out layout, kind actKind, lo, hi int) {
	for cb := 0; cb < out.cb(); cb++ {
		for y := lo; y < hi; y++ {
			for x := 0; x < out.w; x++ {
				o := out.pixel(cb, y, x)
				for l := 0; l < out.b; l++ {
					var s float32
					for _, in := range ins {
						s += ws[in.pixel(cb, y, x)+l]
					}
					ws[o+l] = act(s, kind)
				}
			}
		}
	}
	maskLanes(ws, out, kind, lo, hi)
}

// affine computes x*scale[c]+shift[c], then kind. Padded lanes have
// scale and shift 0, so they stay 0.
func affine(ws []float32, in, out layout, scale, shift []float32, kind actKind, lo, hi int) {
	for cb := 0; cb < out.cb(); cb++ {
		for y := lo; y < hi; y++ {
			for x := 0; x < out.w; x++ {
				i, o := in.pixel(cb, y, x), out.pixel(cb, y, x)
				for l := 0; l < out.b; l++ {
					ws[o+l] = act(ws[i+l]*scale[cb*out.b+l]+shift[cb*out.b+l], kind)
				}
			}
		}
	}
	maskLanes(ws, out, kind, lo, hi)
}

// concat copies each input's channels after the previous ones'.
func concat(ws []float32, ins []layout, out layout) {
	c0 := 0
	for _, in := range ins {
		for c := 0; c < in.c; c++ {
			for y := 0; y < in.h; y++ {
				for x := 0; x < in.w; x++ {
					ws[out.at(c0+c, y, x)] = ws[in.at(c, y, x)]
				}
			}
		}
		c0 += in.c
	}
}

// gather copies in's channels ch to out's: out's channel j is in's
// channel ch[j] (a split's output, a channel shuffle).
func gather(ws []float32, in, out layout, ch []int) {
	var src [maxBlock]int // where each lane of an output block reads, from pixel (0, 0)
	for cb := 0; cb < out.cb(); cb++ {
		lanes := min(out.b, out.c-cb*out.b)
		for l := 0; l < lanes; l++ {
			c := ch[cb*out.b+l]
			src[l] = in.pixel(c/in.b, 0, 0) + c%in.b
		}
		for y := 0; y < out.h; y++ {
			o := out.pixel(cb, y, 0)
			for x := 0; x < out.w; x++ {
				d := ws[o+x*out.b : o+x*out.b+lanes]
				off := y*in.row() + x*in.b
				for l := range d {
					d[l] = ws[src[l]+off]
				}
			}
		}
	}
}

// flatten reorders C,H,W into C*H*W channels of 1x1.
func flatten(ws []float32, in, out layout) {
	for c := 0; c < in.c; c++ {
		for y := 0; y < in.h; y++ {
			for x := 0; x < in.w; x++ {
				ws[out.at((c*in.h+y)*in.w+x, 0, 0)] = ws[in.at(c, y, x)]
			}
		}
	}
}

// globalAvgPool averages each channel's interior.
func globalAvgPool(ws []float32, in, out layout) {
	inv := 1 / float32(in.h*in.w)
	for cb := 0; cb < in.cb(); cb++ {
		var buf [maxBlock]float32
		s := buf[:in.b]
		for y := 0; y < in.h; y++ {
			for x := 0; x < in.w; x++ {
				i := in.pixel(cb, y, x)
				for l := range s {
					s[l] += ws[i+l]
				}
			}
		}
		o := out.pixel(cb, 0, 0)
		for l := range s {
			ws[o+l] = s[l] * inv
		}
	}
}

// linear computes out = W x + b over the interior of in, in blocked
// order; w holds one row of k floats per output, matching that order.
// It reads the real channels only: a padded lane holds 0, or NaN after a
// NaN arose in the network, and 0 * NaN would poison later calls.
func linear(ws []float32, in, out layout, w, bias []float32, k int, kind actKind) {
	for o := 0; o < out.c; o++ {
		row := w[o*k : (o+1)*k]
		s := bias[o]
		j := 0
		for cb := 0; cb < in.cb(); cb++ {
			lanes := min(in.b, in.c-cb*in.b)
			for y := 0; y < in.h; y++ {
				x := ws[in.pixel(cb, y, 0) : in.pixel(cb, y, 0)+in.w*in.b]
				r := row[j : j+len(x)]
				if lanes == in.b {
					for i, v := range x {
						s += r[i] * v
					}
				} else {
					for p := 0; p < len(x); p += in.b {
						for l := p; l < p+lanes; l++ {
							s += r[l] * x[l]
						}
					}
				}
				j += len(x)
			}
		}
		ws[out.at(o, 0, 0)] = act(s, kind)
	}
}
