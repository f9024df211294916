package asm

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// depthwise builds the kernel of a Depthwise convolution step: each lane
// is its own channel, so per tap one weight vector multiplies the input
// vectors of npx pixels lane by lane (the input is the FMA's memory
// operand).
func depthwise(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(ctx, name, t, s)
	c := s.Conv
	k.build(func(t plan.OCTile, npx int, _ icPass) {
		acc := func(_, p int) reg.VecPhysical { return k.vec[p] }
		wv, spare := k.vec[npx], k.vec[npx+1]
		if npx+2 > len(ymm) {
			panic("asm: depthwise tile too wide") // plan keeps Pixels <= 12
		}
		ctx.MOVQ(k.tBias, biasP)
		for p := 0; p < npx; p++ {
			ctx.VMOVUPS(mem(biasP, 0), acc(0, p))
		}
		ctx.MOVQ(k.tW, icW)
		for ky := 0; ky < c.KH; ky++ {
			for kx := 0; kx < c.KW; kx++ {
				ctx.VMOVUPS(mem(icW, (ky*c.KW+kx)*c.DepthwiseRow()*f32), wv)
				tap := ky*c.DilH*k.inRow + kx*c.DilW*k.blk*f32
				for p := 0; p < npx; p++ {
					ctx.VFMADD231PS(mem(pxIn, tap+k.inPx(p)), wv, acc(0, p))
				}
			}
		}
		k.epilogue(1, npx, acc, [2]reg.VecPhysical{wv, spare})
	})
}
