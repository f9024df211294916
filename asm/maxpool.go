package asm

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// maxPool builds the kernel of a max pooling step that has a window
// geometry (see plan: its halo may be zero). Each pixel's accumulator
// starts at the window's first tap and takes the maximum with the rest.
// A NaN anywhere in the window makes the result NaN, as in Go's max and
// PyTorch: VMAXPS returns its first Go operand when either input is NaN,
// so the maximum is taken both ways round and the two OR'ed together
// (equal unless one is NaN, and a NaN OR'ed with anything is a NaN).
func maxPool(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(ctx, name, t, s)
	c := s.Conv
	if c.Pixels > 12 {
		panic("asm: max pooling tile too wide") // plan keeps Pixels <= 12; 12 and 13 hold a tap and a max
	}
	x, both := k.vec[12], k.vec[13]
	k.build(func(t plan.OCTile, npx int, _ icPass) {
		for p := 0; p < npx; p++ {
			acc := k.vec[p]
			for ky := 0; ky < c.KH; ky++ {
				for kx := 0; kx < c.KW; kx++ {
					src := mem(pxIn, ky*c.DilH*k.inRow+kx*c.DilW*k.blk*f32+k.inPx(p))
					if ky == 0 && kx == 0 {
						ctx.VMOVUPS(src, acc)
						continue
					}
					ctx.VMOVUPS(src, x)
					ctx.VMAXPS(acc, x, both) // NaN if acc is
					ctx.VMAXPS(x, acc, acc)  // NaN if x is
					k.or(both, acc)
				}
			}
		}
		k.epilogue(1, npx, func(_, p int) reg.VecPhysical { return k.vec[p] }, [2]reg.VecPhysical{k.vec[14], k.vec[15]})
	})
}
