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
func maxPool(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(ctx, name, t, s)
	c := s.Conv
	k.build(func(t plan.OCTile, npx int) {
		for p := 0; p < npx; p++ {
			acc := k.vec[p]
			for ky := 0; ky < c.KH; ky++ {
				for kx := 0; kx < c.KW; kx++ {
					src := mem(pxIn, ky*k.inRow+kx*k.blk*f32+p*c.StrideW*k.blk*f32)
					if ky == 0 && kx == 0 {
						ctx.VMOVUPS(src, acc)
					} else {
						ctx.VMAXPS(src, acc, acc)
					}
				}
			}
		}
		k.epilogue(1, npx, func(_, p int) reg.VecPhysical { return k.vec[p] }, [2]reg.VecPhysical{k.vec[14], k.vec[15]})
	})
}
