package neon

import (
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// maxPool builds the kernel of a max pooling step that has a window
// geometry (see plan: its halo may be zero). Each pixel's accumulator
// starts at the window's first tap and takes the maximum with the rest.
// FMAX returns NaN when either input is NaN, so a NaN anywhere in the
// window makes the result NaN, as in Go's max and PyTorch.
func maxPool(f *a64.File, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(t, s)
	c := s.Conv
	if 2*c.Pixels+3 > 32 {
		panic("neon: max pooling tile too wide") // plan keeps Pixels <= 12
	}
	k.build(f, name, func(_ plan.OCTile, npx int, _ icPass) {
		fn := k.fn
		acc := func(_, p int) a64.Vec { return vreg(p) }
		x := func(p int) a64.Vec { return vreg(npx + p) }
		var free []int
		for r := npx; r < 32; r++ {
			free = append(free, r)
		}
		fn.MOVD(pxIn, tmp)
		for ky := 0; ky < c.KH; ky++ {
			for kx := 0; kx < c.KW; kx++ {
				for p := 0; p < npx; p++ {
					src := qmem(fn, tmp, kx*c.DilW*vb+k.inPx(p), tmp2)
					if ky == 0 && kx == 0 {
						fn.FMOVQ(src, acc(0, p).V)
						continue
					}
					fn.FMOVQ(src, x(p).V)
					fn.VFMAX(x(p), acc(0, p), acc(0, p))
				}
			}
			if ky < c.KH-1 {
				fn.ADD(inStride, tmp, tmp)
			}
		}
		k.epilogue(1, npx, acc, free)
	})
}
