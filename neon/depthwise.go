package neon

import (
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// depthwise builds the kernel of a Depthwise convolution step: each lane
// is its own channel, so per tap one weight vector multiplies the input
// vectors of npx pixels lane by lane.
func depthwise(f *a64.File, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(t, s)
	c := s.Conv
	if 2*c.Pixels+1 > 32 {
		panic("neon: depthwise tile too wide") // plan keeps Pixels <= 12
	}
	k.build(f, name, func(_ plan.OCTile, npx int, _ icPass) {
		fn := k.fn
		acc := func(_, p int) a64.Vec { return vreg(p) }
		wv := vreg(npx)
		x := func(p int) a64.Vec { return vreg(npx + 1 + p) }
		var free []int
		for r := npx; r < 32; r++ {
			free = append(free, r)
		}
		fn.FMOVQ(a64.M(tBias, 0), acc(0, 0).V)
		for p := 1; p < npx; p++ {
			fn.VMOV(acc(0, 0).V.B16(), acc(0, p).V.B16())
		}
		// The weights of tap i are i rows of DepthwiseRow floats on.
		fn.MOVD(tW, icW)
		fn.MOVD(pxIn, tmp)
		for ky := 0; ky < c.KH; ky++ {
			for kx := 0; kx < c.KW; kx++ {
				fn.FMOVQ(a64.M(icW, 0), wv.V)
				addImm(fn, c.DepthwiseRow()*f32, icW, icW)
				for p := 0; p < npx; p++ {
					fn.FMOVQ(qmem(fn, tmp, kx*c.DilW*vb+k.inPx(p), tmp2), x(p).V)
				}
				for p := 0; p < npx; p++ {
					fn.VFMLA(x(p), wv, acc(0, p))
				}
			}
			if ky < c.KH-1 {
				fn.ADD(inStride, tmp, tmp)
			}
		}
		k.epilogue(1, npx, acc, free)
	})
}
